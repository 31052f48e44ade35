"""Column types shared by the tables: UTC timestamps that stay timezone-aware on SQLite too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def ts_field(nullable: bool = True, **kw: Any) -> Any:
    # Any, like sqlmodel.Field itself: the class attribute is declared as `datetime | None`.
    return Field(default=None, sa_type=UTCDateTime(), nullable=nullable, **kw)


class FirstResponseMeasures(SQLModel):
    """A conversation's first-response time as measured when the first reply was recorded (revision
    0010; bot/sla/measured.py): business and calendar microseconds, and the fingerprint of the business
    hours the business time was measured with. NULL until answered, and for rows measured by nobody."""

    first_response_business_us: int | None = Field(default=None, sa_type=sa.BigInteger())
    first_response_calendar_us: int | None = Field(default=None, sa_type=sa.BigInteger())
    first_response_hours: str | None = Field(default=None, max_length=16)
    # The same for the resolution time (first message -> resolution), measured by the first report that
    # reads it (bot/reports/resolved_times.py) for the `resolved_at` it names: a reopened and resolved
    # again case is measured again.
    resolution_business_us: int | None = Field(default=None, sa_type=sa.BigInteger())
    resolution_measured_for: datetime | None = Field(default=None, sa_type=UTCDateTime())
    resolution_hours: str | None = Field(default=None, max_length=16)


# Cases not resolved (models.ACTIVE, which says why it is written out literally).
ACTIVE = sa.text("status IN ('open', 'pending', 'snoozed')")

# The reports' indexes (revision 0010): a period figure reads one range of an index, never the rows.
CONVERSATION_REPORT_INDEXES = (
    # Answered in a period, with everything the first-response figures read (bot/reports/first_times.py).
    sa.Index("ix_conversations_first_response_measured", "first_response_at", "first_response_business_us",
             "first_response_calendar_us", "first_response_hours", "priority", "platform", "channel"),
    # Resolved in a period, with the stored resolution time and what it was measured for.
    sa.Index("ix_conversations_resolution_measured", "resolved_at", "resolution_business_us",
             "resolution_measured_for", "resolution_hours"),
    # The waiting cases in wait order with every column their SLA clock reads (bot/reports/overdue.py):
    # partial, so it holds the few thousand cases not resolved, whatever the size of the store.
    sa.Index("ix_conversations_waiting", "waiting_since", "id", "status", "priority", "platform", "channel",
             "first_seen_at", "first_response_at", "resolved_at", "sla_paused_since", "sla_paused_seconds",
             sqlite_where=ACTIVE, postgresql_where=ACTIVE),
    # Complaints first seen in a period, and when they were answered (the complaint response rate).
    sa.Index("ix_conversations_complaints", "complaint", "first_seen_at", "first_response_at"),
)
MESSAGE_REPORT_INDEXES = (
    # Customer messages of one network and kind in a period (share of voice, bot/reports/figures.py).
    sa.Index("ix_messages_voice", "platform", "kind", "direction", "created_at"),
    # Messages of a period with their ids (the search queries' share of voice joins them): PostgreSQL
    # reads the ids from the index instead of the rows (SQLite's index holds the rowid anyway).
    sa.Index("ix_messages_created_id", "created_at", "id"),
)
