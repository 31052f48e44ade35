"""Who waits on us and whose SLA clock is overdue, judged over every waiting case at once.

The "now" figures (overdue, unanswered first-response misses, the oldest open case) and App Home's
overdue list judge each waiting conversation's clock. They read only the columns the clock needs
(as plain tuples, not ORM rows) and ask `overdue_kind`, which is `evaluate(…).overdue` without the due
times: a large store has thousands of abandoned cases still waiting, judged at every report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from bot.reports.service_level import ServiceLevel
from bot.sla.clock import ClockInput, overdue_kind
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


def waiting(session: Session, service_level: ServiceLevel, now: datetime) -> list[Waiting]:
    """Conversations someone waits on (not resolved, `waiting_since` set), oldest wait first (ties: id),
    each judged at `now`."""
    rows = session.connection().execute(sa.select(*_CLOCK_COLUMNS).where(  # Core: no ORM loading per row
        ACTIVE, col(Conversation.status) != Status.RESOLVED, col(Conversation.waiting_since).is_not(None))
        .order_by(col(Conversation.waiting_since).asc(), col(Conversation.id).asc())).all()
    found = []
    for key, status, priority, platform, channel, seen, since, answered, resolved, paused, paused_for in rows:
        clock = ClockInput(status=str(status), priority=str(priority), platform=str(platform), channel=channel,
                           first_seen_at=seen, waiting_since=since, first_response_at=answered,
                           resolved_at=resolved, sla_paused_since=paused, sla_paused_seconds=float(paused_for or 0.0))
        assert key is not None  # a primary key read back
        found.append(Waiting(key, clock, overdue_kind(clock, service_level.config, service_level.hours, now)))
    return found
