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
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, and_, or_, union
from sqlmodel import Session, col, select

from bot.store.models import Conversation

# A token, as both databases cut text into tokens (see the module docstring).
_TOKEN = re.compile(r"[^\W_]+")
_TOKENS_MAX = 8  # per word: "a.b.c.d…" typed by someone cannot grow the query without bound
RARE = 2000  # index hits below which a word's hits lead the query (see `words_condition`)

SEARCH_TABLES = ("messages_fts", "customers_fts")  # SQLite (each with FTS5's shadow tables)
SEARCH_COLUMN = "search_vector"  # PostgreSQL, on messages and customers
SEARCH_INDEXES = ("ix_messages_search", "ix_customers_search")
# Revision 0008 also makes these; the last is the newest-first order `find` and `customer` list in.
EXPRESSION_INDEXES = ("ix_customers_handle_lower", "ix_customers_name_lower", "ix_conversations_newest")
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


class Word:
    """One typed word, as conditions on `Conversation` for `dialect` ("sqlite" or "postgresql").

    `among` finds the conversations through the index (their ids, collected once: cheap for a rare
    word, costly for one in every third message); `within` checks one conversation at a time (its
    messages through `conversation_id`, each against the index): cheap per row, so a query led by
    the newest-first index stops as soon as it has its page. `hits` counts index entries up to a cap
    to choose between them.
    """

    def __init__(self, dialect: str, parts: Sequence[str]) -> None:
        self.postgres = dialect == "postgresql"
        self.query: Any = (sa.func.to_tsquery(sa.literal_column("'simple'"), tsquery(parts)) if self.postgres
                           else fts5_query(parts))

    def _matches(self, table: Any) -> ColumnElement[bool]:
        if self.postgres:
            return table.c.search_vector.op("@@")(self.query)
        return sa.literal_column(table.name).op("MATCH")(self.query)

    def hits(self, session: Session, cap: int) -> int:
        """Messages and customers the word is found in, counted up to `cap` each."""
        tables = (_MESSAGES, _CUSTOMERS) if self.postgres else (_MESSAGES_FTS, _CUSTOMERS_FTS)
        return sum(session.execute(select(sa.func.count()).select_from(
            select(sa.literal_column("1")).select_from(t).where(self._matches(t)).limit(cap).subquery())).scalar_one()
            for t in tables)

    def among(self) -> ColumnElement[bool]:
        if self.postgres:
            message_ids = select(_MESSAGES.c.conversation_id).where(self._matches(_MESSAGES))
            customer_ids = select(_CUSTOMERS.c.id).where(self._matches(_CUSTOMERS))
        else:
            hits = select(_MESSAGES_FTS.c.rowid).where(self._matches(_MESSAGES_FTS))
            message_ids = select(_MESSAGES.c.conversation_id).where(_MESSAGES.c.id.in_(hits))
            customer_ids = select(_CUSTOMERS_FTS.c.rowid).where(self._matches(_CUSTOMERS_FTS))
        return or_(col(Conversation.id).in_(message_ids), col(Conversation.customer_id).in_(customer_ids))

    def conversation_ids(self, session: Session) -> list[int]:
        """The conversations the word is found in, as a list (one query; each side through its index)."""
        customers = select(_CUSTOMERS.c.id).where(self._matches(_CUSTOMERS))
        found = union(select(_MESSAGES.c.conversation_id).where(self._matches(_MESSAGES)),
                      select(col(Conversation.id)).where(col(Conversation.customer_id).in_(customers)))
        return list(session.execute(found).scalars())

    def within(self) -> ColumnElement[bool]:
        mine = _MESSAGES.c.conversation_id == Conversation.id
        if self.postgres:
            # OFFSET 0 keeps each EXISTS a per-row probe: otherwise PostgreSQL turns it into a hashed
            # subplan over every hit of the word (and drops a LIMIT 1), the cost this path avoids.
            in_messages = select(sa.literal(1)).select_from(_MESSAGES).where(
                mine, self._matches(_MESSAGES)).offset(0).exists()
            in_customer = select(sa.literal(1)).select_from(_CUSTOMERS).where(
                _CUSTOMERS.c.id == Conversation.customer_id, self._matches(_CUSTOMERS)).offset(0).exists()
        else:
            in_messages = sa.exists().where(mine, _MESSAGES_FTS.c.rowid == _MESSAGES.c.id,
                                            self._matches(_MESSAGES_FTS))
            in_customer = sa.exists().where(_CUSTOMERS_FTS.c.rowid == Conversation.customer_id,
                                            self._matches(_CUSTOMERS_FTS))
        return or_(in_messages, in_customer)


def words_condition(session: Session, typed: Sequence[str], rare: int = RARE) -> ColumnElement[bool] | None:
    """Conversations where every typed word is found (see `Word`); None when a word has no token.

    PostgreSQL: when some word is rare (fewer than `rare` hits), its hits lead and the others are
    checked on those conversations only; when every word is common, each is checked row by row, so the
    newest-first order index leads and the query stops at its LIMIT. SQLite: every word's hits are
    collected (see below)."""
    parts = [tokens(w) for w in typed]
    if not parts or not all(parts):
        return None
    words = [Word(session.get_bind().dialect.name, p) for p in parts]
    if not words[0].postgres:
        # FTS5 expands a prefix into every matching term's hits on each lookup, even one bounded by
        # rowid, so row-by-row checks cost more than collecting each word's hits once.
        return and_(*(w.among() for w in words))
    counted = sorted((w.hits(session, rare), i) for i, w in enumerate(words))
    count, first = counted[0]
    if count >= rare:
        return and_(*(w.within() for w in words))
    # Its few conversations, listed first: as a subquery the planner would walk the newest-first index.
    ids = words[first].conversation_ids(session)
    return and_(col(Conversation.id).in_(ids), *(w.within() for i, w in enumerate(words) if i != first))


__all__ = ["SEARCH_COLUMN", "SEARCH_INDEXES", "SEARCH_TABLES", "Word", "fts5_query", "include_name", "tokens",
           "tsquery", "words_condition"]
