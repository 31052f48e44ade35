"""conversations.csat_asked_at, csat_score, csat_at: the satisfaction question and its answer

Revision ID: 0007_csat
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

from bot.store.columns import UTCDateTime


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('csat_asked_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('csat_score', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('csat_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('csat_at')
        batch_op.drop_column('csat_score')
        batch_op.drop_column('csat_asked_at')
