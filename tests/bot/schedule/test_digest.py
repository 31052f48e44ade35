"""The daily digest job against the Slack emulator: at/after the local digest time only, once per local
day across job objects (a restart), DMs to managers (groups expanded) and the digest channel, and the
content is exactly yesterday's figures from the database. Time is passed in, never waited for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlmodel import select

from bot.cards import digest
from bot.reports.figures import figures, yesterday
from bot.schedule.digest import DigestJob
from bot.store.database import Store
from bot.store.models import Claim, Status
from sandbox.emulators.slack_api import SlackEmulator
from tests.bot.reports.test_figures import add_case, service_level

MADRID = ZoneInfo("Europe/Madrid")
NINE_MADRID = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 09:00 CET
DIGEST_CHANNEL = "C0MANAGERS"


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator()
    for user in ("U0MGR1", "U0MGR2", "U0MGR3"):
        emulator.add_user(user, user.lower())
    emulator.add_usergroup("S0LEADS", ["U0MGR2", "U0MGR1"])
    emulator.add_channel("managers", id=DIGEST_CHANNEL)
    with emulator:
        yield emulator


def make_job(store: Store, slack: SlackEmulator, *, managers: str | None = "U0MGR1 S0LEADS",
             channel: str | None = DIGEST_CHANNEL) -> DigestJob:
    client = WebClient(token=SlackEmulator.TOKEN, base_url=slack.base_url + "/api/")
    return DigestJob(store, service_level("Europe/Madrid", schedule=None), client, managers=managers,
                     channel=channel, at="09:00")


def dm_of(slack: SlackEmulator, user: str) -> str:
    return next(c.id for c in slack.channels.values() if c.is_im and c.user == user)


def digest_claims(store: Store) -> list[str]:
    with store.transaction() as session:
        return sorted(session.exec(select(Claim.key).where(Claim.key.startswith("digest:"))).all())


def test_the_digest_waits_for_the_local_time_then_fires_once_a_day_across_restarts(store, slack):
    job = make_job(store, slack)
    assert job.run(NINE_MADRID - timedelta(minutes=1)) is None  # 08:59 in Madrid
    assert slack.posts() == [] and digest_claims(store) == []

    sent = job.run(NINE_MADRID)
    assert sent is not None and sent.day == "2026-11-25" and sent.failed == []
    # U0MGR1 is named and in the group: one DM each, not two
    assert sorted(sent.delivered) == sorted([dm_of(slack, "U0MGR1"), dm_of(slack, "U0MGR2"), DIGEST_CHANNEL])
    assert len(slack.posts()) == 3

    assert job.run(NINE_MADRID + timedelta(minutes=1)) is None
    restarted = make_job(store, slack)  # a new process: only the claim row remembers
    assert restarted.run(NINE_MADRID + timedelta(hours=14, minutes=59)) is None  # 23:59 in Madrid
    assert len(slack.posts()) == 3

    next_day = NINE_MADRID + timedelta(days=1)
    assert restarted.run(next_day - timedelta(seconds=1)) is None
    again = restarted.run(next_day + timedelta(hours=3))  # after the time counts too
    assert again is not None and again.day == "2026-11-26"
    assert len(slack.posts()) == 6
    assert digest_claims(store) == ["digest:2026-11-25", "digest:2026-11-26"]


def test_the_digest_shows_yesterdays_figures_from_the_database(store, slack):
    # Madrid's 24 November is [23 Nov 23:00, 24 Nov 23:00) UTC; 24/7 business hours here.
    add_case(store, seen=datetime(2026, 11, 24, 10, tzinfo=UTC), answered=datetime(2026, 11, 24, 10, 20, tzinfo=UTC),
             status=Status.RESOLVED, resolved=datetime(2026, 11, 24, 11, tzinfo=UTC))
    add_case(store, seen=datetime(2026, 11, 24, 12, tzinfo=UTC), answered=datetime(2026, 11, 24, 13, tzinfo=UTC),
             status=Status.PENDING, complaint=True)
    waiting = add_case(store, seen=datetime(2026, 11, 25, 7, tzinfo=UTC),
                       waiting_since=datetime(2026, 11, 25, 7, tzinfo=UTC))
    job = make_job(store, slack, managers="U0MGR3", channel=None)

    sent = job.run(NINE_MADRID)

    with store.transaction() as session:
        expected = figures(session, yesterday(NINE_MADRID, MADRID), job.service_level, NINE_MADRID)
    assert sent is not None and sent.figures == expected
    assert (expected.answered, expected.new_conversations, expected.resolved, expected.open) == (2, 2, 1, 1)
    assert expected.median_first_response_calendar == timedelta(minutes=20)
    assert expected.p90_first_response_calendar == timedelta(hours=1)
    assert (expected.sla_compliance_pct, expected.complaint_response_rate_pct) == (100.0, 100.0)
    assert expected.oldest_waiting is not None and expected.oldest_waiting.ref == waiting

    [post] = slack.posts(dm_of(slack, "U0MGR3"))
    shown = digest(expected, now=NINE_MADRID)
    assert post.blocks == shown.blocks and post.text == shown.text
    assert "Yesterday, Tue 24 Nov: 1 open, 0 overdue, 2 answered, SLA compliance 100%" in post.text


def test_a_failed_recipient_does_not_stop_the_others_and_is_not_retried(store, slack):
    job = make_job(store, slack, managers="U0MGR1 U0MGR3 S0NOSUCH")
    slack.fail_next(r"conversations\.open", 200, body={"ok": False, "error": "user_not_found"})

    sent = job.run(NINE_MADRID)

    assert sent is not None
    assert len(sent.failed) == 2 and "S0NOSUCH" in sent.failed  # one of the users, and the unknown group
    assert len(sent.delivered) == 2 and DIGEST_CHANNEL in sent.delivered
    assert len(slack.posts()) == 2
    assert job.run(NINE_MADRID + timedelta(minutes=1)) is None  # at most once: the day is claimed
    assert len(slack.posts()) == 2


def test_without_managers_or_channel_nothing_is_claimed(store, slack):
    job = make_job(store, slack, managers=None, channel=None)
    assert job.run(NINE_MADRID) is None
    assert digest_claims(store) == [] and slack.posts() == []
