"""conversations.first_response_business_us, _calendar_us, _hours: first-response times stored

Measured when the first reply is recorded (bot/sla/measured.py), so the reports read them from an
index instead of measuring tens of thousands of cases in business hours at every read. The cases
answered before this revision are measured here for 24/7 hours (business time = calendar time),
named by the 24/7 fingerprint; a store with other business hours has them measured again by the
first report that reads them (bot/reports/first_times.py), as after any change of business hours.

Also the indexes the period figures read instead of rows: answered cases with these times (and what
their targets depend on), complaints by first seen and answered, customer messages by network, kind
and time (share of voice).

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
    ("conversations", "ix_conversations_complaints", ["complaint", "first_seen_at", "first_response_at"]),
    ("messages", "ix_messages_voice", ["platform", "kind", "direction", "created_at"]),
)
_conversations = sa.table("conversations", sa.column("id", sa.Integer()), sa.column("first_seen_at", UTCDateTime()),
                          sa.column("first_response_at", UTCDateTime()))


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_response_business_us', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('first_response_calendar_us', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('first_response_hours', sa.String(length=16), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        # Exact: EXTRACT(EPOCH FROM interval) is numeric (PostgreSQL 14+), timestamps are microseconds.
        op.execute(sa.text(
            "UPDATE conversations SET first_response_calendar_us = GREATEST(0, "
            "(EXTRACT(EPOCH FROM first_response_at - first_seen_at) * 1000000)::bigint), "
            "first_response_business_us = GREATEST(0, "
            "(EXTRACT(EPOCH FROM first_response_at - first_seen_at) * 1000000)::bigint), "
            "first_response_hours = :hours WHERE first_response_at IS NOT NULL").bindparams(hours=ALWAYS_OPEN))
    else:
        _backfill_in_python()
    for table, name, columns in _INDEXES:
        op.create_index(name, table, columns, unique=False)


def _backfill_in_python() -> None:
    """SQLite stores timestamps as text: measured in Python, a chunk of ids at a time (flat memory)."""
    bind, last = op.get_bind(), 0
    while True:
        rows = bind.execute(sa.select(_conversations.c.id, _conversations.c.first_seen_at,
                                      _conversations.c.first_response_at)
                            .where(_conversations.c.id > last, _conversations.c.first_response_at.is_not(None))
                            .order_by(_conversations.c.id).limit(_CHUNK)).all()
        if not rows:
            return
        values = [{"key": key, "us": max(timedelta(0), answered - seen) // timedelta(microseconds=1)}
                  for key, seen, answered in rows]
        bind.execute(sa.text("UPDATE conversations SET first_response_business_us = :us, "
                             "first_response_calendar_us = :us, first_response_hours = :hours WHERE id = :key"),
                     [dict(v, hours=ALWAYS_OPEN) for v in values])
        last = rows[-1][0]


def downgrade() -> None:
    for table, name, _ in _INDEXES:
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('first_response_hours')
        batch_op.drop_column('first_response_calendar_us')
        batch_op.drop_column('first_response_business_us')
