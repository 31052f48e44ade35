"""`BusinessHours.latest_start`: the latest start of a wait that has lasted a business duration by `end`
(what the reports compare every waiting case with, bot/reports/overdue.py)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sla.hours import BusinessHours

MADRID = ZoneInfo("Europe/Madrid")
WEEKDAYS_9_TO_5 = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
OFFICE = BusinessHours.weekly("Europe/Madrid", WEEKDAYS_9_TO_5)
SCHEDULES = [
    BusinessHours.weekly("Europe/Madrid", WEEKDAYS_9_TO_5, country="ES", subdivision="MD"),
    BusinessHours.weekly("America/New_York", {"mon": ["08:30-12:00", "13:00-17:45"], "thu": ["10:00-24:00"],
                                              "fri": ["00:00-02:00"], "sun": ["01:00-03:30"]}),
    BusinessHours.weekly("Europe/Madrid", {d: ["00:00-24:00"] for d in ("sat", "sun")}),  # DST days too
    BusinessHours.always_open(),
]
MICROSECOND = timedelta(microseconds=1)
instants = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 1), timezones=st.just(UTC))


def madrid(*args: int) -> datetime:
    return datetime(*args, tzinfo=MADRID)


def test_back_over_the_night():
    assert OFFICE.latest_start(madrid(2026, 3, 3, 10), timedelta(hours=2)) == madrid(2026, 3, 2, 16)


def test_back_over_the_weekend_from_a_closed_hour():
    # Monday 08:00 (closed): 3 business hours back is Friday 14:00.
    assert OFFICE.latest_start(madrid(2026, 3, 9, 8), timedelta(hours=3)) == madrid(2026, 3, 6, 14)


def test_a_duration_ending_at_an_opening_returns_the_opening():
    # Tuesday 11:00 back 2h is Tuesday 09:00; any start in the night before has lasted 2h too.
    start = OFFICE.latest_start(madrid(2026, 3, 3, 11), timedelta(hours=2))
    assert start == madrid(2026, 3, 3, 9)
    assert OFFICE.business_time(madrid(2026, 3, 2, 20), madrid(2026, 3, 3, 11)) == timedelta(hours=2)


def test_zero_duration_and_always_open():
    end = madrid(2026, 3, 3, 11)
    assert OFFICE.latest_start(end, timedelta(0)) == end
    assert BusinessHours.always_open().latest_start(end, timedelta(hours=5)) == end - timedelta(hours=5)
    with pytest.raises(ValueError, match="negative"):
        OFFICE.latest_start(end, -MICROSECOND)


@settings(max_examples=200, deadline=None)
@given(bh=st.sampled_from(SCHEDULES), end=instants,
       duration=st.timedeltas(min_value=MICROSECOND, max_value=timedelta(hours=400)))
def test_the_latest_start_is_exact_to_the_microsecond(bh, end, duration):
    start = bh.latest_start(end, duration)
    assert bh.business_time(start, end) >= duration
    assert bh.business_time(start + MICROSECOND, end) < duration
