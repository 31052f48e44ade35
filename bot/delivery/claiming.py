"""Choosing and claiming outbox items: which item of each conversation is next, and taking it.

- each conversation has one head: its card if one is still pending, else its lowest id; thread
  messages and card updates wait until the card has a ts, so an item never overtakes its card;
- a head is due when its `next_attempt_at` has passed and its channel is not paused by a 429; an
  item left in SENDING is due at once while the worker is recovering (first drain of a
  single-replica process), otherwise only when its lease expires;
- claiming locks the head (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers can
  share the database), marks it SENDING with one more attempt and a lease, and commits before
  anything goes to Slack; pending card updates of the same conversation are claimed with it, as
  one chat.update shows the latest state for all of them. The content is rendered from the current
  rows in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import sqlalchemy as sa
from sqlalchemy import ScalarResult
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.cards import SlackMessage
from bot.delivery import slack
from bot.store.database import Store
from bot.store.keys import row_id
from bot.store.models import Conversation, OutboxItem, OutboxKind, OutboxStatus
from bot.store.outbox import ACTIVE

# id, conversation_id, kind, status, next_attempt_at, conversation channel, card ts
_HeadRow = tuple[int, int, str, str, datetime | None, str, str | None]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Head:
    """The next item of one conversation (its card first, else its lowest id)."""

    id: int
    channel: str


@dataclass(frozen=True)
class Claim:
    """Outbox items one worker holds in SENDING until it settles them (sent, retry later, dead)."""

    item: OutboxItem  # detached snapshot of the head item, taken when it was claimed
    ids: tuple[int, ...]  # the head plus any card updates collapsed into it
    channel: str
    card_ts: str | None
    was_sending: bool
    content: SlackMessage | None  # None when the item could not be rendered


def is_due(status: str, next_attempt_at: datetime | None, now: datetime, *, recovering: bool) -> bool:
    """True when an active item may be tried now (a SENDING one at once while recovering)."""
    if status == OutboxStatus.SENDING and recovering:
        return True
    return next_attempt_at is None or next_attempt_at <= now


def due_heads(store: Store, now: datetime, *, recovering: bool, paused_until: dict[str, datetime]) -> list[Head]:
    """The head of every conversation that is due now, in a channel not paused by a 429."""
    with store.transaction() as session:
        # Core select: sqlmodel's select() is typed for at most four columns.
        rows = session.connection().execute(
            sa.select(col(OutboxItem.id), col(OutboxItem.conversation_id), col(OutboxItem.kind),
                      col(OutboxItem.status), col(OutboxItem.next_attempt_at), col(Conversation.channel),
                      col(Conversation.slack_ts))
            .join(Conversation, col(Conversation.id) == col(OutboxItem.conversation_id))
            .where(col(OutboxItem.status).in_(ACTIVE))
            .order_by(col(OutboxItem.id))
        ).all()
    first: dict[int, _HeadRow] = {}
    for row in rows:
        current = first.get(row[1])
        if current is None or (row[2] == OutboxKind.POST_CARD and current[2] != OutboxKind.POST_CARD):
            first[row[1]] = cast(_HeadRow, tuple(row))  # ids read from the table are never None
    heads = []
    for item_id, _, kind, status, next_at, channel, card_ts in first.values():
        if not is_due(status, next_at, now, recovering=recovering) or paused_until.get(channel, now) > now:
            continue
        if kind not in (OutboxKind.POST_CARD, OutboxKind.CHANNEL_MESSAGE) and card_ts is None:
            continue  # waits for its card
        heads.append(Head(item_id, channel))
    return heads


def claim(store: Store, item_id: int, now: datetime, *, lease: timedelta, recovering: bool,
          sla_badge: slack.BadgeFor) -> Claim | None:
    """Lock the item, mark it SENDING (+1 attempt) and commit; render its content meanwhile.

    None when another worker holds the item or it is no longer due.
    """
    with store.transaction() as session:
        item = _locked(store, session, select(OutboxItem).where(OutboxItem.id == item_id)).first()
        if item is None or item.status not in ACTIVE or not is_due(
                item.status, item.next_attempt_at, now, recovering=recovering):
            return None  # another worker has it, or it changed since we looked
        conversation = session.get_one(Conversation, item.conversation_id)  # a foreign key: it exists
        items = [item]
        if item.kind == OutboxKind.UPDATE_CARD:  # one chat.update shows the latest state for all
            items += _locked(store, session, select(OutboxItem).where(
                OutboxItem.conversation_id == item.conversation_id, OutboxItem.id != item.id,
                OutboxItem.kind == OutboxKind.UPDATE_CARD, col(OutboxItem.status).in_(ACTIVE),
            )).all()
        was_sending = item.status == OutboxStatus.SENDING
        try:
            content: SlackMessage | None = slack.render(session, item, conversation, now, sla_badge=sla_badge)
        except slack.RenderError:
            log.exception("outbox item %s cannot be rendered", item.key)
            content = None
        for row in items:
            row.status = OutboxStatus.SENDING
            row.attempts += 1
            row.next_attempt_at = now + lease
            session.add(row)
        session.flush()
        target = item.channel if item.kind == OutboxKind.CHANNEL_MESSAGE and item.channel else conversation.channel
        return Claim(item.model_copy(), tuple(row_id(r) for r in items), target,
                     conversation.slack_ts, was_sending, content)


def _locked(store: Store, session: Session, stmt: SelectOfScalar[OutboxItem]) -> ScalarResult[OutboxItem]:
    """Run a select of outbox rows, skipping rows another worker holds (PostgreSQL only)."""
    if store.is_postgres:
        stmt = stmt.with_for_update(skip_locked=True)
    return session.exec(stmt)
