from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sla import hours as hours_module
from bot.sla.hours import BusinessHours, parse_span

MADRID = ZoneInfo("Europe/Madrid")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_5 = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
EVERY_DAY_9_TO_5 = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

OFFICE = BusinessHours.weekly("Europe/Madrid", WEEKDAYS_9_TO_5)
OFFICE_ES = BusinessHours.weekly("Europe/Madrid", WEEKDAYS_9_TO_5, country="ES", subdivision="MD")


def madrid(*args: int) -> datetime:
    return datetime(*args, tzinfo=MADRID)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def test_sixteen_hours_with_eight_hour_days_takes_two_business_days():
    end = OFFICE.add(madrid(2026, 3, 2, 9), hours(16))  # Monday 09:00
    assert end == madrid(2026, 3, 3, 17)
    assert end.tzinfo is UTC


def test_add_crosses_the_night_and_the_weekend():
    assert OFFICE.add(madrid(2026, 3, 2, 16), hours(2)) == madrid(2026, 3, 3, 10)  # Mon -> Tue
    assert OFFICE.add(madrid(2026, 3, 6, 16), hours(2)) == madrid(2026, 3, 9, 10)  # Fri -> Mon
    assert OFFICE.add(madrid(2026, 3, 7, 12), hours(1)) == madrid(2026, 3, 9, 10)  # from Saturday


def test_time_before_opening_and_after_closing_does_not_count():
    assert OFFICE.add(madrid(2026, 3, 2, 6), hours(1)) == madrid(2026, 3, 2, 10)
    assert OFFICE.business_seconds(madrid(2026, 3, 2, 18), madrid(2026, 3, 3, 8)) == 0
    assert OFFICE.business_seconds(madrid(2026, 3, 2, 8), madrid(2026, 3, 2, 18)) == 8 * 3600
    assert OFFICE.business_seconds(madrid(2026, 3, 6, 12), madrid(2026, 3, 9, 12)) == 8 * 3600


def test_business_seconds_is_zero_when_end_is_not_after_start():
    assert OFFICE.business_seconds(madrid(2026, 3, 2, 12), madrid(2026, 3, 2, 12)) == 0
    assert OFFICE.business_seconds(madrid(2026, 3, 2, 12), madrid(2026, 3, 2, 10)) == 0


def test_zero_duration_returns_the_start():
    assert OFFICE.add(madrid(2026, 3, 7, 12), timedelta(0)) == madrid(2026, 3, 7, 12)


def test_spanish_public_holidays_are_closed_all_day():
    # 6 January (Epiphany) is a Tuesday in 2026.
    assert not OFFICE_ES.is_open(madrid(2026, 1, 6, 12))
    assert OFFICE.is_open(madrid(2026, 1, 6, 12))
    assert OFFICE_ES.add(madrid(2026, 1, 5, 16), hours(2)) == madrid(2026, 1, 7, 10)
    assert OFFICE.add(madrid(2026, 1, 5, 16), hours(2)) == madrid(2026, 1, 6, 10)
    # In Madrid, Monday 7 and Tuesday 8 December 2026 are both holidays.
    assert OFFICE_ES.add(madrid(2026, 12, 4, 16), hours(2)) == madrid(2026, 12, 9, 10)
    assert OFFICE_ES.business_seconds(madrid(2026, 12, 4, 0), madrid(2026, 12, 10, 0)) == 16 * 3600


@pytest.mark.parametrize(("zone", "day"), [
    ("Europe/Madrid", datetime(2026, 3, 29)),
    ("Europe/Madrid", datetime(2026, 10, 25)),
    ("America/New_York", datetime(2026, 3, 8)),
    ("America/New_York", datetime(2026, 11, 1)),
])
def test_a_nine_to_five_day_is_eight_hours_on_dst_change_days(zone, day):
    tz = ZoneInfo(zone)
    bh = BusinessHours.weekly(zone, EVERY_DAY_9_TO_5)
    start, end = day.replace(tzinfo=tz), (day + timedelta(days=1)).replace(tzinfo=tz)
    assert bh.business_seconds(start, end) == 8 * 3600
    assert bh.add(day.replace(hour=9, tzinfo=tz), hours(8)) == day.replace(hour=17, tzinfo=tz)
    assert bh.add(day.replace(hour=9, tzinfo=tz), hours(8)).astimezone(tz).hour == 17


@pytest.mark.parametrize(("zone", "day", "length"), [
    ("Europe/Madrid", datetime(2026, 3, 29), 23),
    ("Europe/Madrid", datetime(2026, 10, 25), 25),
    ("America/New_York", datetime(2026, 3, 8), 23),
    ("America/New_York", datetime(2026, 11, 1), 25),
])
def test_an_all_day_schedule_follows_the_real_length_of_dst_days(zone, day, length):
    tz = ZoneInfo(zone)
    bh = BusinessHours.weekly(zone, {d: ["00:00-24:00"] for d in ("sat", "sun")})
    start, end = day.replace(tzinfo=tz), (day + timedelta(days=1)).replace(tzinfo=tz)
    assert bh.business_seconds(start, end) == length * 3600


def test_across_the_spring_dst_weekend_the_wall_clock_is_kept():
    # Friday 27 March 13:00 CET (12:00 UTC) + 8h -> Monday 30 March 13:00 CEST (11:00 UTC).
    end = OFFICE.add(madrid(2026, 3, 27, 13), hours(8))
    assert end == datetime(2026, 3, 30, 11, tzinfo=UTC)
    ny = BusinessHours.weekly("America/New_York", WEEKDAYS_9_TO_5)
    assert ny.add(datetime(2026, 10, 30, 13, tzinfo=NEW_YORK), hours(8)) == datetime(2026, 11, 2, 13, tzinfo=NEW_YORK)


def test_always_open_is_calendar_time():
    bh = BusinessHours.always_open()
    start = datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert bh.add(start, hours(30)) == start + hours(30)
    assert bh.business_seconds(start, start + hours(30)) == 30 * 3600
    assert bh.is_open(start)
    assert bh.next_open(start) == start


def test_split_days():
    bh = BusinessHours.weekly("Europe/Madrid", {"mon": ["09:00-13:00", "14:00-18:00"]})
    assert bh.add(madrid(2026, 3, 2, 12), hours(2)) == madrid(2026, 3, 2, 15)
    assert not bh.is_open(madrid(2026, 3, 2, 13, 30))
    assert bh.is_open(madrid(2026, 3, 2, 14))
    assert bh.next_open(madrid(2026, 3, 2, 13, 30)) == madrid(2026, 3, 2, 14)
    assert bh.business_seconds(madrid(2026, 3, 2), madrid(2026, 3, 3)) == 8 * 3600
    # Monday 18:00 with 1h left: next Monday 10:00.
    assert bh.add(madrid(2026, 3, 2, 17), hours(2)) == madrid(2026, 3, 9, 10)


def test_a_night_shift_runs_through_midnight():
    bh = BusinessHours.weekly("Europe/Madrid", {"sun": ["22:00-24:00"], "mon": ["00:00-06:00"]})
    assert bh.add(madrid(2026, 3, 1, 23), hours(2)) == madrid(2026, 3, 2, 1)
    assert bh.is_open(madrid(2026, 3, 1, 23, 59))
    assert bh.is_open(madrid(2026, 3, 2, 0, 0))


def test_next_open():
    assert OFFICE.next_open(madrid(2026, 3, 6, 19)) == madrid(2026, 3, 9, 9)
    assert OFFICE.next_open(madrid(2026, 3, 6, 10)) == madrid(2026, 3, 6, 10)
    assert OFFICE_ES.next_open(madrid(2026, 1, 5, 18)) == madrid(2026, 1, 7, 9)


def test_long_durations_walk_day_by_day():
    start = madrid(2026, 1, 2, 9)
    end = OFFICE_ES.add(start, hours(8 * 200))  # 200 business days
    assert OFFICE_ES.business_seconds(start, end) == 8 * 200 * 3600
    assert end.astimezone(MADRID).year == 2026 and end.astimezone(MADRID).hour == 17


def test_a_schedule_that_is_never_open_is_rejected():
    with pytest.raises(ValueError, match="never open"):
        BusinessHours.weekly("UTC", {"mon": []})


def test_the_search_for_open_time_is_capped(monkeypatch):
    monkeypatch.setattr(hours_module, "MAX_CLOSED_DAYS", 3)
    sundays_only = BusinessHours.weekly("UTC", {"sun": ["09:00-10:00"]})
    with pytest.raises(ValueError, match="closed for more than 3 days"):
        sundays_only.add(datetime(2026, 3, 2, tzinfo=UTC), hours(1))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"timezone": "Mars/Olympus", "schedule": WEEKDAYS_9_TO_5}, "not an IANA time zone"),
    ({"timezone": "UTC", "schedule": {"funday": ["09:00-17:00"]}}, "not a weekday"),
    ({"timezone": "UTC", "schedule": {"mon": ["9 to 5"]}}, "not a span"),
    ({"timezone": "UTC", "schedule": {"mon": ["17:00-09:00"]}}, "must end after it starts"),
    ({"timezone": "UTC", "schedule": {"mon": ["09:00-13:00", "12:00-18:00"]}}, "overlap"),
    ({"timezone": "UTC", "schedule": WEEKDAYS_9_TO_5, "country": "XX"}, "XX"),
    ({"timezone": "UTC", "schedule": WEEKDAYS_9_TO_5, "country": "ES", "subdivision": "ZZ"}, "ZZ"),
])
def test_bad_definitions_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BusinessHours.weekly(**kwargs)


def test_spans_accept_times_and_midnight():
    assert parse_span((time(9), time(17, 30))) == (540, 1050)
    assert parse_span("22:00-24:00") == (1320, 1440)
    assert parse_span(("22:00", "00:00")) == (1320, 1440)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        OFFICE.is_open(datetime(2026, 3, 2, 12))


SCHEDULES = [
    OFFICE_ES,
    BusinessHours.weekly("America/New_York", {"mon": ["08:30-12:00", "13:00-17:45"], "thu": ["10:00-24:00"],
                                              "fri": ["00:00-02:00"], "sun": ["01:00-03:30"]}),
    BusinessHours.weekly("Europe/Madrid", EVERY_DAY_9_TO_5),
    BusinessHours.always_open(),
]
instants = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 1), timezones=st.just(UTC))


@settings(max_examples=150, deadline=None)
@given(bh=st.sampled_from(SCHEDULES), start=instants,
       duration=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=300)))
def test_business_seconds_inverts_add(bh, start, duration):
    end = bh.add(start, duration)
    assert end >= start
    assert bh.business_time(start, end) == duration
    assert bh.business_seconds(start, end) == duration.total_seconds()


@settings(max_examples=150, deadline=None)
@given(bh=st.sampled_from(SCHEDULES), a=instants, b=instants, c=instants)
def test_business_time_is_additive(bh, a, b, c):
    a, b, c = sorted((a, b, c))
    assert bh.business_time(a, c) == bh.business_time(a, b) + bh.business_time(b, c)
    assert bh.business_time(a, c) <= c - a
