"""Team figures (bot/reports.py) against hand-built rows, on SQLite and PostgreSQL, with exact numbers.

Business hours in these tests: Monday to Friday 09:00-17:00 UTC; default targets (normal 4h, urgent
15m), escalation at twice the target. 2026-11-23 is a Monday.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.reports.figures import (
    Period,
    PeriodError,
    figures,
    local_day,
    nearest_rank,
    parse_period,
    today_so_far,
    yesterday,
)
from bot.reports.service_level import ServiceLevel
from bot.sla.policy import parse_sla_config
from bot.store.database import Store
from bot.store.models import Conversation, Customer, Direction, Message, MessageMatch, Status
from connectors.x.rules import MENTIONS_KEY

WEEKDAYS_9_TO_5 = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
NOW = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # Wednesday
PERIOD = Period(datetime(2026, 11, 23, tzinfo=UTC), NOW, "Mon to now")
_ids = itertools.count(1)


def service_level(timezone: str = "UTC", schedule: dict | None = WEEKDAYS_9_TO_5) -> ServiceLevel:
    hours = {"timezone": timezone, **({"schedule": schedule} if schedule else {})}
    return ServiceLevel.of(parse_sla_config({"business_hours": hours}))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def add_case(store: Store, *, seen: datetime, answered: datetime | None = None, status: str = Status.OPEN,
             waiting_since: datetime | None = None, resolved: datetime | None = None, priority: str = "normal",
             complaint: bool = False, assignee: str | None = None, kind: str = "mention",
             matches: tuple[str, ...] = (), text: str = "where is my order?",
             paused_since: datetime | None = None, channel: str = "C0SUPPORT") -> int:
    """One customer, one conversation and its first inbound message (created at `seen`); its id."""
    n = next(_ids)
    with store.transaction() as session:
        customer = Customer(platform="x", external_id=f"cust{n}", handle=f"user{n}", name=f"User {n}")
        session.add(customer)
        session.flush()
        conversation = Conversation(
            platform="x", kind=kind, thread_key=f"t{n}", customer_id=customer.id, status=status,
            priority=priority, complaint=complaint, assignee=assignee, channel=channel, first_seen_at=seen,
            first_response_at=answered, waiting_since=waiting_since, resolved_at=resolved,
            sla_paused_since=paused_since)
        session.add(conversation)
        session.flush()
        conversation.ref = conversation.id
        message = Message(conversation_id=conversation.id, platform="x", external_id=f"m{n}",
                          direction=Direction.INBOUND, kind=kind, text=text, author_id=f"cust{n}",
                          created_at=seen)
        session.add(message)
        session.flush()
        for name in matches:
            session.add(MessageMatch(message_id=message.id, query_name=name))
        return conversation.id


def build_week(store: Store) -> dict[str, int]:
    """The cases the expected figures below are worked out from (see each comment)."""
    return {
        # answered in 30m business / 30m calendar: a hit; a complaint answered
        "c1": add_case(store, seen=at(23, 10), answered=at(23, 10, 30), status=Status.PENDING, complaint=True,
                       matches=("acme",)),
        # first seen Friday before the period; answered Monday: 2h business (Fri 16-17, Mon 9-10), 66h calendar
        "c2": add_case(store, seen=at(20, 16), answered=at(23, 10), status=Status.RESOLVED, resolved=at(23, 11)),
        # answered after 6h business: a miss
        "c3": add_case(store, seen=at(23, 9), answered=at(23, 15), status=Status.PENDING, kind="search_hit",
                       matches=("acme", "rival")),
        # urgent, answered in 10m (target 15m): a hit; a complaint answered; resolved
        "c4": add_case(store, seen=at(24, 9), answered=at(24, 9, 10), status=Status.RESOLVED,
                       resolved=at(24, 10), priority="urgent", complaint=True),
        # unanswered since Wed 09:00, 7h business at NOW > 4h: overdue and a miss; an unanswered complaint
        "c5": add_case(store, seen=at(25, 9), waiting_since=at(25, 9), complaint=True, matches=("rival",)),
        # unanswered since Wed 15:00 (1h): open, not overdue, not judged yet
        "c6": add_case(store, seen=at(25, 15), waiting_since=at(25, 15), kind="search_hit"),
        # waiting since before the period: overdue (escalated), the oldest waiting, not a miss of this period
        "c7": add_case(store, seen=at(19, 10), waiting_since=at(19, 10), assignee="U0AGENT", matches=("acme",),
                       text="still nothing after a week"),
        # answered last week, a follow-up since Wed 10:00 (6h > 4h next-response target): overdue, not a miss
        "c8": add_case(store, seen=at(20, 9), answered=at(20, 9, 30), waiting_since=at(25, 10), kind="dm"),
        # snoozed while waiting: paused, neither open nor overdue
        "c9": add_case(store, seen=at(25, 9), status=Status.SNOOZED, waiting_since=at(25, 9),
                       paused_since=at(25, 9, 30), kind="dm"),
        # a complaint resolved without a reply (spam): resolved, never judged for SLA
        "c10": add_case(store, seen=at(24, 12), status=Status.RESOLVED, resolved=at(24, 13), complaint=True,
                        kind="dm"),
    }


def test_figures_for_a_period_match_the_hand_worked_numbers(store):
    cases = build_week(store)
    with store.transaction() as session:
        f = figures(session, PERIOD, service_level(), NOW)

    assert f.period_label == "Mon to now"
    assert f.new_conversations == 7  # c1 c3 c4 c5 c6 c9 c10
    assert f.answered == 4  # c1 c2 c3 c4
    assert f.resolved == 3  # c2 c4 c10
    assert f.open == 4  # c5 c6 c7 c8
    assert f.overdue == 3  # c5 c7 c8
    # business [10m, 30m, 2h, 6h]; calendar [10m, 30m, 6h, 66h]; nearest rank 2 (median) and 4 (p90)
    assert f.median_first_response_business == timedelta(minutes=30)
    assert f.p90_first_response_business == timedelta(hours=6)
    assert f.median_first_response_calendar == timedelta(minutes=30)
    assert f.p90_first_response_calendar == timedelta(hours=66)
    assert f.sla_compliance_pct == pytest.approx(60.0)  # hits c1 c2 c4; misses c3 c5
    assert f.complaint_response_rate_pct == pytest.approx(50.0)  # c1 c4 of c1 c4 c5 c10
    assert f.oldest_waiting is not None and f.oldest_waiting.ref == cases["c7"]
    assert f.oldest_waiting.snippet == "still nothing after a week"
    assert f.oldest_waiting.sla is not None and f.oldest_waiting.sla.state == "escalated"
    # matches: c1 c3 c5 messages are in the period (c7's is not); mentions in the period: c1 c4 c5
    assert f.share_of_voice == {"acme": 2, "rival": 2, MENTIONS_KEY: 3}


def test_an_empty_period_has_no_rates_rather_than_zero(store):
    build_week(store)
    quiet = Period(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC), "1 Oct")
    with store.transaction() as session:
        f = figures(session, quiet, service_level(), NOW)
    assert (f.new_conversations, f.answered, f.resolved) == (0, 0, 0)
    assert f.median_first_response_business is None and f.p90_first_response_calendar is None
    assert f.sla_compliance_pct is None and f.complaint_response_rate_pct is None
    assert f.share_of_voice == {}
    assert (f.open, f.overdue) == (4, 3)  # "now" figures do not depend on the period


def test_a_later_now_turns_a_waiting_case_into_a_miss(store):
    add_case(store, seen=at(25, 15), waiting_since=at(25, 15))  # 2h business left at 16:00 (closes 17:00)
    add_case(store, seen=at(25, 9), answered=at(25, 9, 5), status=Status.PENDING)
    period = Period(at(25, 0), at(26, 0), "Wednesday")
    with store.transaction() as session:
        before = figures(session, period, service_level(), NOW)
        # Thursday 12:00: 2h Wed + 3h Thu = 5h business > 4h
        after = figures(session, period, service_level(), at(26, 12))
    assert (before.sla_compliance_pct, before.overdue) == (100.0, 0)
    assert (after.sla_compliance_pct, after.overdue) == (50.0, 1)


def test_nearest_rank_percentiles():
    values = [timedelta(minutes=m) for m in (5, 1, 4, 2, 3)]
    assert nearest_rank(values, 50) == timedelta(minutes=3)
    assert nearest_rank(values, 90) == timedelta(minutes=5)
    assert nearest_rank(values, 20) == timedelta(minutes=1)
    assert nearest_rank(values[:4], 50) == timedelta(minutes=2)  # the lower middle for an even count
    assert nearest_rank([timedelta(seconds=7)], 90) == timedelta(seconds=7)
    assert nearest_rank([], 50) is None


@pytest.mark.parametrize(("text", "length", "label"), [
    ("", timedelta(days=7), "Last 7 days"),
    ("7d", timedelta(days=7), "Last 7 days"),
    (" 30D ", timedelta(days=30), "Last 30 days"),
    ("24 h", timedelta(hours=24), "Last 24 hours"),
])
def test_parse_period(text, length, label):
    period = parse_period(text, NOW)
    assert (period.start, period.end, period.label) == (NOW - length, NOW, label)


@pytest.mark.parametrize("text", ["2w", "7", "yesterday", "-7d", "7d 30d"])
def test_unknown_periods_are_refused_with_the_choices(text):
    with pytest.raises(PeriodError) as error:
        parse_period(text, NOW)
    message = str(error.value)
    assert f"`{text}`" in message and "`24h`, `7d`, `30d`" in message


def test_local_days_follow_the_time_zone_and_dst():
    madrid = ZoneInfo("Europe/Madrid")
    dst_end = local_day(datetime(2026, 10, 25).date(), madrid, "")
    assert dst_end.start == datetime(2026, 10, 24, 22, tzinfo=UTC)
    assert dst_end.end - dst_end.start == timedelta(hours=25)
    # 00:30 in Madrid on the 25th is still the 24th in UTC; "yesterday" is the Madrid 24th
    now = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    day = yesterday(now, madrid)
    assert (day.start, day.end) == (datetime(2026, 11, 23, 23, tzinfo=UTC), datetime(2026, 11, 24, 23, tzinfo=UTC))
    assert day.label == "Yesterday, Tue 24 Nov"
    today = today_so_far(now, madrid)
    assert (today.start, today.end) == (datetime(2026, 11, 24, 23, tzinfo=UTC), now)
