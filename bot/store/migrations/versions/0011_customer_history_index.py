"""An index for one customer's cases newest first (`/social customer`)

`/social customer` lists the newest cases of every account it matched (thousands when a display name
is common) in the newest-first order of `find`, and profiles the accounts it lists (each one's cases,
its newest first). With only `customer_id` indexed, both databases read every matching case whole
(about 8 000 rows for a common name at 1 000 000 cases, 1 700 for one heavy writer's profile); with
the order key beside `customer_id` the ids come from the index and only the listed page is read.

Revision ID: 0011
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


# PostgreSQL reads these from the index alone (an index-only scan: no visit to the table's rows), so a
# profile's cases (bot/store/profile.py) and a common name's accounts cost no random reads. SQLite
# has no INCLUDE and was not slow there: it gets the key columns only.
_CASE_COLUMNS = ['last_customer_message_at', 'first_seen_at', 'ref', 'status', 'csat_score', 'csat_at']


def upgrade() -> None:
    op.create_index('ix_conversations_customer_newest', 'conversations',
                    ['customer_id', sa.text('coalesce(last_customer_message_at, first_seen_at)'), 'id'], unique=False,
                    postgresql_include=_CASE_COLUMNS)
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index('ix_customers_name_lower_id', 'customers', [sa.text('lower(name)')], unique=False,
                        postgresql_include=['id', 'name'])


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_customers_name_lower_id', table_name='customers')
    op.drop_index('ix_conversations_customer_newest', table_name='conversations')
