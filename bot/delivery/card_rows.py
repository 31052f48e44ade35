"""What a batch of cards needs besides its items' own rows (conversation, customer, message: read
with the claim, bot/delivery/queue.py): each customer's profile, the comments hidden in each case
and each case's last public reply — read for the whole batch at once, four queries per batch
however many cards it holds, never four per card."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.delivery.queue import Head
from bot.replies import moderation
from bot.store.models import AuditEntry, DeliveryStatus, Direction, Message, OutboxKind
from bot.store.profile import CustomerProfile, customer_profiles

_CARDS = (OutboxKind.POST_CARD, OutboxKind.UPDATE_CARD)


@dataclass(frozen=True)
class CardRows:
    """One card's rows beyond its conversation, customer and opening message."""

    profile: CustomerProfile
    hidden: list[AuditEntry]  # moderation.hidden_entries
    last_reply: Message | None  # the latest reply Parley delivered in the case
    opening: Message | None = None  # the case's first message (read for a card update)


def load(session: Session, heads: Sequence[Head]) -> dict[int, CardRows]:
    """The rows of every card among `heads` (built from rows, not stored payloads), by conversation id."""
    cards = [h for h in heads if h.item.kind in _CARDS and not h.item.payload and h.customer is not None]
    if not cards:
        return {}
    ids = [h.conversation.id or 0 for h in cards]
    profiles = customer_profiles(session, [(h.customer, h.conversation) for h in cards if h.customer is not None])
    hidden = moderation.hidden_by_conversation(session, ids)
    replies = {m.conversation_id: m for m in session.exec(_LAST_REPLIES, params={"conversations": ids}).all()}
    updated = [h.conversation.id or 0 for h in cards if h.item.kind == OutboxKind.UPDATE_CARD]
    openings = {m.conversation_id: m for m in session.exec(_OPENINGS, params={"conversations": updated}).all()} \
        if updated else {}
    return {i: CardRows(profile, hidden.get(i, []), replies.get(i), openings.get(i))
            for i, profile in zip(ids, profiles, strict=True)}


def last_reply(session: Session, conversation_id: int) -> Message | None:
    """The latest reply Parley delivered in the case (by delivery time), if any."""
    return session.exec(_LAST_REPLIES, params={"conversations": [conversation_id]}).first()


# Each case's replies numbered newest first; the first of each. Built once (it runs for every card).
_NUMBERED = select(col(Message.id), sa.func.row_number().over(
    partition_by=col(Message.conversation_id),
    order_by=(col(Message.delivered_at).desc(), col(Message.id).desc())).label("n")).where(
    col(Message.conversation_id).in_(sa.bindparam("conversations", expanding=True)),
    Message.direction == Direction.OUTBOUND, Message.delivery_status == DeliveryStatus.SENT).subquery()
_LAST_REPLIES = select(Message).join(_NUMBERED, col(Message.id) == _NUMBERED.c.id).where(_NUMBERED.c.n == 1)
_FIRST = select(sa.func.min(Message.id).label("id")).where(
    col(Message.conversation_id).in_(sa.bindparam("conversations", expanding=True))).group_by(
    col(Message.conversation_id)).subquery()
_OPENINGS = select(Message).join(_FIRST, col(Message.id) == _FIRST.c.id)
