"""Team figures from the database for a period: the daily digest, `/social stats` and App Home read
the same numbers from here. Queries only (nothing is written); every function takes `now`.

A period is the half-open interval [start, end) of aware UTC instants. The figures:

- new_conversations: conversations whose `first_seen_at` is in the period.
- answered: conversations whose `first_response_at` (our first reply) is in the period.
- resolved: conversations whose `resolved_at` is in the period (a case resolved twice counts once,
  at its latest resolution).
- open: conversations with status "open" at `now` (waiting on us; pending and snoozed are not counted).
- overdue: conversations not resolved, waiting on us, whose SLA clock (`ServiceLevel.status` at `now`)
  is breached or escalated (first- or next-response).
- median / p90 first-response time, in business time (the configured business hours) and in calendar
  time: over the conversations *answered* in the period, from `first_seen_at` to `first_response_at`.
  Percentiles are **nearest-rank**: the p-th percentile of n sorted values is the value at rank
  ceil(p/100 · n), so it is always an observed time; the median is p50 (the lower middle value when n
  is even). None when nothing was answered.
- sla_compliance_pct: hits / (answered + misses) · 100, where a hit is a conversation answered in the
  period whose business-time first response is within its first-response target (priority, platform
  and channel overrides applied), and a miss is a conversation answered in the period beyond its
  target, or one first seen in the period, never answered and not resolved whose first-response clock
  is overdue at `now`. None when that denominator is 0.
- complaint_response_rate_pct: of the conversations flagged as complaints and first seen in the
  period, the share with a first reply at or before `now`. None when there were no complaints.
- oldest_waiting: the "open" conversation with the earliest `waiting_since` (ties: lowest id).
- share_of_voice: per search query name, the number of messages *created* in the period that the
  query found (MessageMatch), plus, per source each network declares (`Rules.voice`: X "@mentions"
  for mentions, Facebook "Facebook Page" for comments and visitor posts on the Page), the inbound
  messages of those kinds created in the period. A mention that a search query also found counts in
  both. Sources with no message in the period are left out.
- csat: (answers, average, response rate %) as `bot/reports/kpis.py` defines them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from bot.cards import ConversationRow, ReportFigures, clip, escape
from bot.reports.first_times import first_responses
from bot.reports.overdue import Waiting, waiting
from bot.reports.satisfaction import load_csat
from bot.reports.service_level import ServiceLevel
from bot.sla.clock import FIRST_RESPONSE
from bot.store.keys import row_id
from bot.store.models import Conversation, Customer, Direction, Message, MessageMatch, Status
from connectors.registry import shipped_voice_sources

VoiceSources = Mapping[str, tuple[str, tuple[str, ...]]]  # key -> (platform, inbound kinds)
PERIODS: dict[str, tuple[timedelta, str]] = {
    "24h": (timedelta(hours=24), "Last 24 hours"),
    "7d": (timedelta(days=7), "Last 7 days"),
    "30d": (timedelta(days=30), "Last 30 days"),
}
DEFAULT_PERIOD = "7d"


@dataclass(frozen=True)
class Period:
    """[start, end) in aware UTC, and how people read it ("Last 7 days")."""

    start: datetime
    end: datetime
    label: str

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period needs timezone-aware bounds")
        if self.end < self.start:
            raise ValueError("a period cannot end before it starts")


class PeriodError(ValueError):
    """What people typed is not a period; the message says what to type."""


def parse_period(text: str, now: datetime) -> Period:
    """"7d" (also "7 d", "7D"), "30d", "24h", or "" for the default 7d → the period ending at `now`."""
    wanted = re.sub(r"\s+", "", text or "").lower() or DEFAULT_PERIOD
    if wanted not in PERIODS:
        choices = ", ".join(f"`{p}`" for p in PERIODS)
        shown = clip(escape(text.strip().replace("`", "'")), 40)
        raise PeriodError(f"`{shown}` is not a period I know. Use one of {choices} "
                          f"(default `{DEFAULT_PERIOD}`), e.g. `/social stats 30d`.")
    length, label = PERIODS[wanted]
    return Period(now - length, now, label)


def local_day(day: date, tz: ZoneInfo, label: str) -> Period:
    """The whole local calendar day `day` in `tz` (23 or 25 hours long across a DST change)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return Period(start.astimezone(UTC), end.astimezone(UTC), label)


def yesterday(now: datetime, tz: ZoneInfo) -> Period:
    """The local day before `now`'s local day: what the daily digest reports on."""
    day = now.astimezone(tz).date() - timedelta(days=1)
    return local_day(day, tz, f"Yesterday, {day:%a %d %b}")


def today_so_far(now: datetime, tz: ZoneInfo) -> Period:
    """From local midnight to `now`: App Home's "team today"."""
    day = local_day(now.astimezone(tz).date(), tz, "")
    return Period(day.start, now, f"Today so far ({now.astimezone(tz):%a %d %b})")


def nearest_rank(values: Sequence[timedelta], percent: float) -> timedelta | None:
    """The nearest-rank percentile (see the module docstring); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


_BARE_COLUMNS = (col(Conversation.id), col(Conversation.ref), col(Conversation.platform), col(Conversation.kind),
                 col(Conversation.status), col(Conversation.priority), col(Conversation.assignee),
                 col(Conversation.first_seen_at), col(Conversation.waiting_since))


def _in(column: datetime | None, period: Period) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return col(column) >= period.start, col(column) < period.end


def _count(session: Session, *conditions: ColumnElement[bool] | bool) -> int:
    return session.exec(select(func.count()).select_from(Conversation).where(*conditions)).one()


def overdue_ids(waits: Sequence[Waiting], limit: int | None = None) -> list[int]:
    """The judged waiting cases (`overdue.waiting`) that are breached or escalated, oldest wait first
    (the first `limit` of them when given)."""
    return [w.id for w in waits if w.overdue][:limit]


def listed_rows(session: Session, lists: Sequence[Sequence[int]], service_level: ServiceLevel, now: datetime,
                *, drawn: int) -> list[list[ConversationRow]]:
    """The rows of each list of conversation ids, in its order: the first `drawn` of a list as
    `conversation_rows` makes them and the others bare (no badge, words or handle), for lists that draw
    only their first rows and name the others by "#N" (App Home). Only the drawn conversations are
    loaded as ORM rows (loading 200 full rows per list to draw 15 was a quarter of App Home's time on
    a large store), and every list is read by the same few queries: each is a round trip."""
    shown = list(session.exec(select(Conversation).where(
        col(Conversation.id).in_({key for ids in lists for key in ids[:drawn]}))))
    full = {row_id(c): row for c, row in zip(shown, conversation_rows(session, shown, service_level, now), strict=True)}
    bare: dict[int, ConversationRow] = {}
    rest = {key for ids in lists for key in ids[drawn:]}
    for key, ref, platform, kind, status, priority, assignee, seen, since in session.connection().execute(
            sa.select(*_BARE_COLUMNS).where(col(Conversation.id).in_(rest))) if rest else ():
        assert key is not None  # a primary key read back
        bare[key] = ConversationRow(ref=ref or key, platform=platform, kind=kind, handle="", snippet="",
                                    status=status, priority=priority, assignee=assignee, first_seen_at=seen,
                                    waiting_since=since)
    return [[full[key] for key in ids[:drawn]] + [bare[key] for key in ids[drawn:]] for ids in lists]


def conversation_rows(session: Session, conversations: Sequence[Conversation], service_level: ServiceLevel,
                      now: datetime) -> list[ConversationRow]:
    """Rows (with SLA badges at `now` and the customer's latest words) in the given order."""
    if not conversations:
        return []
    conv_ids = [c.id for c in conversations]
    customers = {c.id: c for c in session.exec(select(Customer).where(
        col(Customer.id).in_({c.customer_id for c in conversations}))).all()}
    latest_ids = session.exec(select(func.max(Message.id)).where(
        col(Message.conversation_id).in_(conv_ids), Message.direction == Direction.INBOUND)
        .group_by(col(Message.conversation_id))).all()
    latest = {m.conversation_id: m.text for m in session.exec(select(Message).where(
        col(Message.id).in_(latest_ids))).all()} if latest_ids else {}
    return [service_level.row(c, customers.get(c.customer_id), latest.get(row_id(c), ""), now) for c in conversations]


def share_of_voice(session: Session, period: Period, sources: VoiceSources | None = None) -> dict[str, int]:
    """Query matches plus every network's own sources (see the module docstring); `sources` default
    to the shipped networks' (`Registry.voice_sources()` for the registered ones)."""
    counts = dict(session.exec(
        select(MessageMatch.query_name, func.count())
        .join(Message, col(Message.id) == MessageMatch.message_id)
        .where(*_in(Message.created_at, period))
        .group_by(MessageMatch.query_name)).all())
    # Each is a range of ix_messages_voice (platform, kind, direction, created_at): no row is read.
    for key, (platform, kinds) in (shipped_voice_sources() if sources is None else sources).items():
        heard = session.exec(select(func.count()).select_from(Message).where(
            Message.platform == platform, col(Message.kind).in_(kinds), Message.direction == Direction.INBOUND,
            *_in(Message.created_at, period))).one()
        if heard:
            counts[key] = heard
    return counts


def figures(session: Session, period: Period, service_level: ServiceLevel, now: datetime,
            voice_sources: VoiceSources | None = None, waits: Sequence[Waiting] | None = None) -> ReportFigures:
    """The team figures for `period`, with the "now" figures (open, overdue, oldest) as of `now`;
    `voice_sources` as for `share_of_voice`; `waits` are the waiting cases judged at `now`
    (`overdue.waiting`) when the caller has them already (App Home judges them once)."""
    answered = first_responses(session, service_level, period.start, period.end)
    waits = waiting(session, service_level, now) if waits is None else waits
    overdue = [w for w in waits if w.overdue]
    misses_unanswered = sum(
        1 for w in overdue
        if not w.answered and w.overdue == FIRST_RESPONSE
        and period.start <= w.first_seen_at < period.end)
    judged = answered.answered + misses_unanswered
    complaints = _count(session, col(Conversation.complaint).is_(True), *_in(Conversation.first_seen_at, period))
    complaints_answered = _count(session, col(Conversation.complaint).is_(True),
                                 *_in(Conversation.first_seen_at, period),
                                 col(Conversation.first_response_at) <= now)
    oldest_id = next((w.id for w in waits if w.status == Status.OPEN), None)
    oldest = session.get(Conversation, oldest_id) if oldest_id is not None else None
    return ReportFigures(
        period_label=period.label,
        open=_count(session, Conversation.status == Status.OPEN),
        overdue=len(overdue),
        answered=answered.answered,
        median_first_response_business=answered.median_business,
        p90_first_response_business=answered.p90_business,
        median_first_response_calendar=answered.median_calendar,
        p90_first_response_calendar=answered.p90_calendar,
        sla_compliance_pct=100 * answered.hits / judged if judged else None,
        complaint_response_rate_pct=100 * complaints_answered / complaints if complaints else None,
        oldest_waiting=conversation_rows(session, [oldest], service_level, now)[0] if oldest else None,
        new_conversations=_count(session, *_in(Conversation.first_seen_at, period)),
        resolved=_count(session, *_in(Conversation.resolved_at, period)),
        share_of_voice=share_of_voice(session, period, voice_sources),
        csat=_csat(session, period),
    )


def _csat(session: Session, period: Period) -> tuple[int, float | None, float | None]:
    """(answers, average, survey response rate %): the KPIs' own CSAT figures (bot/reports/satisfaction.py)."""
    csat = load_csat(session, period.start, period.end)
    return csat.answers, csat.average, csat.response_rate_pct
