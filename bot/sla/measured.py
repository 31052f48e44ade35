"""A case's first-response time, measured once and stored beside it (revision 0010).

Reports read the first-response times of tens of thousands of cases per period; measuring each in
business hours at every read cost hundreds of milliseconds on a large store. So the time is measured
when the first reply is recorded and kept in whole microseconds (exact: `timedelta` has microsecond
resolution, so the stored value reads back as the very `timedelta` the KPIs computed before).

A business time depends on the business hours it was measured with, so it is stored with their
`fingerprint`: a store whose hours changed since (another time zone, schedule or holiday calendar, or
a `holidays` release with other dates) has times measured under other hours, and readers measure
those again (bot/reports/first_times.py). The SLA *targets* are not part of it: whether a time met
its target is decided when reading, against the targets of today's policy and the case's current
priority, exactly as before.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import holidays as holidays_lib

from bot.sla.clock import first_response_time
from bot.sla.hours import BusinessHours

MICROSECOND = timedelta(microseconds=1)


@functools.lru_cache(maxsize=16)  # hours are immutable; asked for at every reply and report
def fingerprint(hours: BusinessHours) -> str:
    """16 hex digits naming what a business time depends on: zone, week, holidays (and their data)."""
    holidays_data = holidays_lib.__version__ if hours.country else ""
    text = repr((hours.timezone, hours.week, hours.country, hours.subdivision, holidays_data))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def microseconds(value: timedelta) -> int:
    return value // MICROSECOND


@dataclass(frozen=True)
class FirstResponseMeter:
    """Measures first responses under one set of business hours, and names them (`fingerprint`)."""

    hours: BusinessHours

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.hours)

    def measure(self, first_seen_at: datetime, first_response_at: datetime) -> tuple[int, int]:
        """(business, calendar) microseconds from the first customer message to our first reply."""
        business, calendar = first_response_time(first_seen_at, first_response_at, self.hours)
        return microseconds(business), microseconds(calendar)

    def record(self, conversation: Measurable) -> None:
        """Store the times of a conversation whose `first_response_at` was just set."""
        if conversation.first_response_at is None:
            return
        business, calendar = self.measure(conversation.first_seen_at, conversation.first_response_at)
        conversation.first_response_business_us = business
        conversation.first_response_calendar_us = calendar
        conversation.first_response_hours = self.fingerprint


class Measurable(Protocol):
    """The columns `FirstResponseMeter.record` reads and writes (a Conversation has them)."""

    first_seen_at: datetime
    first_response_at: datetime | None
    first_response_business_us: int | None
    first_response_calendar_us: int | None
    first_response_hours: str | None


ALWAYS_OPEN = FirstResponseMeter(BusinessHours.always_open())
