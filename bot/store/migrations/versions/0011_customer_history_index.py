"""An index for one customer's cases newest first (`/social customer`)

`/social customer` lists the newest cases of every account it matched (thousands when a display name
is common) in the newest-first order of `find`, and profiles the accounts it lists (each one's cases,
its newest first). With only `customer_id` indexed, both databases read every matching case whole
(about 8 000 rows for a common name at 1 000 000 cases, 1 700 for one heavy writer's profile); with
the order key beside `customer_id` the ids come from the index and only the listed page is read.

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


# Both databases read these from the index alone (no visit to the table's rows), so a heavy writer's
# profile (bot/store/profile.py: its cases' status, ref and CSAT) costs no random reads: PostgreSQL
# carries them as INCLUDE columns, SQLite (no INCLUDE) as trailing key columns. PostgreSQL also gets
# a name index carrying ids (SQLite's rowid is in every index already).
_CASE_COLUMNS = ['last_customer_message_at', 'first_seen_at', 'ref', 'status', 'csat_score', 'csat_at']


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    key = ['customer_id', sa.text('coalesce(last_customer_message_at, first_seen_at)'), 'id']
    op.create_index('ix_conversations_customer_newest', 'conversations', key if postgres else key + _CASE_COLUMNS,
                    unique=False, postgresql_include=_CASE_COLUMNS)
    if postgres:
        op.create_index('ix_customers_name_lower_id', 'customers', [sa.text('lower(name)')], unique=False,
                        postgresql_include=['id', 'name'])


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_customers_name_lower_id', table_name='customers')
    op.drop_index('ix_conversations_customer_newest', table_name='conversations')
