"""dead-letter table for messages that cannot be stored; a row the readiness check writes

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.store.models


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'quarantine',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('stream', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_failed_at', bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('platform', 'external_id', name='uq_quarantine_platform_ext'),
    )
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantine_resolved_at'), ['resolved_at'], unique=False)
    op.create_table(
        'health_probe',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('checked_at', bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('health_probe')
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantine_resolved_at'))
    op.drop_table('quarantine')
