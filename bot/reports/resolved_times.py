"""Business-time resolution times of a period's resolved cases, from the times stored beside them.

App Home's headline shows the median resolution time of the cases resolved in a period (first customer
message → the latest resolution, in business time: `timing.resolution`). Measuring thousands of cases at
every Home refresh cost most of the page, so each case's time is stored (revision 0010) with the
`resolved_at` it was measured for and the fingerprint of the business hours (bot/sla/measured.py).
A case resolved since (or reopened and resolved again), or measured under other business hours, is
measured here before the figures are taken, and written back: the steady state reads integers only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlmodel import Session, col

from bot.reports.first_times import integer_table, nearest_ranks
from bot.reports.service_level import ServiceLevel
from bot.sla.measured import microseconds
from bot.store.models import Conversation, UTCDateTime

resolved_at = col(Conversation.resolved_at)
business_us = col(Conversation.resolution_business_us)
measured_for = col(Conversation.resolution_measured_for)
measured_under = col(Conversation.resolution_hours)


def _stale(fingerprint: str) -> ColumnElement[bool]:
    return sa.or_(business_us.is_(None), measured_for.is_(None), measured_for != resolved_at,
                  measured_under.is_(None), measured_under != fingerprint)


def remeasure(session: Session, sl: ServiceLevel, *where: ColumnElement[bool]) -> int:
    """Measure (and store) the resolution times of the resolved cases matching `where` that are
    missing, or were measured for another resolution or under other business hours; how many."""
    fingerprint = sl.first_response_meter.fingerprint
    stale = session.execute(sa.select(col(Conversation.id), col(Conversation.first_seen_at), resolved_at)
                            .where(resolved_at.is_not(None), *where, _stale(fingerprint))
                            .order_by(col(Conversation.id))).all()  # in id order: two readers lock alike
    if stale:
        # `at` bound as the column's type, so it is stored exactly as `resolved_at` is (compared above).
        session.execute(sa.text("UPDATE conversations SET resolution_business_us = :business, "
                                "resolution_measured_for = :at, resolution_hours = :hours WHERE id = :key")
                        .bindparams(sa.bindparam("at", type_=UTCDateTime())),
                        [{"key": key, "business": microseconds(sl.hours.business_time(seen, at)),
                          "at": at, "hours": fingerprint} for key, seen, at in stale])
    return len(stale)


def median_resolution(session: Session, sl: ServiceLevel, start: datetime, end: datetime) -> timedelta | None:
    """The median business-time resolution of the cases resolved in [start, end) (nearest rank); None
    when none was."""
    where = (resolved_at >= start, resolved_at < end)
    remeasure(session, sl, *where)
    times = integer_table(session, where, business_us)[:, 0]
    return nearest_ranks(times, 50)[0] if len(times) else None
