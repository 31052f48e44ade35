"""saved replies, once-only claims, SLA clock and "is replying" columns, stored outbox payloads

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.store.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('created_at', bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'claims',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column('claimed_at', bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claims_claimed_at'), ['claimed_at'], unique=False)
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting_since', bot.store.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sla_paused_since', bot.store.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sla_paused_seconds', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('replying_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('replying_at', bot.store.models.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload', sa.Text(), nullable=True))
    # Cases open before this revision: their customers wait since their last unanswered message.
    op.execute(
        "UPDATE conversations SET waiting_since = last_customer_message_at "
        "WHERE status = 'open' AND (last_response_at IS NULL OR last_customer_message_at > last_response_at)"
    )


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('payload')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('replying_at')
        batch_op.drop_column('replying_by')
        batch_op.drop_column('sla_paused_seconds')
        batch_op.drop_column('sla_paused_since')
        batch_op.drop_column('waiting_since')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claims_claimed_at'))
    op.drop_table('claims')
    op.drop_table('templates')
