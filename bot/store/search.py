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
generated `search_vector` column on each table with a GIN index. Both are created by revision 0009,
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
TOKEN = re.compile(r"[^\W_]+")
# Letters whose lower case Python and FTS5's unicode61 agree on: ASCII, Latin-1 and Latin Extended-A
# but the dotted capital I (Python lowers it to two characters).
_FOLDS_ALIKE = re.compile("[\x00-\u012f\u0131-\u017f]+")
_TOKENS_MAX = 8  # per word: "a.b.c.d…" typed by someone cannot grow the query without bound
# Index hits below which a word's hits lead the query (`words_condition`). A per-row check costs a few
# microseconds on PostgreSQL and a tenth of a millisecond on SQLite (FTS5 sets up a query each time),
# while collecting hits costs about the same per hit on both: SQLite walks row by row only for words
# in several percent of all messages.
RARE = {"postgresql": 2_000, "sqlite": 50_000}
COMMON_ESTIMATE = 10  # PostgreSQL: an estimate this many times `cap` (and 1 % of messages) is not counted
EXPANSIONS_MAX = 64  # SQLite: terms one typed prefix may stand for in per-row checks (`Word.expand`)

SEARCH_TABLES = ("messages_fts", "customers_fts")  # SQLite (each with FTS5's shadow tables and an fts5vocab)
SEARCH_COLUMN = "search_vector"  # PostgreSQL, on messages and customers
SEARCH_INDEXES = ("ix_messages_search", "ix_customers_search")
# Revision 0009 also makes these; the last is the newest-first order `find` and `customer` list in.
EXPRESSION_INDEXES = ("ix_customers_handle_lower", "ix_customers_name_lower", "ix_conversations_newest",
                      "ix_conversations_customer_newest", "ix_customers_name_lower_id")
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


def folds_alike(token: str) -> bool:
    """Whether Python's lower() folds `token` as the index does (bot/store/search_walk.py relies on it)."""
    return _FOLDS_ALIKE.fullmatch(token) is not None


def tokens(word: str) -> list[str]:
    """The tokens of what someone typed as one word ("order#100_5" → order, 100, 5); punctuation alone
    has none."""
    return TOKEN.findall(word)[:_TOKENS_MAX]


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
        self.parts = list(parts)
        self.query: Any = (sa.func.to_tsquery(sa.literal_column("'simple'"), tsquery(parts)) if self.postgres
                           else fts5_query(parts))
        self.expanded: dict[str, str] = {}  # SQLite: FTS table -> the same query with its prefixes spelled out
        self.in_customers: int | None = None  # customers it is found in (up to a cap), once counted

    def _matches(self, table: Any) -> ColumnElement[bool]:
        if self.postgres:
            return table.c.search_vector.op("@@")(self.query)
        query = self.expanded.get(table.name, self.query)
        return sa.literal_column(table.name).op("MATCH")(query) if query else sa.false()

    def expand(self, session: Session, cap: int = EXPANSIONS_MAX) -> bool:
        """SQLite: spell each prefix out as the terms the index holds that start with it ("refund" →
        refund OR refunded OR refunds), read from the fts5vocab tables. FTS5 re-expands a prefix on
        every lookup, even one bounded by rowid; exact terms are found by seeking, so the per-row checks
        become cheap. False (nothing changed) for a token beyond Latin letters (FTS5 folds case with its
        own tables, which Python's lower() does not match everywhere: final sigma, dotted I) or with more
        than `cap` terms."""
        if not all(folds_alike(t) for t in self.parts):
            return False
        expanded = {}
        for fts in SEARCH_TABLES:
            groups = []
            for token in self.parts:
                low = token.lower()
                terms = session.execute(sa.text(f"SELECT term FROM {fts}_vocab WHERE term >= :low AND term < :high "
                                                "LIMIT :n"), {"low": low, "high": low + "\U0010ffff", "n": cap + 1}
                                        ).scalars().all()
                if len(terms) > cap:
                    return False
                groups.append(" OR ".join('"{}"'.format(t.replace('"', '""')) for t in terms))
            expanded[fts] = " AND ".join(f"({g})" for g in groups) if all(groups) else ""
        self.expanded = expanded
        return True

    def hits(self, session: Session, cap: int) -> int:
        """Messages and customers the word is found in, counted up to `cap` each (PostgreSQL: at least
        `cap`, messages uncounted, when the planner's statistics already say the word is everywhere).
        A word in no customer's handle or name is then not looked for there case by case (`within`)."""
        tables = (_MESSAGES, _CUSTOMERS) if self.postgres else (_MESSAGES_FTS, _CUSTOMERS_FTS)
        self.in_customers = self._count(session, tables[1], max(cap, 1))  # 0 must mean none
        if self.postgres and self._surely_common(session, cap):
            return cap + self.in_customers
        return self._count(session, tables[0], cap) + self.in_customers

    def _count(self, session: Session, table: Any, cap: int) -> int:
        return session.execute(select(sa.func.count()).select_from(select(sa.literal_column("1")).select_from(
            table).where(self._matches(table)).limit(cap).subquery())).scalar_one()

    def _surely_common(self, session: Session, cap: int) -> bool:
        # Counting even `cap` hits reads `cap` rows of messages (tens of milliseconds per common word
        # at a million cases). The planner's estimate is a fraction of a millisecond and close for
        # words in its statistics (most common elements); a word outside them is estimated at under
        # half a percent of the rows, so only an estimate above 1 % (and well above `cap`) is trusted.
        plan = session.execute(sa.text("EXPLAIN (FORMAT JSON) SELECT 1 FROM messages WHERE search_vector @@ "
                                       "to_tsquery('simple', :q)"), {"q": tsquery(self.parts)}).scalar_one()
        rows = session.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = 'messages'::regclass")).scalar_one()
        return float(plan[0]["Plan"]["Plan Rows"]) >= max(COMMON_ESTIMATE * cap, 0.01 * float(rows))

    def _sides(self) -> tuple[Any, Any]:
        """(conversation ids of the messages, customer ids) the word is found in, as subqueries."""
        if self.postgres:
            return (select(_MESSAGES.c.conversation_id).where(self._matches(_MESSAGES)),
                    select(_CUSTOMERS.c.id).where(self._matches(_CUSTOMERS)))
        hits = select(_MESSAGES_FTS.c.rowid).where(self._matches(_MESSAGES_FTS))
        return (select(_MESSAGES.c.conversation_id).where(_MESSAGES.c.id.in_(hits)),
                select(_CUSTOMERS_FTS.c.rowid).where(self._matches(_CUSTOMERS_FTS)))

    def among(self) -> ColumnElement[bool]:
        message_ids, customer_ids = self._sides()
        return or_(col(Conversation.id).in_(message_ids), col(Conversation.customer_id).in_(customer_ids))

    def conversation_ids(self, session: Session) -> list[int]:
        """The conversations the word is found in, as a list (one query; each side through its index)."""
        message_ids, customer_ids = self._sides()
        if self.in_customers == 0:  # else PostgreSQL, expecting thousands of customers, may scan every case
            return list(session.execute(message_ids.distinct()).scalars())
        found = union(message_ids, select(col(Conversation.id)).where(col(Conversation.customer_id).in_(customer_ids)))
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
        # Counted in no customer (hits): one probe per case instead of two (product words, verbs).
        return in_messages if self.in_customers == 0 else or_(in_messages, in_customer)


def words_condition(session: Session, typed: Sequence[str], rare: int | None = None) -> ColumnElement[bool] | None:
    """Conversations where every typed word is found (see `Word`); None when a word has no token.

    When some word is rare (fewer than `rare` hits), its conversations are listed and the other words
    are checked on those only; when every word is common, each is checked row by row, so the
    newest-first order index leads and the query stops at its LIMIT. On SQLite the per-row checks need
    the prefixes spelled out (`Word.expand`); where they cannot be, every word's hits are collected."""
    parts = [tokens(w) for w in typed]
    if not parts or not all(parts):
        return None
    words = [Word(session.get_bind().dialect.name, p) for p in parts]
    if not words[0].postgres and not all(w.expand(session) for w in words):
        return and_(*(w.among() for w in words))  # a prefix too short or not ASCII: collect its hits once
    rare = RARE[session.get_bind().dialect.name] if rare is None else rare
    counted = sorted((w.hits(session, rare), i) for i, w in enumerate(words))
    count, first = counted[0]
    if count >= rare:
        return and_(*(w.within() for w in words))
    others = [w.within() for i, w in enumerate(words) if i != first]
    if not words[first].postgres and count >= RARE["postgresql"]:
        # Thousands of conversations: walk the newest-first index, test membership (the "+ 0" keeps
        # SQLite from driving the query by the list), and check the other words only on members.
        message_ids, customer_ids = words[first]._sides()
        member = or_((col(Conversation.id) + 0).in_(message_ids), (col(Conversation.customer_id) + 0).in_(customer_ids))
        return and_(member, *others)
    if not words[first].postgres:
        return and_(words[first].among(), *others)
    # Its few conversations, listed first: as a subquery PostgreSQL's planner would walk the newest-first
    # index instead, filtering a million rows against them.
    return and_(col(Conversation.id).in_(words[first].conversation_ids(session)), *others)


__all__ = ["SEARCH_COLUMN", "SEARCH_INDEXES", "SEARCH_TABLES", "TOKEN", "Word", "folds_alike", "fts5_query",
           "include_name", "tokens",
           "tsquery", "words_condition"]
