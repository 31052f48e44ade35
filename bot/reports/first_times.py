"""First-response figures of a period counted by the database, from the times stored at the first reply.

The digest, `/social stats` and App Home show, over the conversations answered in a period: how many,
the median and p90 first-response time in business and in calendar time, and how many were within
their first-response target. Each case's times are stored when its first reply is recorded
(bot/sla/measured.py, revision 0010), so the database counts and ranks them from one index
(`ix_conversations_first_response_measured`) and only a handful of numbers leave it: a 30-day period
of a million-case store answers in milliseconds instead of measuring ~20 000 cases in Python.

The numbers are exactly those of the definitions in bot/reports/figures.py: the stored microseconds
are the very `timedelta`s measured before, a percentile is the value at the nearest rank of the same
order, and a hit is still judged against the targets of today's policy and the case's current
priority, platform and channel (targets are not stored, so a new policy applies to past cases at
once). Times stored under other business hours than today's, or never stored (rows written before
the meter, or by tests), are measured again first and written back: the first read after a change
of business hours pays once for the periods it reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlalchemy import ColumnElement, ColumnExpressionArgument, func, or_
from sqlmodel import Session, col

from bot.reports.service_level import ServiceLevel
from bot.sla.measured import FirstResponseMeter, microseconds
from bot.sla.policy import SlaConfig
from bot.store.models import Conversation

business_us = col(Conversation.first_response_business_us)
calendar_us = col(Conversation.first_response_calendar_us)
measured_under = col(Conversation.first_response_hours)
answered_at = col(Conversation.first_response_at)


@dataclass(frozen=True)
class FirstResponses:
    """The first-response figures of the conversations answered in a period."""

    answered: int = 0
    hits: int = 0  # answered within their business-time first-response target
    median_business: timedelta | None = None
    p90_business: timedelta | None = None
    median_calendar: timedelta | None = None
    p90_calendar: timedelta | None = None


def _answered_in(start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    return answered_at >= start, answered_at < end


def remeasure(session: Session, meter: FirstResponseMeter, *answered_in: ColumnElement[bool]) -> int:
    """Measure again (and store) the answered cases matching `answered_in` whose times were stored
    under other business hours, or never; returns how many."""
    stale = session.execute(sa.select(col(Conversation.id), col(Conversation.first_seen_at), answered_at)
                            .where(answered_at.is_not(None), *answered_in,
                                   or_(measured_under.is_(None), measured_under != meter.fingerprint))
                            .order_by(col(Conversation.id))).all()  # in id order: two readers lock alike
    if not stale:
        return 0
    rows = []
    for key, first_seen_at, first_response_at in stale:
        business, calendar = meter.measure(first_seen_at, first_response_at)
        rows.append({"key": key, "business": business, "calendar": calendar})
    session.execute(sa.text("UPDATE conversations SET first_response_business_us = :business, "
                            "first_response_calendar_us = :calendar, first_response_hours = :hours "
                            "WHERE id = :key"), [dict(row, hours=meter.fingerprint) for row in rows])
    return len(rows)


def target_us(config: SlaConfig) -> ColumnElement[int]:
    """Each row's business-time first-response target in microseconds, as `SlaConfig.targets` gives it:
    the policy's rules as one CASE, so the database judges every case against its own target."""
    priority = col(Conversation.priority)

    def by_priority(targets: dict[str, timedelta]) -> ColumnElement[int]:
        return sa.case({p: microseconds(t) for p, t in targets.items()}, value=priority,
                       else_=microseconds(targets["normal"]))

    *overrides, (_, _, base) = config.first_response_rules()
    whens = [(sa.and_(sa.true(), *([col(Conversation.platform) == platform] if platform is not None else []),
                      *([col(Conversation.channel) == channel] if channel is not None else [])), by_priority(targets))
             for platform, channel, targets in overrides]
    return sa.case(*whens, else_=by_priority(base)) if whens else by_priority(base)


def nearest_ranks(values: np.ndarray, *percents: float) -> list[timedelta]:
    """figures.nearest_rank of each percent over microseconds: the value at rank ceil(p/100 · n) of
    the ascending order (found by partitioning, not sorting)."""
    ranks = [max(1, math.ceil(percent / 100 * len(values))) - 1 for percent in percents]
    chosen = np.partition(values, ranks)
    return [timedelta(microseconds=int(chosen[rank])) for rank in ranks]


def integer_table(session: Session, where: tuple[ColumnElement[bool], ...],
                  *columns: ColumnExpressionArgument[int | None]) -> np.ndarray:
    """The integer `columns` of the rows matching `where`, one row each (in no particular order), read
    as one comma-separated text the database aggregates (group_concat / string_agg): tens of thousands
    of result rows cost more to build in Python than to parse, and left garbage for the collector."""
    text: ColumnElement[str] = sa.cast(columns[0], sa.String)
    for column in columns[1:]:
        text = text + "," + sa.cast(column, sa.String)
    joined = session.connection().execute(sa.select(func.aggregate_strings(text, ",")).where(*where)).scalar()
    if not joined:
        return np.empty((0, len(columns)), np.int64)
    return np.fromstring(joined, dtype=np.int64, sep=",").reshape(-1, len(columns))


def _read(session: Session, service_level: ServiceLevel, where: tuple[ColumnElement[bool], ...]) -> np.ndarray:
    """Per answered case: business µs, calendar µs, 1 if within its target, 1 if measured under other
    business hours (or never). Four integers a case, read from the index in one pass: ranking them in
    the database (a sort per percentile) cost more than taking them out."""
    hit = sa.case((business_us <= target_us(service_level.config), 1), else_=0)
    fingerprint = service_level.first_response_meter.fingerprint
    stale = sa.case((sa.or_(measured_under.is_(None), measured_under != fingerprint), 1), else_=0)
    # A stale row may have no times yet (0 here): it is measured before the figures are taken.
    return integer_table(session, where, func.coalesce(business_us, 0), func.coalesce(calendar_us, 0), hit, stale)


def first_responses(session: Session, service_level: ServiceLevel, start: datetime, end: datetime
                    ) -> FirstResponses:
    """The figures over the conversations whose first reply is in [start, end) (see the module docstring)."""
    where = _answered_in(start, end)
    table = _read(session, service_level, where)
    if table[:, 3].any():
        remeasure(session, service_level.first_response_meter, *where)
        table = _read(session, service_level, where)
    if not len(table):
        return FirstResponses()
    median_business, p90_business = nearest_ranks(table[:, 0], 50, 90)
    median_calendar, p90_calendar = nearest_ranks(table[:, 1], 50, 90)
    return FirstResponses(len(table), int(table[:, 2].sum()), median_business, p90_business,
                          median_calendar, p90_calendar)
