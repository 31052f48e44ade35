"""conversations: first-response and resolution times stored, and the indexes the period figures read

First-response times (business and calendar microseconds, and the fingerprint of the business hours
they were measured with) are measured when the first reply is recorded (bot/sla/measured.py);
resolution times by the first report that reads them, for the `resolved_at` they name
(bot/reports/resolved_times.py). So the reports read them from an index instead of measuring tens of
thousands of cases at every read. The cases stored before this revision are measured here for 24/7
hours (business time = calendar time); a store with other business hours has them measured again by
the first report that reads them, as after any change of business hours.

The indexes: answered cases with these times (and what their targets depend on), resolved cases with
theirs, complaints by first seen and answered, customer messages by network, kind and time (share of
voice), messages by time with their ids (in place of time alone), and the waiting cases with their
clock's columns (partial: only the cases not resolved).

Revision ID: 0010
Revises: 0009
"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa

from bot.store.columns import UTCDateTime


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# bot.sla.measured.fingerprint(BusinessHours.always_open()), written out: a revision must keep doing
# what it did (tests/bot/sla/test_measured.py checks they still agree).
ALWAYS_OPEN = 'c7504c3c935246d8'
_CHUNK = 20_000
# Written out, not imported from bot/store/columns.py, for the same reason.
_INDEXES = (
    ("conversations", "ix_conversations_first_response_measured",
     ["first_response_at", "first_response_business_us", "first_response_calendar_us", "first_response_hours",
      "priority", "platform", "channel"]),
    ("conversations", "ix_conversations_resolution_measured",
     ["resolved_at", "resolution_business_us", "resolution_measured_for", "resolution_hours"]),
    ("conversations", "ix_conversations_complaints", ["complaint", "first_seen_at", "first_response_at"]),
    ("messages", "ix_messages_voice", ["platform", "kind", "direction", "created_at"]),
    ("messages", "ix_messages_created_id", ["created_at", "id"]),  # replaces ix_messages_created_at
)
_conversations = sa.table("conversations", sa.column("id", sa.Integer()), sa.column("first_seen_at", UTCDateTime()),
                          sa.column("first_response_at", UTCDateTime()), sa.column("resolved_at", UTCDateTime()))
_WAITING = ("waiting_since", "id", "status", "priority", "platform", "channel", "first_seen_at", "first_response_at",
            "resolved_at", "sla_paused_since", "sla_paused_seconds")
# What each backfill sets from the time between first_seen_at and its column: (column, SET clause).
_MEASURES = (
    ("first_response_at", "first_response_business_us = :us, first_response_calendar_us = :us, "
                          "first_response_hours = :hours"),
    ("resolved_at", "resolution_business_us = :us, resolution_measured_for = resolved_at, resolution_hours = :hours"),
)
# Exact: EXTRACT(EPOCH FROM interval) is numeric (PostgreSQL 14+), timestamps are microseconds.
_POSTGRES_US = "GREATEST(0, (EXTRACT(EPOCH FROM {} - first_seen_at) * 1000000)::bigint)"


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_response_business_us', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('first_response_calendar_us', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('first_response_hours', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('resolution_business_us', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('resolution_measured_for', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolution_hours', sa.String(length=16), nullable=True))
    for column, assignments in _MEASURES:
        if op.get_bind().dialect.name == 'postgresql':
            op.execute(sa.text(f"UPDATE conversations SET {assignments.replace(':us', _POSTGRES_US.format(column))} "
                               f"WHERE {column} IS NOT NULL").bindparams(hours=ALWAYS_OPEN))
        else:
            _backfill_in_python(column, assignments)
    for table, name, columns in _INDEXES:
        op.create_index(name, table, columns, unique=False)
    op.drop_index('ix_messages_created_at', table_name='messages')
    active = sa.text("status IN ('open', 'pending', 'snoozed')")
    op.create_index('ix_conversations_waiting', 'conversations', list(_WAITING), unique=False, sqlite_where=active,
                    postgresql_where=active)


def _backfill_in_python(column: str, assignments: str) -> None:
    """SQLite stores timestamps as text: measured in Python, a chunk of ids at a time (flat memory)."""
    bind, last, end = op.get_bind(), 0, _conversations.c[column]
    while True:
        rows = bind.execute(sa.select(_conversations.c.id, _conversations.c.first_seen_at, end)
                            .where(_conversations.c.id > last, end.is_not(None))
                            .order_by(_conversations.c.id).limit(_CHUNK)).all()
        if not rows:
            return
        bind.execute(sa.text(f"UPDATE conversations SET {assignments} WHERE id = :key"),
                     [{"key": key, "us": max(timedelta(0), at - seen) // timedelta(microseconds=1), "hours": ALWAYS_OPEN}
                      for key, seen, at in rows])
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index('ix_conversations_waiting', table_name='conversations')
    op.create_index('ix_messages_created_at', 'messages', ['created_at'], unique=False)
    for table, name, _ in _INDEXES:
        op.drop_index(name, table_name=table)
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy: SQLite cannot drop the referenced
    # conversations table while messages point at it.
    for column in ('resolution_hours', 'resolution_measured_for', 'resolution_business_us', 'first_response_hours',
                   'first_response_calendar_us', 'first_response_business_us'):
        op.execute(f'ALTER TABLE conversations DROP COLUMN {column}')
