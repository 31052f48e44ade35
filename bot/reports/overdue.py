"""Who waits on us and whose SLA clock is overdue, judged over every waiting case at once.

The "now" figures (overdue, unanswered first-response misses, the oldest open case) and App Home's
overdue list judge each waiting conversation's clock. They read only what the clock and they need
(plain tuples, not ORM rows; whether a reply or a pause exists, not when): a large store has thousands
of abandoned cases still waiting, judged at every report. A case is overdue when the business time
since its wait began, less its paused time, reaches its target (`overdue_kind`); business time only
shrinks as the start moves later, so that is
`waiting_since <= hours.latest_start(now, target + paused)`, an instant computed once per distinct
target and pause (a handful) instead of a business-time walk per case. Targets and business hours are
read from the policy at every call, so nothing stored goes stale when they change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col

from bot.reports.service_level import ServiceLevel
from bot.sla.clock import FIRST_RESPONSE, NEXT_RESPONSE, ClockInput
from bot.store.models import ACTIVE, Conversation, Status

_COLUMNS = (col(Conversation.id), col(Conversation.status), col(Conversation.priority), col(Conversation.platform),
            col(Conversation.channel), col(Conversation.first_seen_at), col(Conversation.waiting_since),
            col(Conversation.first_response_at).is_not(None), col(Conversation.sla_paused_since).is_not(None),
            col(Conversation.sla_paused_seconds))


class Waiting(NamedTuple):
    """One waiting conversation: what the figures read of it, and the kind of wait when overdue
    (a tuple: thousands are made at every report)."""

    id: int
    status: str
    first_seen_at: datetime
    answered: bool  # has had a first reply: a next-response wait
    overdue: str | None  # "first_response" | "next_response" when breached or escalated


class OverdueJudge:
    """`bot.sla.clock.overdue_kind` of many waits at one `now`: the targets of each (priority, platform,
    channel) and the latest overdue start of each business duration, each computed once."""

    def __init__(self, service_level: ServiceLevel, now: datetime) -> None:
        self.config, self.hours, self.now = service_level.config, service_level.hours, now.astimezone(UTC)
        self._targets: dict[tuple[str, str, str], tuple[timedelta, timedelta]] = {}
        self._starts: dict[timedelta, datetime] = {}

    def clock(self, clock: ClockInput) -> str | None:
        """`overdue_kind(clock, …, now)`."""
        return self.overdue(clock.status, clock.priority, clock.platform, clock.channel, clock.waiting_since,
                            answered=clock.first_response_at is not None,
                            paused=clock.sla_paused_since is not None, paused_seconds=clock.sla_paused_seconds)

    def overdue(self, status: str, priority: str, platform: str, channel: str, waiting_since: datetime | None, *,
                answered: bool, paused: bool, paused_seconds: float) -> str | None:
        """The kind of wait when breached or escalated at `now`, else None."""
        if status in ("resolved", "snoozed") or waiting_since is None or paused:
            return None
        key = (priority, platform, channel)
        if key not in self._targets:
            targets = self.config.targets(*key)
            self._targets[key] = (targets.first_response, targets.next_response)
        first, next_ = self._targets[key]
        kind, target = (NEXT_RESPONSE, next_) if answered else (FIRST_RESPONSE, first)
        # The same rounding as the clock's: paused seconds become a timedelta first.
        needed = target + timedelta(seconds=paused_seconds or 0.0)
        if target <= timedelta(0) or needed <= timedelta(0):
            return kind  # the elapsed time, never negative, has reached the target
        if needed not in self._starts:
            self._starts[needed] = self.hours.latest_start(self.now, needed)
        return kind if waiting_since <= self._starts[needed] else None


def waiting(session: Session, service_level: ServiceLevel, now: datetime) -> list[Waiting]:
    """Conversations someone waits on (not resolved, `waiting_since` set), oldest wait first (ties: id),
    each judged at `now`."""
    rows = session.connection().execute(sa.select(*_COLUMNS).where(  # Core: no ORM loading per row
        ACTIVE, col(Conversation.status) != Status.RESOLVED, col(Conversation.waiting_since).is_not(None))
        .order_by(col(Conversation.waiting_since).asc(), col(Conversation.id).asc())).all()
    judge, found = OverdueJudge(service_level, now), []
    for key, status, priority, platform, channel, seen, since, answered, paused, paused_for in rows:
        assert key is not None  # a primary key read back
        found.append(Waiting(key, str(status), seen, bool(answered), judge.overdue(
            str(status), str(priority), str(platform), channel, since, answered=bool(answered), paused=bool(paused),
            paused_seconds=float(paused_for or 0.0))))
    return found
