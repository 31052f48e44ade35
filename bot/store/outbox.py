"""The outbox table's write side: a delivery intent stored in the caller's transaction.

`enqueue` writes the row next to the change it announces, so a card or thread message exists
exactly when the change committed; `bot.delivery.worker` sends the rows to Slack. `backoff` is the
retry schedule both sides agree on.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import NamedTuple, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.store.keys import row_id
from bot.store.models import Conversation, Direction, Message, OutboxItem, OutboxKind, OutboxStatus, Priority

ACTIVE = (OutboxStatus.PENDING, OutboxStatus.SENDING)
# Delivery classes, lowest first within a channel (issue 11, "complaints first").
URGENT, REACH, PRIVATE, ROUTINE = 0, 1, 2, 3
# Conversation kinds that are private messages (connectors' `Rules.private_kinds`: X "dm", Facebook
# "messenger"); the store sits beside the connectors, so it names them rather than importing them.
PRIVATE_KINDS = frozenset({"dm", "messenger"})
BACKOFF_BASE = 2.0  # seconds; doubled per attempt
BACKOFF_CAP = 300.0


class Payload(Protocol):
    """A message built now and stored as is (what `bot.cards.SlackMessage` is): the store keeps its
    fields as JSON and never imports the card builders, which sit above it."""

    @property
    def text(self) -> str: ...
    @property
    def blocks(self) -> list[dict]: ...
    @property
    def colour(self) -> str | None: ...


def enqueue(
    session: Session,
    *,
    kind: OutboxKind,
    conversation: Conversation,
    message: Message | None = None,
    text: str | None = None,
    key: str | None = None,
    payload: Payload | None = None,
    reply_broadcast: bool = False,
    channel: str | None = None,
) -> OutboxItem:
    """Queue a Slack delivery inside the caller's transaction. Enqueueing an existing key is a no-op
    that returns the existing item, so a repeated poll never queues a second post.

    `payload` is a message built now and sent as is (SLA reminders, digests); `channel` sends a
    CHANNEL_MESSAGE somewhere other than the conversation's channel (e.g. a manager's DM channel).
    The conversation still orders it: it goes after that conversation's earlier items.

    The item's delivery class is `rank_of` now; the conversation's queued items of a lower class are
    raised to it (they must go before it, so they must not wait longer than it). A batch of new
    messages queues its items with `insert_fresh` instead."""
    if conversation.id is None or (message is not None and message.id is None):
        session.flush()
    if key is None:
        suffix = message.id if message is not None else uuid.uuid4().hex
        key = f"{kind}:{conversation.id}:{suffix}"
    existing = session.exec(select(OutboxItem).where(OutboxItem.key == key)).first()
    if existing is not None:
        return existing
    if kind in (OutboxKind.THREAD_MESSAGE, OutboxKind.UPDATE_CARD) and conversation.slack_ts is None:
        # A case shown only in a storm roll-up has no thread to add to: it gets its own card first.
        open_card(session, conversation)
    stored = None
    if payload is not None:
        stored = json.dumps({"text": payload.text, "blocks": payload.blocks, "colour": payload.colour,
                             "reply_broadcast": reply_broadcast})
    item = OutboxItem(key=key, kind=kind, conversation_id=row_id(conversation),
                      message_id=message.id if message is not None else None, text=text, payload=stored,
                      channel=channel or conversation.channel, rank=rank_of(kind, conversation, message))
    session.add(item)
    session.flush()  # the id is the delivery order within the conversation (a flush inserts in add order)
    lift_ranks(session, [item])
    return item


class Queued(Protocol):
    """What `lift_ranks` reads of a queued item."""

    @property
    def id(self) -> int | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def conversation_id(self) -> int: ...
    @property
    def rank(self) -> int: ...


class Fresh(NamedTuple):
    """An item `insert_fresh` queued."""

    id: int
    kind: str
    conversation_id: int
    rank: int


def insert_fresh(session: Session, items: Sequence[tuple[OutboxKind, Conversation, Message]]) -> list[Fresh]:
    """Queue deliveries of messages stored in this transaction (bot/inbound/rows.py): one INSERT for the
    batch, without an ORM object per row (building those was the costliest part of storing a batch's
    rows). No item can have these keys yet, so none is looked up (the unique key still stops a
    repeat); the ids follow the order given, the delivery order within a conversation. The caller
    opens roll-up cases' cards (`open_card`) before and raises ranks (`lift_ranks`) after."""
    if not items:
        return []
    queued = [(kind, conversation, message, rank_of(kind, conversation, message))
              for kind, conversation, message in items]
    rows = [{"key": f"{kind}:{row_id(conversation)}:{row_id(message)}", "kind": kind,
             "conversation_id": row_id(conversation), "message_id": row_id(message),
             "channel": conversation.channel, "rank": rank} for kind, conversation, message, rank in queued]
    ids = session.connection().execute(
        sa.insert(OutboxItem).returning(col(OutboxItem.id), sort_by_parameter_order=True), rows).scalars().all()
    return [Fresh(int(i or 0), kind, row_id(conversation), rank)
            for i, (kind, conversation, _, rank) in zip(ids, queued, strict=True)]


def lift_ranks(session: Session, items: Sequence[Queued]) -> None:
    """What must go before each item (its card, earlier thread items) is lifted to the item's class,
    so a conversation that became a complaint is not held behind routine cards by its own card. One
    statement for all the (flushed) items; the same as lifting after each, as a lift only lowers
    ranks of earlier rows."""
    lifts = [{"conversation": i.conversation_id, "to": i.rank, "before": i.id} for i in items
             if i.kind != OutboxKind.POST_CARD and i.rank < ROUTINE]  # nothing ranks below ROUTINE
    if lifts:
        session.connection().execute(_LIFT, lifts)


_LIFT = sa.update(OutboxItem).where(
    col(OutboxItem.conversation_id) == sa.bindparam("conversation"),
    sa.text("outbox.status IN ('pending', 'sending')"),  # ACTIVE, written out: executemany takes no IN list
    col(OutboxItem.rank) > sa.bindparam("to"), col(OutboxItem.id) < sa.bindparam("before"),
).values(rank=sa.bindparam("to"))


def rolled_up_only(session: Session, conversation_ids: set[int]) -> set[int]:
    """Which of the conversations were shown only in a storm roll-up (a card ROLLED_UP, none queued):
    the cases `open_card` would give a card. One query for a batch, so a batch of follow-ups does not
    ask once per message (each ask also flushed the rows added before it, one INSERT per item)."""
    if not conversation_ids:
        return set()
    cards: dict[int, list[str]] = {}
    for conversation_id, status in session.exec(select(OutboxItem.conversation_id, OutboxItem.status).where(
            col(OutboxItem.conversation_id).in_(conversation_ids), OutboxItem.kind == OutboxKind.POST_CARD)).all():
        cards.setdefault(conversation_id, []).append(status)
    return {c for c, statuses in cards.items()
            if OutboxStatus.ROLLED_UP in statuses and not any(s in ACTIVE for s in statuses)}


def open_card(session: Session, conversation: Conversation, *, rank: int | None = None) -> OutboxItem | None:
    """Queue its own card for a case that was shown only in a storm roll-up (its card rolled up, none
    posted or queued since); None for any other case. Keyed once per case, so a second click or a
    second follow-up queues nothing more. `rank` overrides the class (URGENT: a person asked for it)."""
    cards = session.exec(select(OutboxItem.status).where(
        OutboxItem.conversation_id == conversation.id, OutboxItem.kind == OutboxKind.POST_CARD)).all()
    if conversation.slack_ts is not None or OutboxStatus.ROLLED_UP not in cards or any(s in ACTIVE for s in cards):
        return None
    own = f"post_card:{conversation.id}:own"
    item = enqueue(session, kind=OutboxKind.POST_CARD, conversation=conversation, key=own)
    if rank is not None and item.rank > rank:
        item.rank = rank
        session.add(item)
    return item


def rank_of(kind: OutboxKind, conversation: Conversation, message: Message | None = None) -> int:
    """The item's delivery class. Urgent: a complaint or an urgent case, and whatever follows a
    person's action (card updates, receipts, notes, reminders: someone is looking for it now); then
    high priority (large reach, verified, strongly negative), then private messages, then the rest.
    What a customer's follow-up causes takes its conversation's class as it is when the follow-up arrives."""
    customer_says = message is not None and message.direction == Direction.INBOUND
    if conversation.complaint or conversation.priority == Priority.URGENT:
        return URGENT
    if kind != OutboxKind.POST_CARD and not customer_says:
        return URGENT
    if conversation.priority == Priority.HIGH:
        return REACH
    return PRIVATE if conversation.kind in PRIVATE_KINDS else ROUTINE


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: 2, 4, 8 … capped at 5 minutes."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


