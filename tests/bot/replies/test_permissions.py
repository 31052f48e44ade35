"""AgentPolicy: who may send for the brand, with group membership cached briefly."""

from __future__ import annotations

import pytest

from bot.replies.permissions import AgentPolicy, parse_agents


class Groups:
    """A stand-in for Slack's usergroups.users.list that counts its calls."""

    def __init__(self, members: dict[str, set[str]]) -> None:
        self.members = members
        self.calls: list[str] = []

    def __call__(self, group: str) -> set[str]:
        self.calls.append(group)
        return set(self.members.get(group, set()))


def test_unset_means_everyone_may_send_and_slack_is_not_asked() -> None:
    groups = Groups({})
    policy = AgentPolicy(parse_agents(None), groups)
    assert policy.may_send("U_ANYONE") and AgentPolicy(parse_agents("  "), groups).may_send("U_ANYONE")
    assert groups.calls == []


def test_listed_users_and_group_members_may_send_others_may_not() -> None:
    groups = Groups({"S_SUPPORT": {"U_ANA"}})
    policy = AgentPolicy(parse_agents("U_BOSS, S_SUPPORT"), groups)
    assert policy.may_send("U_BOSS")
    assert groups.calls == []  # a listed user needs no lookup
    assert policy.may_send("U_ANA")
    assert not policy.may_send("U_EVE")


def test_group_membership_is_cached_for_the_ttl_then_asked_again() -> None:
    now = [1000.0]
    groups = Groups({"S_SUPPORT": {"U_ANA"}})
    policy = AgentPolicy(frozenset({"S_SUPPORT"}), groups, ttl=300, clock=lambda: now[0])

    assert policy.may_send("U_ANA") and not policy.may_send("U_BOB")
    assert groups.calls == ["S_SUPPORT"]

    groups.members["S_SUPPORT"] = {"U_BOB"}  # changed in Slack
    now[0] += 299
    assert policy.may_send("U_ANA")  # still the cached answer
    now[0] += 2
    assert policy.may_send("U_BOB") and not policy.may_send("U_ANA")
    assert groups.calls == ["S_SUPPORT", "S_SUPPORT"]
    policy.forget()
    policy.may_send("U_BOB")
    assert len(groups.calls) == 3


def test_a_failing_lookup_refuses_by_raising_rather_than_allowing() -> None:
    def broken(_group: str) -> set[str]:
        raise ConnectionError("slack down")

    policy = AgentPolicy(frozenset({"S_SUPPORT", "U_BOSS"}), broken)
    assert policy.may_send("U_BOSS")
    with pytest.raises(ConnectionError):
        policy.may_send("U_ANA")


def test_parse_agents_accepts_commas_spaces_and_pasted_mentions() -> None:
    assert parse_agents("U1,U2  S3\n<@U4> <!subteam^S5|@support> <@U6|ana>") == {"U1", "U2", "S3", "U4", "S5", "U6"}
