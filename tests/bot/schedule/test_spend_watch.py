"""The managers' spend warning against the Slack emulator: nothing below 80%, then one message per
threshold per period (80%, 100% with searches stopped, …) to each manager and the digest channel,
never twice across ticks, a restart (a new job object) or a second replica; a new month starts over.
Spend comes from X's real meter (connectors/x/spend.py) on a memory ledger; time is passed in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.schedule.spend_watch import SpendWatch
from bot.store.database import Store
from connectors.base import Connector
from connectors.testing import FakeConnector, mastodon_rules
from connectors.usage import Usage
from connectors.x.spend import POST_URL, Spend
from sandbox.emulators.slack_api import SlackEmulator

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
CHANNEL = "C0MANAGERS"


class Billed(FakeConnector):
    """A network that bills through X's meter: $0.20 per post with a URL, a $10.00 monthly budget."""

    def __init__(self) -> None:
        super().__init__(mastodon_rules())
        self.meter = Spend(monthly_budget=10.0)
        self.posts = 0

    def spend(self, dollars: float) -> None:
        n = round(dollars / 0.2)
        self.meter.charge(POST_URL, [f"p{self.posts + i}" for i in range(n)], NOW)
        self.posts += n

    def billing(self, now: datetime) -> Usage:
        return self.meter.report(now, "X")


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator()
    emulator.add_user("U0MGR1", "mgr")
    emulator.add_channel("managers", id=CHANNEL)
    with emulator:
        yield emulator


def watch(store: Store, slack: SlackEmulator, connector: Connector, **options: object) -> SpendWatch:
    client = WebClient(token=SlackEmulator.TOKEN, base_url=slack.base_url + "/api/")
    return SpendWatch(store, client, [connector], **{"managers": "U0MGR1", "channel": CHANNEL,
                                                      **options})  # type: ignore[arg-type]


def texts(slack: SlackEmulator, channel: str = CHANNEL) -> list[str]:
    return [p.text for p in slack.posts() if p.channel == channel]


def test_warned_once_at_80_and_once_at_100_across_ticks_and_a_restart(store, slack):
    x = Billed()
    job = watch(store, slack, x)
    x.spend(7.8)
    assert job.run(NOW) == [] and slack.posts() == []  # 78%: not yet

    x.spend(0.2)  # 80%
    [warned] = job.run(NOW)
    assert warned.key == "month:2026-12:80"
    assert job.run(NOW + timedelta(minutes=1)) == []  # the next tick
    assert watch(store, slack, x).run(NOW + timedelta(minutes=2)) == []  # a restart: the claim remembers
    [eighty] = texts(slack)
    assert "80% of the monthly budget" in eighty and "Nothing has stopped yet" in eighty
    assert "this month $8.00 of $10.00" in eighty and "today $8.00" in eighty
    assert "raise X_MONTHLY_BUDGET (USD) and restart Parley" in eighty
    assert len(slack.posts()) == 2  # the manager's DM and the digest channel

    x.spend(2.0)  # 100%: searches stop
    [stopped] = watch(store, slack, x).run(NOW + timedelta(minutes=3))
    assert stopped.key == "month:2026-12:100"
    assert job.run(NOW + timedelta(minutes=4)) == []
    hundred = texts(slack)[-1]
    assert "100% of the monthly budget: searches stopped" in hundred
    assert "Stopped now: searches. Still read: own mentions, DMs" in hundred
    assert len(texts(slack)) == 2


def test_thresholds_first_seen_together_post_one_message_naming_the_highest(store, slack):
    x = Billed()
    x.spend(12.2)  # 122%: everything stopped, first seen after a restart
    [top] = watch(store, slack, x).run(NOW)
    assert top.key == "month:2026-12:120"
    [text] = texts(slack)
    assert "DMs stopped" in text and "Still read: nothing" in text
    assert watch(store, slack, x).run(NOW) == []


def test_a_new_month_warns_again(store, slack):
    x = Billed()
    x.spend(8.0)
    assert len(watch(store, slack, x).run(NOW)) == 1
    next_month = NOW.replace(month=12, day=31) + timedelta(days=1)
    x.meter.charge(POST_URL, [f"jan{i}" for i in range(40)], next_month)
    [again] = watch(store, slack, x).run(next_month)
    assert again.key == "month:2027-01:80"


def test_no_recipient_claims_nothing_and_a_network_that_bills_nothing_is_skipped(store, slack):
    x = Billed()
    x.spend(9.0)
    assert watch(store, slack, x, managers=None, channel=None).run(NOW) == []
    assert watch(store, slack, FakeConnector(mastodon_rules())).run(NOW) == []
    assert len(watch(store, slack, x).run(NOW)) == 1  # heard once someone is there to hear it
