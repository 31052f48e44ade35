"""How long one case took, in business time (the configured business hours) and calendar time.

Pure functions of a `Case` (bot/reports/cases.py); the KPIs and the export both read them, so a
case's times are the same in every figure. Definitions are in bot/reports/kpis.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.reports.cases import Case
from bot.sla import BusinessHours, first_response_time

ZERO = timedelta(0)


@dataclass(frozen=True)
class Took:
    business: timedelta
    calendar: timedelta


def _between(start: datetime, end: datetime, hours: BusinessHours) -> Took:
    return Took(hours.business_time(start, end), max(ZERO, end - start))


def first_response(case: Case, hours: BusinessHours) -> Took | None:
    """First customer message (`first_seen_at`) → our first reply (`first_response_at`); None if unanswered."""
    c = case.conversation
    if c.first_response_at is None:
        return None
    business, calendar = first_response_time(c.first_seen_at, c.first_response_at, hours)
    return Took(business, calendar)


def next_responses(case: Case, hours: BusinessHours) -> list[tuple[datetime, Took]]:
    """(reply time, wait) for each staff reply after the first that answered a customer message:
    the wait runs from the earliest customer message after the previous reply to this reply. A
    reply with no customer message since the previous one answers nobody and is not timed."""
    timed = []
    for previous, reply in zip(case.replies, case.replies[1:], strict=False):
        asked = [t for t in case.inbound if previous.at < t <= reply.at]
        if asked:
            timed.append((reply.at, _between(asked[0], reply.at, hours)))
    return timed


def resolution(case: Case, hours: BusinessHours) -> Took | None:
    """First customer message → the (latest) resolution; None if not resolved."""
    c = case.conversation
    return _between(c.first_seen_at, c.resolved_at, hours) if c.resolved_at is not None else None


def handling(case: Case, hours: BusinessHours) -> Took | None:
    """Resolution time minus the time the case spent snoozed before it was resolved."""
    c = case.conversation
    resolved_at = c.resolved_at
    if resolved_at is None:
        return None  # not resolved: not handled yet
    took = _between(c.first_seen_at, resolved_at, hours)  # its resolution time
    business, calendar = took.business, took.calendar
    for start, end in case.snoozes:
        start, end = max(start, c.first_seen_at), min(end, resolved_at)
        if end > start:
            slept = _between(start, end, hours)
            business, calendar = business - slept.business, calendar - slept.calendar
    return Took(max(ZERO, business), max(ZERO, calendar))


def replies_until(case: Case, at: datetime) -> int:
    """Staff replies delivered at or before `at`."""
    return sum(1 for r in case.replies if r.at <= at)
