"""outbox.rank (delivery class fixed when queued) and the partial queue index (channel, rank, id)

Revision ID: 0006_outbox_rank
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

QUEUED = sa.text("status IN ('pending', 'sending')")


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rank', sa.Integer(), server_default='3', nullable=False))
    # Rows queued before this revision: the queue is keyed by channel, which enqueue always set for
    # new rows; fill it from the conversation where an old row left it empty.
    op.execute("UPDATE outbox SET channel = (SELECT channel FROM conversations WHERE conversations.id = "
               "outbox.conversation_id) WHERE channel IS NULL")
    op.execute("UPDATE outbox SET rank = 0 WHERE conversation_id IN (SELECT id FROM conversations WHERE "
               "complaint OR priority = 'urgent')")
    op.execute("UPDATE outbox SET rank = 1 WHERE rank = 3 AND conversation_id IN (SELECT id FROM conversations "
               "WHERE priority = 'high')")
    op.create_index('ix_outbox_queue', 'outbox', ['channel', 'rank', 'id'], unique=False,
                    sqlite_where=QUEUED, postgresql_where=QUEUED)


def downgrade() -> None:
    op.drop_index('ix_outbox_queue', table_name='outbox', sqlite_where=QUEUED, postgresql_where=QUEUED)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('rank')
