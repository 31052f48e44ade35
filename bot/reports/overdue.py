"""Who waits on us and whose SLA clock is overdue, judged over every waiting case at once.

The "now" figures (overdue, unanswered first-response misses, the oldest open case) and App Home's
overdue list judge each waiting conversation's clock. They read only the columns the clock needs
(as plain tuples, not ORM rows): a large store has thousands of abandoned cases still waiting, judged
at every report. A case is overdue when the business time since its wait began, less its paused time,
reaches its target (`overdue_kind`); business time only shrinks as the start moves later, so that is
`waiting_since <= hours.latest_start(now, target + paused)`, an instant computed once per distinct
target and pause (a handful) instead of a business-time walk per case. Targets and business hours are
read from the policy at every call, so nothing stored goes stale when they change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from bot.reports.service_level import ServiceLevel
from bot.sla.clock import FIRST_RESPONSE, NEXT_RESPONSE, ClockInput
from bot.store.models import ACTIVE, Conversation, Status

_CLOCK_COLUMNS = (col(Conversation.id), col(Conversation.status), col(Conversation.priority),
                  col(Conversation.platform), col(Conversation.channel), col(Conversation.first_seen_at),
                  col(Conversation.waiting_since), col(Conversation.first_response_at),
                  col(Conversation.resolved_at), col(Conversation.sla_paused_since),
                  col(Conversation.sla_paused_seconds))


@dataclass(frozen=True)
class Waiting:
    """One waiting conversation: its id, its clock's inputs, and the kind of wait when overdue."""

    id: int
    clock: ClockInput
    overdue: str | None  # "first_response" | "next_response" when breached or escalated


class OverdueJudge:
    """`overdue_kind` of many clocks at one `now`: the targets of each (priority, platform, channel)
    and the latest overdue start of each business duration, each computed once."""

    def __init__(self, service_level: ServiceLevel, now: datetime) -> None:
        self.config, self.hours, self.now = service_level.config, service_level.hours, now.astimezone(UTC)
        self._targets: dict[tuple[str, str, str], tuple[timedelta, timedelta]] = {}
        self._starts: dict[timedelta, datetime] = {}

    def overdue(self, clock: ClockInput) -> str | None:
        """The kind of wait when breached or escalated at `now` (as `bot.sla.clock.overdue_kind`)."""
        if clock.status in ("resolved", "snoozed") or clock.waiting_since is None \
                or clock.sla_paused_since is not None:
            return None
        key = (clock.priority, clock.platform, clock.channel)
        if key not in self._targets:
            targets = self.config.targets(*key)
            self._targets[key] = (targets.first_response, targets.next_response)
        first, next_ = self._targets[key]
        kind, target = (FIRST_RESPONSE, first) if clock.first_response_at is None else (NEXT_RESPONSE, next_)
        # The same rounding as the clock's: paused seconds become a timedelta first.
        needed = target + timedelta(seconds=clock.sla_paused_seconds or 0.0)
        if target <= timedelta(0) or needed <= timedelta(0):
            return kind  # the elapsed time, never negative, has reached the target
        if needed not in self._starts:
            self._starts[needed] = self.hours.latest_start(self.now, needed)
        return kind if clock.waiting_since <= self._starts[needed] else None


def waiting(session: Session, service_level: ServiceLevel, now: datetime) -> list[Waiting]:
    """Conversations someone waits on (not resolved, `waiting_since` set), oldest wait first (ties: id),
    each judged at `now`."""
    rows = session.connection().execute(sa.select(*_CLOCK_COLUMNS).where(  # Core: no ORM loading per row
        ACTIVE, col(Conversation.status) != Status.RESOLVED, col(Conversation.waiting_since).is_not(None))
        .order_by(col(Conversation.waiting_since).asc(), col(Conversation.id).asc())).all()
    judge, found = OverdueJudge(service_level, now), []
    for key, status, priority, platform, channel, seen, since, answered, resolved, paused, paused_for in rows:
        clock = ClockInput(status=str(status), priority=str(priority), platform=str(platform), channel=channel,
                           first_seen_at=seen, waiting_since=since, first_response_at=answered,
                           resolved_at=resolved, sla_paused_since=paused, sla_paused_seconds=float(paused_for or 0.0))
        assert key is not None  # a primary key read back
        found.append(Waiting(key, clock, judge.overdue(clock)))
    return found
