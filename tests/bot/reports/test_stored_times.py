"""Stored first-response and resolution times (revision 0010; bot/reports/first_times.py and
resolved_times.py) on SQLite and PostgreSQL: backfilled by the revision, measured again when the
business hours change or the case is resolved again, and judged against today's targets in SQL
exactly as `SlaConfig.targets` judges them in Python.

Business hours here: Monday to Friday 09:00-17:00 UTC (tests/bot/reports/test_figures.py); 2026-11-23
is a Monday.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.reports.first_times import first_responses
from bot.reports.resolved_times import median_resolution
from bot.reports.service_level import ServiceLevel
from bot.sla.measured import ALWAYS_OPEN
from bot.sla.policy import parse_sla_config
from bot.store.database import Store, make_engine, upgrade
from bot.store.models import Conversation, Status, UTCDateTime
from tests.bot.reports.test_figures import add_case, at, service_level

H = timedelta(hours=1)
START, END = datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 28, tzinfo=UTC)
ALWAYS = ServiceLevel.of(parse_sla_config({}))


def stored(store: Store, key: int) -> Conversation:
    with store.transaction() as session:
        conversation = session.get(Conversation, key)
        assert conversation is not None
        session.expunge(conversation)
        return conversation


def test_a_change_of_business_hours_measures_the_stored_times_again(store):
    # Seen Monday 16:00, answered Tuesday 10:00: 18 h in calendar time, 2 h of business time.
    key = add_case(store, seen=at(23, 16), answered=at(24, 10), status=Status.PENDING)
    with store.transaction() as session:
        always = first_responses(session, ALWAYS, START, END)
    assert (always.median_business, always.median_calendar, always.hits) == (18 * H, 18 * H, 0)
    assert stored(store, key).first_response_hours == ALWAYS_OPEN.fingerprint
    nine_to_five = service_level()
    with store.transaction() as session:
        business = first_responses(session, nine_to_five, START, END)
    assert (business.median_business, business.median_calendar, business.hits) == (2 * H, 18 * H, 1)
    row = stored(store, key)
    assert (row.first_response_business_us, row.first_response_calendar_us) == (2 * 3600 * 10**6, 18 * 3600 * 10**6)
    assert row.first_response_hours == nine_to_five.first_response_meter.fingerprint


def test_targets_are_judged_in_sql_as_the_policy_judges_them(store):
    sl = ServiceLevel.of(parse_sla_config({
        "business_hours": {"timezone": "UTC", "schedule": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed")}},
        "sla": {"first_response": {"normal": "2h", "urgent": "30m"},
                "overrides": [{"channel": "C0VIP", "first_response": {"normal": "20m"}},
                              {"platform": "x", "first_response": {"urgent": "10m", "low": "1h"}}]}}))
    answered = [(priority, channel, minutes) for priority in ("urgent", "high", "normal", "low", "odd")
                for channel in ("C0VIP", "C0SUPPORT") for minutes in (5, 15, 25, 45, 90, 150)]
    for priority, channel, minutes in answered:
        add_case(store, seen=at(24, 10), answered=at(24, 10) + timedelta(minutes=minutes), priority=priority,
                 channel=channel, status=Status.PENDING)
    expected = sum(timedelta(minutes=minutes) <= sl.config.targets(priority, "x", channel).first_response
                   for priority, channel, minutes in answered)
    with store.transaction() as session:
        figures = first_responses(session, sl, START, END)
    assert (figures.answered, figures.hits) == (len(answered), expected)
    assert 0 < expected < len(answered)


def test_a_resolution_is_measured_for_the_resolution_it_names(store):
    key = add_case(store, seen=at(23, 16), resolved=at(24, 10), status=Status.RESOLVED)
    sl = service_level()
    with store.transaction() as session:
        assert median_resolution(session, sl, START, END) == 2 * H
    assert stored(store, key).resolution_measured_for == at(24, 10)
    with store.transaction() as session:  # reopened, and resolved again on Wednesday at 12:00
        conversation = session.get_one(Conversation, key)
        conversation.resolved_at = at(25, 12)
    with store.transaction() as session:
        assert median_resolution(session, sl, START, END) == 12 * H  # Mon 1 h + Tue 8 h + Wed 3 h
    row = stored(store, key)
    assert (row.resolution_measured_for, row.resolution_business_us) == (at(25, 12), 12 * 3600 * 10**6)
    with store.transaction() as session:
        assert median_resolution(session, ALWAYS, START, END) == at(25, 12) - at(23, 16)


# --- revision 0010 on a store with data -------------------------------------------------------------
def _old_case(conn: sa.Connection, key: int, seen: datetime, answered: datetime | None,
              resolved: datetime | None) -> None:
    """A conversation as revision 0009 stored it (the tables as they were, not today's models)."""
    ts = [sa.column(name, UTCDateTime()) for name in ("first_seen_at", "first_response_at", "resolved_at",
                                                      "created_at", "updated_at")]
    conversations = sa.table("conversations", *(sa.column(n) for n in (
        "id", "platform", "kind", "thread_key", "customer_id", "query_names", "status", "priority",
        "priority_reasons", "tone", "complaint", "channel", "sla_paused_seconds")), *ts)
    conn.execute(sa.table("customers", *(sa.column(n) for n in ("id", "platform", "external_id", "handle", "name",
                                                                "verified")),
                          sa.column("created_at", UTCDateTime()), sa.column("updated_at", UTCDateTime())).insert()
                 .values(id=key, platform="x", external_id=f"c{key}", handle=f"c{key}", name="C", verified=False,
                         created_at=seen, updated_at=seen))
    conn.execute(conversations.insert().values(
        id=key, platform="x", kind="mention", thread_key=f"t{key}", customer_id=key, query_names="",
        status="resolved" if resolved else "open", priority="normal", priority_reasons="", tone="neutral",
        complaint=False, channel="C1", sla_paused_seconds=0, first_seen_at=seen, first_response_at=answered,
        resolved_at=resolved, created_at=seen, updated_at=seen))


def test_revision_0010_measures_the_cases_stored_before_it_for_24_7_hours(empty_url):
    engine = make_engine(empty_url)
    try:
        upgrade(engine, "0009")
        seen = datetime(2026, 11, 23, 16, 0, 0, 250_001, tzinfo=UTC)
        with engine.begin() as conn:
            _old_case(conn, 1, seen, seen + timedelta(hours=18, microseconds=3), seen + timedelta(days=2))
            _old_case(conn, 2, seen, None, None)
        upgrade(engine)
        store = Store(engine)
        answered, waiting = stored(store, 1), stored(store, 2)
        assert (answered.first_response_business_us, answered.first_response_calendar_us) == \
            (18 * 3600 * 10**6 + 3,) * 2
        assert answered.resolution_business_us == 2 * 86400 * 10**6
        assert answered.resolution_measured_for == seen + timedelta(days=2)
        assert answered.first_response_hours == answered.resolution_hours == ALWAYS_OPEN.fingerprint
        assert (waiting.first_response_business_us, waiting.first_response_hours, waiting.resolution_hours) == \
            (None, None, None)
        with store.transaction() as session:  # nothing to measure again: the stored times are read as they are
            assert first_responses(session, ALWAYS, START, END).median_business == \
                timedelta(hours=18, microseconds=3)
    finally:
        engine.dispose()
