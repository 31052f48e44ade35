"""Full-text search (SQLite FTS5, PostgreSQL tsvector) and the indexes a large store needs

The search index covers the rows already stored (FTS5 'rebuild'; a STORED generated column is
computed for every row when it is added). Tokens: runs of letters and digits, no case, no stemming
(bot/store/search.py says why). The other indexes serve the period counts of the reports
(first_seen_at, first_response_at, resolved_at, CSAT asked and answered, messages.created_at),
`customer` (handle and name without case), the newest-first order of `find` and `customer`, and
the cases not resolved (a partial index: what the reminder tick and the reports' "now" figures read).

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# SQLite: external-content FTS5 tables (the text stays in messages/customers) and the triggers that
# keep them in step. Written out here, not imported: a revision must keep doing what it did.
_SQLITE_UP = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER messages_fts_au AFTER UPDATE OF text ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
    "CREATE VIRTUAL TABLE customers_fts USING fts5(handle, name, content='customers', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER customers_fts_ai AFTER INSERT ON customers BEGIN "
    "INSERT INTO customers_fts(rowid, handle, name) VALUES (new.id, new.handle, new.name); END",
    "CREATE TRIGGER customers_fts_ad AFTER DELETE ON customers BEGIN "
    "INSERT INTO customers_fts(customers_fts, rowid, handle, name) VALUES ('delete', old.id, old.handle, old.name); "
    "END",
    "CREATE TRIGGER customers_fts_au AFTER UPDATE OF handle, name ON customers BEGIN "
    "INSERT INTO customers_fts(customers_fts, rowid, handle, name) VALUES ('delete', old.id, old.handle, old.name); "
    "INSERT INTO customers_fts(rowid, handle, name) VALUES (new.id, new.handle, new.name); END",
    "INSERT INTO customers_fts(customers_fts) VALUES ('rebuild')",
    # The terms each index holds: `find` spells a typed prefix out as them (bot/store/search.py).
    "CREATE VIRTUAL TABLE messages_fts_vocab USING fts5vocab(messages_fts, 'row')",
    "CREATE VIRTUAL TABLE customers_fts_vocab USING fts5vocab(customers_fts, 'row')",
)
_SQLITE_DOWN = (
    "DROP TABLE IF EXISTS messages_fts_vocab", "DROP TABLE IF EXISTS customers_fts_vocab",
    "DROP TRIGGER IF EXISTS messages_fts_ai", "DROP TRIGGER IF EXISTS messages_fts_ad",
    "DROP TRIGGER IF EXISTS messages_fts_au", "DROP TABLE IF EXISTS messages_fts",
    "DROP TRIGGER IF EXISTS customers_fts_ai", "DROP TRIGGER IF EXISTS customers_fts_ad",
    "DROP TRIGGER IF EXISTS customers_fts_au", "DROP TABLE IF EXISTS customers_fts",
)
# PostgreSQL: every run of characters other than letters and digits becomes a space first, so the
# parser cuts text where FTS5's unicode61 does ("acme.com" → acme, com).
_TOKENS = "regexp_replace({}, '[^[:alnum:]]+', ' ', 'g')"
_CUSTOMER_TEXT = "handle || ' ' || name"
_POSTGRES_UP = (
    "ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    f"(to_tsvector('simple', {_TOKENS.format('text')})) STORED",
    "CREATE INDEX ix_messages_search ON messages USING gin (search_vector)",
    "ALTER TABLE customers ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    f"(to_tsvector('simple', {_TOKENS.format(_CUSTOMER_TEXT)})) STORED",
    "CREATE INDEX ix_customers_search ON customers USING gin (search_vector)",
)
_POSTGRES_DOWN = (
    "DROP INDEX IF EXISTS ix_customers_search", "ALTER TABLE customers DROP COLUMN IF EXISTS search_vector",
    "DROP INDEX IF EXISTS ix_messages_search", "ALTER TABLE messages DROP COLUMN IF EXISTS search_vector",
)
_INDEXES = (
    ("conversations", "ix_conversations_first_seen_at", ["first_seen_at"]),
    ("conversations", "ix_conversations_first_response_at", ["first_response_at"]),
    ("conversations", "ix_conversations_resolved_at", ["resolved_at"]),
    ("conversations", "ix_conversations_csat_asked_at", ["csat_asked_at"]),
    ("conversations", "ix_conversations_csat_at", ["csat_at"]),
    ("messages", "ix_messages_created_at", ["created_at"]),
)
_LOWER = (("ix_customers_handle_lower", "handle"), ("ix_customers_name_lower", "name"))


def upgrade() -> None:
    for table, name, columns in _INDEXES:
        op.create_index(name, table, columns, unique=False)
    for name, column in _LOWER:
        op.create_index(name, 'customers', [sa.text(f'lower({column})')], unique=False)
    # The cases not resolved (the reminder tick, overdue, "waiting"): a partial index, small for ever.
    active = sa.text("status IN ('open', 'pending', 'snoozed')")
    op.create_index('ix_conversations_active', 'conversations', ['id'], unique=False, sqlite_where=active,
                    postgresql_where=active)
    # Newest first (`find`, `customer`): walked in order, a search for common words stops at its page.
    op.create_index('ix_conversations_newest', 'conversations',
                    [sa.text('coalesce(last_customer_message_at, first_seen_at)'), 'id'], unique=False)
    for statement in _POSTGRES_UP if op.get_bind().dialect.name == 'postgresql' else _SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in _POSTGRES_DOWN if op.get_bind().dialect.name == 'postgresql' else _SQLITE_DOWN:
        op.execute(statement)
    op.drop_index('ix_conversations_newest', table_name='conversations')
    op.drop_index('ix_conversations_active', table_name='conversations')
    for name, _ in _LOWER:
        op.drop_index(name, table_name='customers')
    for table, name, _ in _INDEXES:
        op.drop_index(name, table_name=table)
