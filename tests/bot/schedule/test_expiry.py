"""The daily token-expiry warning against the Slack emulator, with connectors that report their expiry
through the contract's neutral hook: within a week only, once per network per UTC day (across job
objects, i.e. restarts), to each manager's DM and the digest channel. Time is passed in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.schedule.expiry import TokenExpiryJob
from bot.store.database import Store
from connectors.base import CredentialExpiry
from connectors.testing import FakeConnector, mastodon_rules
from sandbox.emulators.slack_api import SlackEmulator

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
CHANNEL = "C0MANAGERS"


class Expiring(FakeConnector):
    """A network whose token expires at `at` (None: never)."""

    def __init__(self, at: datetime | None) -> None:
        super().__init__(mastodon_rules())
        self.at = at

    def credential_expiry(self, now: datetime) -> CredentialExpiry | None:
        return CredentialExpiry(self.at, "the Mastodon token (MASTODON_TOKEN)", "make a new one") if self.at else None


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator()
    emulator.add_user("U0MGR1", "u0mgr1")
    emulator.add_channel("managers", id=CHANNEL)
    with emulator:
        yield emulator


def job(store: Store, slack: SlackEmulator, connector: Expiring, **kw: object) -> TokenExpiryJob:
    client = WebClient(token=SlackEmulator.TOKEN, base_url=slack.base_url + "/api/")
    return TokenExpiryJob(store, [connector], client, **({"managers": "U0MGR1", "channel": CHANNEL} | kw))  # type: ignore[arg-type]


def test_a_token_expiring_within_a_week_is_announced_once_a_day(store, slack) -> None:
    network = Expiring(NOW + timedelta(days=3, hours=2))
    assert job(store, slack, network).run(NOW) == ["mastodon"]
    assert job(store, slack, network).run(NOW + timedelta(hours=5)) == []  # same day, a restarted job: nothing
    posts = slack.posts()
    assert len(posts) == 2 and {p.channel for p in posts} - {CHANNEL}  # the manager's DM and the channel
    assert all("the Mastodon token (MASTODON_TOKEN) expires in 3d 2h" in p.text and "make a new one" in p.text
               for p in posts), posts[0].text
    assert job(store, slack, network).run(NOW + timedelta(days=1)) == ["mastodon"]  # the next day, again
    assert len(slack.posts()) == 4


def test_an_expired_token_says_so_and_a_far_or_missing_expiry_says_nothing(store, slack) -> None:
    assert job(store, slack, Expiring(NOW + timedelta(days=8))).run(NOW) == []
    assert job(store, slack, Expiring(None)).run(NOW) == []
    assert job(store, slack, Expiring(NOW + timedelta(days=3)), managers=None, channel=None).run(NOW) == []
    assert slack.posts() == []
    assert job(store, slack, Expiring(NOW - timedelta(hours=1)), managers=None).run(NOW) == ["mastodon"]
    [post] = slack.posts()
    assert post.channel == CHANNEL and "has expired" in post.text and "until it is renewed" in post.text
