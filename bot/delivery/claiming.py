"""Claiming outbox items: taking a channel's next item (bot/delivery/queue.py chooses it).

- a channel's next item is its most pressing due conversation head: the lowest (rank, id) among
  the heads — each conversation's card if one is still pending, else its lowest id; thread messages
  and card updates wait until the card has a ts, so an item never overtakes its card;
- a head is due when its `next_attempt_at` has passed; an item left in SENDING is due at once while
  the worker is recovering (first drain of a single-replica process), otherwise only when its
  lease expires;
- claiming locks the head (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers can
  share the database), marks it SENDING with one more attempt and a lease, and commits before
  anything goes to Slack; pending card updates of the same conversation are claimed with it, as
  one chat.update shows the latest state for all of them. The content is rendered from the current
  rows in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import ScalarResult
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.cards import SlackMessage
from bot.delivery import card_rows, queue, rollup, slack, storm_plan
from bot.store.database import Store
from bot.store.keys import row_id
from bot.store.models import Conversation, OutboxItem, OutboxKind, OutboxStatus
from bot.store.outbox import ACTIVE, ROUTINE, URGENT
from bot.store.presence import Presence

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """Outbox items one worker holds in SENDING until it settles them (sent, retry later, dead)."""

    item: OutboxItem  # detached snapshot of the head item, taken when it was claimed
    ids: tuple[int, ...]  # the head plus any card updates collapsed into it
    channel: str
    card_ts: str | None
    was_sending: bool
    content: SlackMessage | None  # None when the item could not be rendered


def claim(store: Store, channel: str, now: datetime, *, lease: timedelta, recovering: bool,
          skip: Collection[int], sla_badge: slack.BadgeFor,
          card_notice: slack.NoticeFor = slack.shipped_card_notice,
          storm: storm_plan.InStorm | None = None, presence: Presence | None = None,
          limit: int = 1) -> list[Claim]:
    """Lock the channel's next due items (up to `limit`, in delivery order), mark them SENDING
    (+1 attempt) and commit; render their content meanwhile. Empty when the channel has no due item
    (or another worker holds every one). The items are heads of different conversations, so they
    may be sent in order without waiting for each other's ts.

    `skip` leaves out items already tried in this drain. `storm` (the channel is in storm mode):
    one item at a time; when the next item is a routine card, the channel's routine cards are
    claimed as one roll-up instead (bot/delivery/rollup.py); when it is a complaint and more
    complaints wait than the pace can card in time, the overflow is claimed as a complaint roll-up
    (bot/delivery/storm_plan.py). `presence` (this process) is written on what it claims, and lets
    it take over items a dead process left in SENDING (bot/store/presence.py).
    """
    claimer = presence.claimer() if presence is not None else None
    # Store.write: on SQLite one snapshot from the first read to the claim's UPDATE (a plain
    # transaction's reads each see the latest commit), so a card never shows older rows than the
    # updates it collapses; it also queues this process's claimers one at a time.
    with store.write() as session:
        found = queue.next_heads(session, channel, now, limit=1 if storm is not None else limit,
                                 recovering=recovering, skip=skip, lock=store.is_postgres, alive=presence)
        if found and storm is not None:
            turn = _storm_turn(session, store, channel, found[0], now, lease=lease, storm=storm, claimer=claimer,
                               recovering=recovering, skip=skip, presence=presence)
            if isinstance(turn, Claim):
                return [turn]
            found = turn
        if not found:
            return []
        updates = _pending_updates(store, session, [h.item for h in found if h.item.kind == OutboxKind.UPDATE_CARD])
        _reread_cases(session, [h.conversation for h in found if h.item.conversation_id in updates])
        rows = card_rows.load(session, found)  # read after the collapsed updates: shows their changes
        claims = [_take(session, head, now, lease=lease, sla_badge=sla_badge, card_notice=card_notice,
                        rows=rows.get(head.conversation.id or 0), collapsed=updates.get(head.item.conversation_id, []),
                        claimer=claimer)
                  for head in found]
        # One statement for the whole batch; the ORM rows stay untouched, so no query in between flushes.
        session.connection().execute(sa.update(OutboxItem).where(
            col(OutboxItem.id).in_([i for c in claims for i in c.ids])).values(
            status=OutboxStatus.SENDING, attempts=col(OutboxItem.attempts) + 1, next_attempt_at=now + lease,
            claimed_by=claimer))
        return claims


def _storm_turn(session: Session, store: Store, channel: str, head: queue.Head, now: datetime, *,
                lease: timedelta, storm: storm_plan.InStorm, claimer: int | None, recovering: bool,
                skip: Collection[int], presence: Presence | None) -> Claim | list[queue.Head]:
    """In storm mode: the roll-up claimed instead of the channel's next card, or the head to claim
    as usual (none: nothing is due but held complaints)."""
    for _ in range(2):  # once more after leaving held complaints for later
        item = head.item
        if item.kind != OutboxKind.POST_CARD or item.status != OutboxStatus.PENDING:
            break
        rolled = _storm_rollup(session, store, channel, item, head.conversation, now, lease=lease, storm=storm,
                               claimer=claimer)
        if isinstance(rolled, rollup.Rolled):
            return Claim(rolled.item, (row_id(rolled.item),), channel, None, False, rolled.content)
        if not rolled:
            break
        found = queue.next_heads(session, channel, now, limit=1, recovering=recovering, skip={*skip, *rolled},
                                 lock=store.is_postgres, alive=presence)
        if not found:
            return []
        head = found[0]
    return [head]


def _storm_rollup(session: Session, store: Store, channel: str, item: OutboxItem, conversation: Conversation,
                  now: datetime, *, lease: timedelta, storm: storm_plan.InStorm,
                  claimer: int | None) -> rollup.Rolled | frozenset[int] | None:
    """The roll-up to claim instead of the channel's next card `item`, if storm mode wants one; or
    the plain complaints to leave queued a little longer, so that another item goes now."""
    if item.rank == ROUTINE:
        return rollup.roll_up(session, channel, now, lease=lease, lock=store.is_postgres, storm_started=storm.started,
                              size=storm_plan.rollup_size(storm_plan.routine_volume(session, channel, storm.since_id)),
                              claimer=claimer)
    if item.rank != URGENT or not conversation.complaint:
        return None
    overflow = storm_plan.complaint_overflow(session, channel, now, card_within=storm.card_within,
                                             interval=storm.interval)
    if overflow is None:
        return None
    if not overflow.roll_now:
        return overflow.held or None
    return rollup.roll_up(session, channel, now, lease=lease, lock=store.is_postgres, storm_started=storm.started,
                          complaints=True, skip=overflow.in_time, claimer=claimer)


def _pending_updates(store: Store, session: Session, heads: list[OutboxItem]) -> dict[int, list[OutboxItem]]:
    """The other queued card updates of the conversations whose head is a card update, by conversation:
    one chat.update shows the latest state for all of them, so they are claimed with their head."""
    if not heads:
        return {}
    rows = _locked(store, session, select(OutboxItem).where(
        col(OutboxItem.conversation_id).in_([h.conversation_id for h in heads]),
        col(OutboxItem.id).not_in([h.id for h in heads]),
        OutboxItem.kind == OutboxKind.UPDATE_CARD, col(OutboxItem.status).in_(ACTIVE),
    )).all()
    by_conversation: dict[int, list[OutboxItem]] = {}
    for row in rows:
        by_conversation.setdefault(row.conversation_id, []).append(row)
    return by_conversation


def _reread_cases(session: Session, conversations: list[Conversation]) -> None:
    """Read again the cases whose queued card updates are collapsed into their head. On PostgreSQL
    (READ COMMITTED) each statement sees the latest commit: an update committed after the heads
    were read is collapsed, so the card must show the case as that update's transaction left it."""
    if conversations:
        session.exec(select(Conversation).where(col(Conversation.id).in_([row_id(c) for c in conversations]))
                     .execution_options(populate_existing=True)).all()


def _take(session: Session, head: queue.Head, now: datetime, *, lease: timedelta, sla_badge: slack.BadgeFor,
          card_notice: slack.NoticeFor, rows: card_rows.CardRows | None, collapsed: list[OutboxItem],
          claimer: int | None) -> Claim:
    """Claim one head (with `collapsed`: its conversation's other pending card updates) and render it."""
    item, conversation = head.item, head.conversation
    items = [item, *collapsed]
    was_sending = item.status == OutboxStatus.SENDING
    try:
        content: SlackMessage | None = slack.render(session, item, conversation, now, sla_badge=sla_badge,
                                                     card_notice=card_notice, loaded=(head.customer, head.message),
                                                     card_rows=rows)
    except slack.RenderError:
        log.exception("outbox item %s cannot be rendered", item.key)
        content = None
    # The row as the caller's UPDATE leaves it, set as already stored (so nothing flushes it again);
    # the session closes after the claim, so the Claim holds a detached snapshot.
    claimed = {"status": OutboxStatus.SENDING, "attempts": item.attempts + 1, "next_attempt_at": now + lease,
               "claimed_by": claimer}
    for name, value in claimed.items():
        set_committed_value(item, name, value)
    own_channel = item.kind in (OutboxKind.CHANNEL_MESSAGE, OutboxKind.ROLLUP)
    target = item.channel if own_channel and item.channel else conversation.channel
    return Claim(item, tuple(row_id(r) for r in items), target, conversation.slack_ts, was_sending, content)


def release(store: Store, claims: list[Claim]) -> None:
    """Hand claimed items back untried (a batch cut short): due again at once, no attempt used; an
    item that was SENDING before stays SENDING, so it is still looked up in Slack first."""
    if not claims:
        return
    with store.transaction() as session:
        for claim in claims:
            for row in session.exec(select(OutboxItem).where(col(OutboxItem.id).in_(claim.ids))).all():
                row.status = OutboxStatus.SENDING if claim.was_sending else OutboxStatus.PENDING
                row.attempts = max(row.attempts - 1, 0)
                row.next_attempt_at = None
                session.add(row)


def _locked(store: Store, session: Session, stmt: SelectOfScalar[OutboxItem]) -> ScalarResult[OutboxItem]:
    """Run a select of outbox rows, skipping rows another worker holds (PostgreSQL only)."""
    if store.is_postgres:
        stmt = stmt.with_for_update(skip_locked=True)
    return session.exec(stmt)


SentMarks = list[tuple[Claim, str, str]]  # (claim, the channel Slack answered with, ts)


def mark_sent(store: Store, sent: SentMarks, now: datetime) -> None:
    """Record what Slack accepted, in one transaction, with relaxed durability: a mark lost to a power
    cut leaves its item SENDING, and the next attempt finds the message in Slack by its key."""
    if not sent:
        return
    items = [{"row": i, "to": channel, "at": ts, "now": now} for claim, channel, ts in sent for i in claim.ids]
    cards = [{"row": c.item.conversation_id, "to": channel, "at": ts} for c, channel, ts in sent
             if c.item.kind == OutboxKind.POST_CARD]
    with store.transaction(durable=False) as session:
        connection = session.connection()  # plain statements, each run once for the whole batch
        connection.execute(_SENT, items)
        if cards:
            connection.execute(_CARD_POSTED, cards)
        for claim, channel, ts in sent:
            if claim.item.kind == OutboxKind.POST_CARD and channel != claim.channel:
                # Slack named the channel by its ID: queue the thread there
                queue.move_thread(session, conversation_id=claim.item.conversation_id, channel=channel)
            elif claim.item.kind == OutboxKind.ROLLUP:
                rollup.settle_sent(session, claim.item, ts, now)


_SENT = sa.update(OutboxItem).where(col(OutboxItem.id) == sa.bindparam("row")).values(
    status=OutboxStatus.SENT, channel=sa.bindparam("to"), slack_ts=sa.bindparam("at"),
    sent_at=sa.bindparam("now"), next_attempt_at=None, last_error=None, claimed_by=None)
_CARD_POSTED = sa.update(Conversation).where(col(Conversation.id) == sa.bindparam("row")).values(
    slack_ts=sa.bindparam("at"), channel=sa.bindparam("to"))
