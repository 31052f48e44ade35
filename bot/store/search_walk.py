"""`/social find` for common words: walk conversations newest first and test each with a plain
substring check in SQL, then confirm the few it returns in Python.

Why: when every typed word is common ("refund", "nobody answered yesterday"), the index lists tens
of thousands of hits per word, so collecting them costs more than the answer; walking the
newest-first index (`ix_conversations_newest`) stops at the page asked for. But asking the full-text
index about one conversation at a time costs about a tenth of a millisecond on SQLite (FTS5 sets up
a query per call): words that meet in one case in a few hundred took most of a second. A substring
test of a conversation's few messages (found by `conversation_id`) costs microseconds; it is a
necessary condition, so the conversations it returns are then confirmed in Python, token by token.

**The same matches as the index.** A word is tokens (bot/store/search.py `tokens`), each found as the
prefix of a token in the same message, or in the customer's handle and name together, compared
without case: what FTS5's `unicode61` and the PostgreSQL `simple` configuration do. Python's
`lower()` agrees with both for Latin letters only, so a word with a token beyond them is left to the
index (`newest_matching` returns None), as are rare words, whose few hits the index lists faster.
SQL's `lower()` folds ASCII alone on SQLite (and on a PostgreSQL database with the C ctype), so the
SQL test looks for each token's longest ASCII run, which the lower-cased text contains whenever the
token matches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.store.models import Conversation, Customer, Message
from bot.store.search import RARE, TOKEN, Word, folds_alike, tokens

WALK_FROM = RARE["postgresql"]  # hits per word from which a walk beats listing them (tests lower it)
WALK_MAX = 50_000  # newest conversations walked at most; beyond, words that seldom meet go to the index
_ASCII_RUN = re.compile(r"[a-z0-9]+")


def _newest() -> Any:
    return sa.func.coalesce(Conversation.last_customer_message_at, Conversation.first_seen_at)


def _run(part: str) -> str:
    return max(_ASCII_RUN.findall(part), key=len, default="")


def _contains(text: Any, parts: Sequence[str]) -> list[Any]:
    return [sa.func.lower(text).contains(run, autoescape=True) for run in map(_run, parts) if run]


def _may_match(parts: Sequence[str], conversation_id: Any) -> Any:
    """SQL: this conversation may hold the word (each token's ASCII run in one message, or in the
    customer's handle and name); a superset of the index's answer."""
    in_message = sa.exists().where(col(Message.conversation_id) == conversation_id,
                                   *_contains(col(Message.text), parts))
    return sa.or_(in_message, sa.and_(sa.true(), *_contains(col(Customer.handle) + " " + col(Customer.name), parts)))


def _has(text: str, parts: Sequence[str]) -> bool:
    """Every part is the prefix of a token of `text` (already lower case)."""
    if not all(p in text for p in parts):
        return False
    folded = TOKEN.findall(text)
    return all(any(t.startswith(p) for t in folded) for p in parts)


def _confirmed(session: Session, candidates: list[tuple[int, int]], words: list[list[str]]) -> list[int]:
    """The candidates (conversation id, customer id), in order, where every word is found."""
    docs: dict[int, list[str]] = {c: [] for c, _ in candidates}
    connection = session.connection()
    for conversation_id, text in connection.execute(sa.select(col(Message.conversation_id), col(Message.text))
                                                    .where(col(Message.conversation_id).in_(docs))):
        docs[conversation_id].append(text.lower())
    who = {i: f"{handle} {name}".lower() for i, handle, name in connection.execute(
        sa.select(col(Customer.id), col(Customer.handle), col(Customer.name))
        .where(col(Customer.id).in_({c for _, c in candidates})))}
    return [c for c, customer in candidates
            if all(any(_has(text, parts) for text in [*docs[c], who.get(customer, "")]) for parts in words)]


def newest_matching(session: Session, typed: Sequence[str], limit: int, *, walk_postgres: bool = False
                    ) -> list[int] | None:
    """Ids of the newest `limit` conversations where every typed word is found, newest first (the
    order of `ix_conversations_newest`); None when the index should answer instead: a word with a
    token beyond Latin letters, a rare word (its hits lead), or too few found among the newest
    WALK_MAX conversations."""
    words = [[t.lower() for t in tokens(w)] for w in typed]
    if session.get_bind().dialect.name == "postgresql" and not walk_postgres:
        return None  # its per-row index probes cost microseconds: the index path is as fast there
    if not words or not all(words) or not all(folds_alike(t) for parts in words for t in parts):
        return None
    dialect = session.get_bind().dialect.name
    if any(Word(dialect, parts).hits(session, WALK_FROM) < WALK_FROM for parts in words):
        return None
    found: list[int] = []
    size, after = limit + 5, None
    while True:
        rows = session.execute(_page(session, words, after, size)).all()
        found += _confirmed(session, [(r[1], r[2]) for r in rows], words)
        if len(found) >= limit or len(rows) < size:
            break
        after, size = (rows[-1][0], rows[-1][1]), size * 2
    if len(found) >= limit or _walked_all(session):
        return found[:limit]
    return None  # too few among the newest WALK_MAX: the index answers (words that seldom meet)


def _page(session: Session, words: list[list[str]], after: tuple[Any, int] | None, size: int) -> Any:
    """The next `size` conversations (newest key, id, customer id) after `after` among the newest
    WALK_MAX that may hold every word, newest first."""
    newest = _newest()
    recent = select(newest.label("k"), col(Conversation.id), col(Conversation.customer_id))
    if after is not None:  # the scalar bound is what SQLite's index seeks on; the pair breaks ties
        recent = recent.where(newest <= _key(newest, after[0]),
                              sa.tuple_(newest, col(Conversation.id)) < sa.tuple_(_key(newest, after[0]), after[1]))
    if session.get_bind().dialect.name == "postgresql":
        # A LIMIT in the subquery bounds the walk; PostgreSQL keeps its index order, so the outer
        # ORDER BY costs no sort and the outer LIMIT stops the walk at the page.
        recent = recent.order_by(newest.desc(), col(Conversation.id).desc()).limit(WALK_MAX)
    else:
        # SQLite would materialise and sort such a subquery: the bound is the WALK_MAX-th newest key
        # instead (an index-only skip, a few milliseconds), and the subquery is flattened.
        bound = session.execute(select(newest, col(Conversation.id)).order_by(
            newest.desc(), col(Conversation.id).desc()).offset(WALK_MAX - 1).limit(1)).first()
        if bound is not None:
            recent = recent.where(newest >= _key(newest, bound[0]))
    r = recent.subquery()
    return (select(r.c.k, r.c.id, r.c.customer_id).join(Customer, col(Customer.id) == r.c.customer_id)
            .where(*(_may_match(parts, r.c.id) for parts in words)).order_by(r.c.k.desc(), r.c.id.desc()).limit(size))


def _walked_all(session: Session) -> bool:
    """Whether the walk saw every conversation (asked only when it ended without filling the page)."""
    return session.exec(select(sa.func.count()).select_from(
        select(col(Conversation.id)).limit(WALK_MAX + 1).subquery())).one() <= WALK_MAX


def _key(newest: Any, value: Any) -> Any:
    return sa.bindparam(None, value, type_=newest.type)


__all__ = ["WALK_FROM", "WALK_MAX", "newest_matching"]
