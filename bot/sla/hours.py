"""Business hours: when the SLA clock runs.

A `BusinessHours` is a time zone, a weekly schedule of local wall-clock spans (split days and closed
days allowed) and optionally the public holidays of one country/subdivision (closed all day). Spans
are turned into UTC instants per local date with zoneinfo, so a 09:00-17:00 day is 8 business hours
on both DST-change days, and an all-day span is 23 or 25 hours on those days.

`always_open()` (the default) is 24/7: business time equals calendar time.

Arithmetic walks day by day (never second by second); a search that finds no open time within
`MAX_CLOSED_DAYS` consecutive days raises ValueError. Every datetime returned is aware UTC.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

MAX_CLOSED_DAYS = 400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_MINUTES = 24 * 60
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Span = tuple[int, int]  # local minutes since midnight, start < end <= 1440 (24:00)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; ValueError with a clear message when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"{name!r} is not an IANA time zone name like Europe/Madrid or UTC") from None


def weekday_index(name: str) -> int:
    """'mon'/'monday' (any case) -> 0 … 'sun' -> 6; ValueError otherwise."""
    key = name.strip().lower()
    if key in WEEKDAYS:
        return WEEKDAYS.index(key)
    if key in _FULL_NAMES:
        return _FULL_NAMES.index(key)
    raise ValueError(f"{name!r} is not a weekday; use {', '.join(WEEKDAYS)}")


def parse_span(value: str | Sequence[Any]) -> Span:
    """'09:00-17:00', ('09:00', '17:00') or (time(9), time(17)) -> (540, 1020). '24:00' ends a day."""
    if isinstance(value, str):
        match = _SPAN.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a span like 09:00-17:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = _minutes(h1, m1, value), _minutes(h2, m2, value)
    elif isinstance(value, Sequence) and len(value) == 2:
        start, end = (_time_minutes(v, value) for v in value)
    else:
        raise ValueError(f"{value!r} is not a span like 09:00-17:00")
    if end == 0 and start > 0:
        end = _DAY_MINUTES  # (22:00, 00:00) means until midnight
    if not start < end:
        raise ValueError(f"{value!r}: a span must end after it starts (use 24:00 for midnight)")
    return start, end


def _minutes(hour: int, minute: int, whole: object) -> int:
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise ValueError(f"{whole!r} has an invalid time of day")
    return hour * 60 + minute


def _time_minutes(value: Any, whole: object) -> int:
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(value))
    if not match:
        raise ValueError(f"{whole!r} is not a span like 09:00-17:00")
    return _minutes(int(match.group(1)), int(match.group(2)), whole)


def day_spans(values: Iterable[str | Sequence[Any]]) -> tuple[Span, ...]:
    """Parse one day's spans; sorted; ValueError when two overlap."""
    spans = sorted(parse_span(v) for v in values)
    for (_, end), (start, _) in itertools.pairwise(spans):
        if start < end:
            raise ValueError("spans of one day overlap")
    return tuple(spans)


def holiday_calendar(country: str, subdivision: str | None = None) -> holidays_lib.HolidayBase:
    """The `holidays` package's calendar; ValueError naming the bad country or subdivision."""
    try:
        return holidays_lib.country_holidays(country.upper(), subdiv=subdivision)
    except NotImplementedError as exc:
        raise ValueError(f"{exc} (use an ISO 3166 code like ES and a subdivision like MD)") from None


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("business-hours arithmetic needs timezone-aware datetimes")
    return at.astimezone(UTC)


@dataclass(frozen=True)
class BusinessHours:
    """When the SLA clock runs. `week` is Monday-first; None means open all day every day."""

    timezone: str = "UTC"
    week: tuple[tuple[Span, ...], ...] | None = None
    country: str | None = None
    subdivision: str | None = None
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _holidays: holidays_lib.HolidayBase | None = field(init=False, repr=False, compare=False)
    _cache: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", zone(self.timezone))
        if self.week is not None:
            if len(self.week) != 7:
                raise ValueError("a weekly schedule needs 7 days, Monday first")
            if not any(self.week):
                raise ValueError("the weekly schedule is never open")
        calendar = holiday_calendar(self.country, self.subdivision) if self.country else None
        object.__setattr__(self, "_holidays", calendar)

    # --- construction -----------------------------------------------------------------------
    @classmethod
    def always_open(cls) -> BusinessHours:
        """24/7: business time is calendar time."""
        return cls()

    @classmethod
    def weekly(cls, timezone: str, schedule: Mapping[str, Iterable[str | Sequence[Any]]],
               country: str | None = None, subdivision: str | None = None) -> BusinessHours:
        """From {'mon': ['09:00-13:00', '14:00-18:00'], …}; weekdays not named are closed."""
        week: list[tuple[Span, ...]] = [() for _ in WEEKDAYS]
        for name, spans in schedule.items():
            week[weekday_index(name)] = day_spans(spans)
        return cls(timezone=timezone, week=tuple(week), country=country, subdivision=subdivision)

    @property
    def is_24_7(self) -> bool:
        return self.week is None and self._holidays is None

    # --- queries ----------------------------------------------------------------------------
    def intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The open UTC intervals that begin on local date `day` (empty on holidays)."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        if self._holidays is not None and day in self._holidays:
            spans: tuple[Span, ...] = ()
        elif self.week is None:
            spans = ((0, _DAY_MINUTES),)
        else:
            spans = self.week[day.weekday()]
        result = []
        for start, end in spans:
            a, b = self._instant(day, start), self._instant(day, end)
            if a < b:  # a span inside a spring-forward gap can vanish
                result.append((a, b))
        if len(self._cache) > 4096:  # long-running processes: keep memory bounded
            self._cache.clear()
        self._cache[day] = out = tuple(result)
        return out

    def _instant(self, day: date, minutes: int) -> datetime:
        if minutes >= _DAY_MINUTES:
            day, minutes = day + timedelta(days=1), minutes - _DAY_MINUTES
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self._zone)
        return local.astimezone(UTC)

    def _walk(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals ending after `start`, in order; ValueError after MAX_CLOSED_DAYS closed days."""
        day = start.astimezone(self._zone).date() - timedelta(days=1)
        closed = 0
        while True:
            found = False
            for a, b in self.intervals(day):
                if b > start:
                    found = True
                    yield a, b
            closed = 0 if found else closed + 1
            if closed > MAX_CLOSED_DAYS:
                raise ValueError(f"business hours are closed for more than {MAX_CLOSED_DAYS} days in a row")
            day += timedelta(days=1)

    def is_open(self, at: datetime) -> bool:
        at = _utc(at)
        if self.is_24_7:
            return True
        local_day = at.astimezone(self._zone).date()
        return any(a <= at < b for d in (local_day - timedelta(days=1), local_day)
                   for a, b in self.intervals(d))

    def next_open(self, at: datetime) -> datetime:
        """`at` itself when open, else the start of the next open interval (UTC)."""
        at = _utc(at)
        if self.is_24_7:
            return at
        a, _ = next(self._walk(at))
        return max(a, at)

    def business_time(self, start: datetime, end: datetime) -> timedelta:
        """Exact business time between two instants; zero when end <= start."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return timedelta(0)
        if self.is_24_7:
            return end - start
        total = timedelta(0)
        day = start.astimezone(self._zone).date() - timedelta(days=1)
        last = end.astimezone(self._zone).date()
        while day <= last:
            for a, b in self.intervals(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Business seconds between two instants; 0 when end <= start."""
        return self.business_time(start, end).total_seconds()

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The UTC instant when `duration` of business time has passed after `start`.

        Mon 09:00 + 16h with 09:00-17:00 days is Tue 17:00. A zero duration returns `start`.
        """
        start = _utc(start)
        if duration < timedelta(0):
            raise ValueError("cannot add a negative business duration")
        if duration == timedelta(0) or self.is_24_7:
            return start + duration
        remaining = duration
        for a, b in self._walk(start):
            lo = max(a, start)
            if b - lo >= remaining:
                return lo + remaining
            remaining -= b - lo
        raise AssertionError("unreachable: _walk never ends")  # pragma: no cover

    def latest_start(self, end: datetime, duration: timedelta) -> datetime:
        """The latest instant `s` with `business_time(s, end) >= duration`: a wait that began at or
        before it has lasted `duration` by `end`, one that began after it has not (business time only
        shrinks as the start moves later). So "overdue" becomes one comparison per case.

        With 09:00-17:00 days, Tue 10:00 back 2h is Mon 16:00. A zero duration returns `end`.
        """
        end = _utc(end)
        if duration < timedelta(0):
            raise ValueError("cannot subtract a negative business duration")
        if duration == timedelta(0) or self.is_24_7:
            return end - duration
        remaining, closed = duration, 0
        day = end.astimezone(self._zone).date() + timedelta(days=1)
        while closed <= MAX_CLOSED_DAYS:
            found = False
            for a, b in reversed(self.intervals(day)):
                hi = min(b, end)
                if hi <= a:
                    continue
                found = True
                if hi - a >= remaining:
                    return hi - remaining
                remaining -= hi - a
            closed = 0 if found else closed + 1
            day -= timedelta(days=1)
        raise ValueError(f"business hours are closed for more than {MAX_CLOSED_DAYS} days in a row")
