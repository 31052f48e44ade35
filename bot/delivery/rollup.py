"""Storm mode's roll-ups on the outbox side: turning a channel's queued routine cards into one
ROLLUP item, and settling its members when it is sent or dies.

A roll-up is made when a storming channel's next item is a routine card (bot/delivery/claiming.py):
up to `ROLLUP_MAX` of the channel's due routine cards are taken, oldest first, and in ONE transaction
a ROLLUP item is written (its content rendered now and stored in `payload`, with the member item ids)
and claimed, and its member cards are marked ROLLED_UP, which takes them out of the queue. From
there the ROLLUP is an ordinary outbox item: metadata key, SENDING before the call, looked up by its
key after a crash, so it is posted at most once like any card. When it is sent, its members get its
ts; if it dies, its members go back to the queue as cards, so nothing is lost.

Only a case with nothing else queued is rolled up: a case with a follow-up or a staff action waiting
needs a thread, so it gets its own card. A case rolled up that later gets one (a follow-up, a
staff action, "Open as card") is given its own card then (bot.store.outbox.open_card). On PostgreSQL
the members and their conversations are locked (SKIP LOCKED), so an ingest that is adding a
follow-up to one of them is either waited for or skipped, never missed.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot import cards
from bot.cards.rollup import ROLLUP_MAX, RollupEntry, rollup
from bot.delivery import storm_plan
from bot.store.keys import row_id
from bot.store.models import Conversation, Customer, Message, OutboxItem, OutboxKind, OutboxStatus
from bot.store.outbox import ACTIVE, ROUTINE, URGENT

MIN_MEMBERS = 2  # a lone routine card is simply posted as a card
_QUEUED = sa.text("outbox.status IN ('pending', 'sending')")  # the queue index's predicate (queue.py)


@dataclass(frozen=True)
class Rolled:
    item: OutboxItem  # the ROLLUP, claimed (SENDING, one attempt, leased)
    content: cards.SlackMessage


def roll_up(session: Session, channel: str, now: datetime, *, lease: timedelta, lock: bool,
            storm_started: datetime | None = None, size: int = ROLLUP_MAX, complaints: bool = False,
            skip: int = 0, claimer: int | None = None) -> Rolled | None:
    """Claim up to `size` (at most ROLLUP_MAX) of the channel's due routine cards as one ROLLUP item
    (see the module doc); None when fewer than MIN_MEMBERS can be rolled up. Runs in the claimer's
    transaction. `complaints`: roll up plain complaints instead (`storm_plan.plain_complaint`), the
    `skip` oldest left to be carded one by one."""
    rows = _candidates(session, channel, now, lock, size=min(size, ROLLUP_MAX), complaints=complaints, skip=skip)
    if len(rows) < MIN_MEMBERS:
        return None
    entries = [RollupEntry(conversation_id=row_id(c), ref=c.ref or row_id(c), platform=c.platform, kind=c.kind,
                           handle=customer.handle, text=message.text if message is not None else "",
                           url=(message.url if message is not None else None) or c.url)
               for _, c, customer, message in rows]
    content = rollup(entries, storm_started=storm_started, complaints=complaints)
    members = [item for item, *_ in rows]
    payload = {"text": content.text, "blocks": content.blocks, "colour": None, "members": [row_id(m) for m in members]}
    first = members[0]
    # A fresh key per roll-up: a case given back by a roll-up that died may be rolled up again.
    item = OutboxItem(key=f"rollup:{first.conversation_id}:{uuid.uuid4().hex}", kind=OutboxKind.ROLLUP,
                      conversation_id=first.conversation_id, payload=json.dumps(payload), channel=channel,
                      rank=URGENT if complaints else ROUTINE, status=OutboxStatus.SENDING,
                      attempts=1, next_attempt_at=now + lease, claimed_by=claimer)
    session.add(item)
    for member in members:
        member.status, member.next_attempt_at = OutboxStatus.ROLLED_UP, None
        session.add(member)
    session.flush()
    return Rolled(item.model_copy(), content)


def _candidates(session: Session, channel: str, now: datetime, lock: bool, *, size: int, complaints: bool,
                skip: int) -> list[tuple[OutboxItem, Conversation, Customer, Message | None]]:
    other = aliased(OutboxItem)
    alone = ~sa.exists().where(col(other.conversation_id) == col(OutboxItem.conversation_id),
                               col(other.id) != col(OutboxItem.id), col(other.status).in_(ACTIVE))
    due = sa.or_(col(OutboxItem.next_attempt_at).is_(None), col(OutboxItem.next_attempt_at) <= now)
    stmt = (
        select(OutboxItem, Conversation, Customer, Message)
        .join(Conversation, col(Conversation.id) == col(OutboxItem.conversation_id))
        .join(Customer, col(Customer.id) == col(Conversation.customer_id))
        .outerjoin(Message, col(Message.id) == col(OutboxItem.message_id))
        .where(col(OutboxItem.channel) == channel, _QUEUED,
               storm_plan.plain_complaint() if complaints else col(OutboxItem.rank) == ROUTINE,
               col(OutboxItem.status) == OutboxStatus.PENDING, col(OutboxItem.kind) == OutboxKind.POST_CARD,
               col(Conversation.slack_ts).is_(None), due, alone)
        .order_by(col(OutboxItem.rank), col(OutboxItem.id))
        .offset(skip).limit(size)
    )
    if lock:
        stmt = stmt.with_for_update(skip_locked=True, of=[OutboxItem, Conversation])
    return [(r[0], r[1], r[2], r[3]) for r in session.exec(stmt).all()]


def members(item: OutboxItem) -> list[int]:
    """The outbox ids of the cards a ROLLUP item shows."""
    return list(json.loads(item.payload or "{}").get("members", []))


def settle_sent(session: Session, item: OutboxItem, ts: str, now: datetime) -> None:
    """The roll-up is in Slack: its members are delivered (status stays ROLLED_UP), at its ts."""
    for member in _rows(session, item):
        member.slack_ts, member.sent_at = ts, now
        session.add(member)


def release(session: Session, item: OutboxItem) -> None:
    """The roll-up can never be posted: its members go back to the queue as cards of their own."""
    for member in _rows(session, item):
        if member.status == OutboxStatus.ROLLED_UP:
            member.status, member.next_attempt_at = OutboxStatus.PENDING, None
            session.add(member)


def _rows(session: Session, item: OutboxItem) -> list[OutboxItem]:
    ids = members(item)
    return list(session.exec(select(OutboxItem).where(col(OutboxItem.id).in_(ids))).all()) if ids else []
