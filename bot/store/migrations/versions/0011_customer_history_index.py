"""An index for one customer's cases newest first (`/social customer`)

`/social customer` lists the newest cases of every account it matched (thousands when a display name
is common) in the newest-first order of `find`. With only `customer_id` indexed, both databases read
every matching case whole to sort them (about 8 000 rows at 1 000 000 cases); with the order key
beside `customer_id` the ids come from the index and only the listed page is read.

Revision ID: 0011
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_conversations_customer_newest', 'conversations',
                    ['customer_id', sa.text('coalesce(last_customer_message_at, first_seen_at)'), 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_conversations_customer_newest', table_name='conversations')
