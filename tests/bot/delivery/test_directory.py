"""The one Slack user-group expansion, against the Slack emulator: the send policy, escalations and
the digest all ask `SlackDirectory`, and each decides what a group Slack will not list means."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery.directory import SlackDirectory
from bot.replies.permissions import AgentPolicy, parse_agents
from sandbox.emulators.slack_api import SlackEmulator


@pytest.fixture
def directory() -> Iterator[SlackDirectory]:
    emulator = SlackEmulator()
    for user in ("U0A", "U0B", "U0C"):
        emulator.add_user(user, user.lower())
    emulator.add_usergroup("S0LEADS", ["U0B", "U0A"])
    with emulator:
        yield SlackDirectory(WebClient(token=SlackEmulator.TOKEN, base_url=emulator.base_url + "/api/"))


def test_group_members_asks_slack_and_raises_for_a_group_it_cannot_list(directory: SlackDirectory) -> None:
    assert sorted(directory.group_members("S0LEADS")) == ["U0A", "U0B"]
    with pytest.raises(SlackApiError):
        directory.group_members("S0NOSUCH")


def test_members_expands_groups_once_sorted_and_reports_unreadable_groups(directory: SlackDirectory) -> None:
    failed: list[str] = []
    assert directory.members(["U0C", "S0LEADS", "U0A", "S0NOSUCH"], failed) == ["U0A", "U0B", "U0C"]
    assert failed == ["S0NOSUCH"]
    assert directory.members(["S0NOSUCH", "U0C"]) == ["U0C"]  # no list given: logged only


def test_without_a_client_nothing_is_asked() -> None:
    offline = SlackDirectory(None)
    assert offline.group_members("S0LEADS") == []
    assert offline.members(["U0A", "S0LEADS"]) == ["U0A"]


def test_the_send_policy_resolves_groups_through_the_directory(directory: SlackDirectory) -> None:
    policy = AgentPolicy(parse_agents("S0LEADS"), directory.group_members)
    assert policy.may_send("U0A") and not policy.may_send("U0C")
    refusing = AgentPolicy(parse_agents("S0NOSUCH"), directory.group_members)
    with pytest.raises(SlackApiError):  # nothing is sent when we cannot tell
        refusing.may_send("U0A")
