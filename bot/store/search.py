"""Full-text search over customer messages, staff replies and notes, and customers' handles and names:
SQLite FTS5, PostgreSQL `tsvector`. `/social find` reads it through `word_matches`.

**The same words on both databases.** A token is a maximal run of letters and digits (any script),
compared without case; nothing is stemmed and nothing is a stop word. SQLite's `unicode61` tokenizer
(`remove_diacritics 0`) does exactly that; PostgreSQL's parser would keep "acme.com", "foo@bar.com"
or "e-mail" whole, so its generated column first turns every run of other characters into a space
(`regexp_replace`) and uses the `simple` configuration (lower-case, no stemming). Why not a language
configuration: messages come in many languages (English, Spanish, and whatever else customers write)
and a case is found by the words people remember, often a name, an order number or a handle; an
English stemmer would mangle Spanish and the rest, and a per-row configuration would need the query's
language too. Each word people type matches as a **prefix** ("refund" finds "refunds", "devol" finds
"devolución"), so the search stays close to the substring match it replaced without a scan.

**What is indexed.** SQLite: `messages_fts` and `customers_fts` are external-content FTS5 tables
(the text is stored once, in `messages`/`customers`) kept in step by triggers. PostgreSQL: a stored
generated `search_vector` column on each table with a GIN index. Both are created by revision 0008,
which indexes the rows already stored. None of it is on the SQLModel metadata (SQLite has no
`tsvector`; FTS5 tables are virtual), so `include_name` hides them from autogenerate's comparison.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import ColumnElement, or_
from sqlmodel import col, select

from bot.store.models import Conversation

# A token, as both databases cut text into tokens (see the module docstring).
_TOKEN = re.compile(r"[^\W_]+")
_TOKENS_MAX = 8  # per word: "a.b.c.d…" typed by someone cannot grow the query without bound

SEARCH_TABLES = ("messages_fts", "customers_fts")  # SQLite (each with FTS5's shadow tables)
SEARCH_COLUMN = "search_vector"  # PostgreSQL, on messages and customers
SEARCH_INDEXES = ("ix_messages_search", "ix_customers_search")
EXPRESSION_INDEXES = ("ix_customers_handle_lower", "ix_customers_name_lower")  # revision 0008, too
# Lightweight handles on what the metadata does not declare.
_MESSAGES = sa.table("messages", sa.column("id"), sa.column("conversation_id"), sa.column(SEARCH_COLUMN))
_CUSTOMERS = sa.table("customers", sa.column("id"), sa.column(SEARCH_COLUMN))
_MESSAGES_FTS = sa.table("messages_fts", sa.column("rowid"))
_CUSTOMERS_FTS = sa.table("customers_fts", sa.column("rowid"))


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic autogenerate filter: leave the search index and the expression indexes (not on the
    metadata) out of comparisons."""
    if type_ == "table":
        return not any(name == t or (name or "").startswith(f"{t}_") for t in SEARCH_TABLES)
    if type_ == "column":
        return name != SEARCH_COLUMN
    if type_ == "index":
        return name not in SEARCH_INDEXES + EXPRESSION_INDEXES
    return True


def tokens(word: str) -> list[str]:
    """The tokens of what someone typed as one word ("order#100_5" → order, 100, 5); punctuation alone
    has none."""
    return _TOKEN.findall(word)[:_TOKENS_MAX]


def fts5_query(parts: Sequence[str]) -> str:
    """An FTS5 query: every token as a prefix. Tokens are letters and digits only, and quoted, so no
    FTS5 syntax (AND, NEAR, column filters, quotes) can come from what people type."""
    return " AND ".join(f'"{t}"*' for t in parts)


def tsquery(parts: Sequence[str]) -> str:
    """A PostgreSQL tsquery: every token as a prefix (letters and digits only, quoted)."""
    return " & ".join(f"'{t}':*" for t in parts)


def word_matches(dialect: str, word: str) -> ColumnElement[bool] | None:
    """Conversations one typed word finds: in any of their messages, or in their customer's handle or
    name (every token of the word in the same message or customer). None when the word has no token."""
    parts = tokens(word)
    if not parts:
        return None
    if dialect == "postgresql":
        query = sa.func.to_tsquery(sa.literal_column("'simple'"), tsquery(parts))
        message_ids = select(_MESSAGES.c.conversation_id).where(_MESSAGES.c.search_vector.op("@@")(query))
        customer_ids = select(_CUSTOMERS.c.id).where(_CUSTOMERS.c.search_vector.op("@@")(query))
    else:
        text = fts5_query(parts)
        hits = select(_MESSAGES_FTS.c.rowid).where(sa.literal_column("messages_fts").op("MATCH")(text))
        message_ids = select(_MESSAGES.c.conversation_id).where(_MESSAGES.c.id.in_(hits))
        customer_ids = select(_CUSTOMERS_FTS.c.rowid).where(sa.literal_column("customers_fts").op("MATCH")(text))
    return or_(col(Conversation.id).in_(message_ids), col(Conversation.customer_id).in_(customer_ids))


__all__ = ["SEARCH_COLUMN", "SEARCH_INDEXES", "SEARCH_TABLES", "fts5_query", "include_name", "tokens", "tsquery",
           "word_matches"]
