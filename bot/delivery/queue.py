"""The outbox as a priority queue per channel: which channels have queued items, and which item of
a channel goes next — each one indexed query, whatever the queue's length.

A channel's next item is its lowest (rank, id) *head* that is due. A head is an item nothing else
of its conversation must precede: the conversation's card first (the lowest queued POST_CARD), then
its other items in id order; thread messages and card updates also wait until the card has a ts.
So a complaint queued after 200 routine mentions goes before them, while each thread stays in order.

The queue is the partial index `ix_outbox_queue` (channel, rank, id) over queued rows only, so the
next item is found by walking that index from its start; sent history is never read. On PostgreSQL
the row is locked with FOR UPDATE SKIP LOCKED, so replicas sharing the database each take a
different item.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from bot.store import presence
from bot.store.models import Conversation, Customer, Message, OutboxItem, OutboxKind, OutboxStatus

_CARD = OutboxKind.POST_CARD
# The partial index's predicate (bot.store.models.QUEUED) word for word, qualified: the planners use
# a partial index only when they can see the query's filter implies it, which bound parameters hide.
_QUEUED = sa.text("outbox.status IN ('pending', 'sending')")


# The channels with queued items, read by skipping through the queue index one channel at a time
# (a "loose index scan": one index probe per channel, however many items are queued), the channel
# whose first item is most pressing (lowest rank, then oldest) first.
_CHANNELS = """
WITH RECURSIVE lanes(channel) AS (
    SELECT MIN(channel) FROM outbox {hint} WHERE outbox.status IN ('pending', 'sending')
    UNION ALL
    SELECT (SELECT MIN(o.channel) FROM outbox AS o {hint} WHERE o.status IN ('pending', 'sending')
            AND o.channel > lanes.channel)
    FROM lanes WHERE lanes.channel IS NOT NULL
)
SELECT lanes.channel, first.rank, first.id FROM lanes JOIN outbox AS first ON first.id = (
    SELECT f.id FROM outbox AS f WHERE f.status IN ('pending', 'sending') AND f.channel = lanes.channel
    ORDER BY f.rank, f.id LIMIT 1)
ORDER BY first.rank, first.id
"""
# SQLite has no statistics unless ANALYZE ran, and then prefers the plain status index, which reads
# every queued row; name the queue index for it. PostgreSQL's planner finds it on its own.
_SQLITE_HINT = "INDEXED BY ix_outbox_queue"


def queued_channels(session: Session) -> list[str]:
    """Every channel with at least one queued (pending or sending) item, read from the queue index;
    the channel with the most pressing (lowest rank, then oldest) item first."""
    connection = session.connection()
    hint = _SQLITE_HINT if connection.dialect.name == "sqlite" else ""
    return [row[0] for row in connection.execute(sa.text(_CHANNELS.format(hint=hint)))]


def move_thread(session: Session, *, conversation_id: int, channel: str) -> None:
    """Queue a conversation's remaining thread items under `channel` (the ID Slack answered with when
    the card went to a channel named another way), so one Slack channel is one lane, paced once."""
    session.exec(sa.update(OutboxItem).where(
        col(OutboxItem.conversation_id) == conversation_id, _QUEUED,
        col(OutboxItem.kind).not_in((OutboxKind.CHANNEL_MESSAGE, OutboxKind.ROLLUP)),
    ).values(channel=channel))


def _is_head() -> sa.ColumnElement[bool]:
    """True for an item no other queued item of its conversation must precede (see the module doc)."""
    other = aliased(OutboxItem)
    this_is_card = col(OutboxItem.kind) == _CARD
    other_is_card = col(other.kind) == _CARD
    earlier = col(other.id) < col(OutboxItem.id)
    blocker = sa.or_(
        sa.and_(other_is_card, sa.or_(sa.not_(this_is_card), earlier)),  # its card, or an earlier card
        sa.and_(sa.not_(other_is_card), sa.not_(this_is_card), earlier),  # an earlier item of the thread
    )
    return ~sa.exists().where(
        col(other.conversation_id) == col(OutboxItem.conversation_id),
        col(other.status).in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
        blocker,
    )


class Head(NamedTuple):
    """A claimable item with what rendering it needs, read in the same query."""

    item: OutboxItem
    conversation: Conversation
    customer: Customer | None
    message: Message | None  # the item's own message (a card's opening message, a follow-up)


def next_in(session: Session, channel: str, now: datetime, *, recovering: bool, skip: Collection[int],
            lock: bool, alive: presence.Presence | None = None) -> Head | None:
    """The channel's next due head, or None if none is due now.

    Due: never tried, or its retry time (or a SENDING item's lease) has come; an item left in SENDING
    by a process that is no longer alive (`alive`: this process's presence, bot/store/presence.py)
    is due at once, and so, with `recovering` (a single process's first drain), is any SENDING item.
    `skip` leaves out items already tried in this drain. `lock` (PostgreSQL) locks the row, skipping
    rows another worker holds.
    """
    heads = next_heads(session, channel, now, limit=1, recovering=recovering, skip=skip, lock=lock, alive=alive)
    return heads[0] if heads else None


def next_heads(session: Session, channel: str, now: datetime, *, limit: int, recovering: bool,
               skip: Collection[int], lock: bool, alive: presence.Presence | None = None) -> list[Head]:
    """The channel's next `limit` due heads in delivery order (as `next_in`), one per conversation:
    a conversation has one head at a time, so the items taken together never depend on each other."""
    params: dict[str, object] = {"channel": channel, "now": now, "limit": limit}
    if skip:
        params["skip"] = list(skip)
    if alive is not None:
        params |= alive.params()
    statement = _next_statement(recovering, lock, bool(skip), alive.dialect if alive is not None else None)
    return [Head(*row) for row in session.exec(statement, params=params).all()]


@functools.cache
def _next_statement(recovering: bool, lock: bool, skipping: bool,
                    orphans_in: str | None) -> Select[OutboxItem, Conversation, Customer, Message]:
    """The claim query, built once per variant (building it costs more than running it);
    `orphans_in` names the dialect whose liveness test finds orphaned SENDING items."""
    due = sa.or_(col(OutboxItem.next_attempt_at).is_(None), col(OutboxItem.next_attempt_at) <= sa.bindparam("now"))
    if recovering:
        due = sa.or_(due, col(OutboxItem.status) == OutboxStatus.SENDING)
    elif orphans_in is not None:
        due = sa.or_(due, sa.and_(col(OutboxItem.status) == OutboxStatus.SENDING,
                                  presence.orphaned(col(OutboxItem.claimed_by), orphans_in)))
    needs_none = (_CARD, OutboxKind.CHANNEL_MESSAGE, OutboxKind.ROLLUP)
    has_card_or_needs_none = sa.or_(col(OutboxItem.kind).in_(needs_none),
                                    col(Conversation.slack_ts).is_not(None))
    stmt = (
        select(OutboxItem, Conversation, Customer, Message)
        .join(Conversation, col(Conversation.id) == col(OutboxItem.conversation_id))
        .outerjoin(Customer, col(Customer.id) == col(Conversation.customer_id))
        .outerjoin(Message, col(Message.id) == col(OutboxItem.message_id))
        .where(col(OutboxItem.channel) == sa.bindparam("channel"), _QUEUED, due, has_card_or_needs_none, _is_head())
        .order_by(col(OutboxItem.rank), col(OutboxItem.id))
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )
    if skipping:
        stmt = stmt.where(col(OutboxItem.id).not_in(sa.bindparam("skip", expanding=True)))
    if lock:
        stmt = stmt.with_for_update(skip_locked=True, of=OutboxItem)
    return stmt
