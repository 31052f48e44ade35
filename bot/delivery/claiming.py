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

from sqlalchemy import ScalarResult
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.cards import SlackMessage
from bot.delivery import queue, rollup, slack, storm_plan
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
          storm: storm_plan.InStorm | None = None, presence: Presence | None = None) -> Claim | None:
    """Lock the channel's next due item, mark it SENDING (+1 attempt) and commit; render its content
    meanwhile. None when the channel has no due item (or another worker holds every one).

    `skip` leaves out items already tried in this drain. `storm` (the channel is in storm mode):
    when the next item is a routine card, the channel's routine cards are claimed as one roll-up
    instead (bot/delivery/rollup.py); when it is a complaint and more complaints wait than the pace
    can card in time, the overflow is claimed as a complaint roll-up (bot/delivery/storm_plan.py).
    `presence` (this process) is written on what it claims, and lets it take over items a dead
    process left in SENDING (bot/store/presence.py).
    """
    claimer = presence.claimer() if presence is not None else None
    with store.transaction() as session:
        found = queue.next_in(session, channel, now, recovering=recovering, skip=skip, lock=store.is_postgres,
                              alive=presence)
        if found is None:
            return None
        item, conversation = found
        for _ in range(2):  # once more after leaving held complaints for later
            if storm is None or item.kind != OutboxKind.POST_CARD or item.status != OutboxStatus.PENDING:
                break
            rolled = _storm_rollup(session, store, channel, item, conversation, now, lease=lease, storm=storm,
                                   claimer=claimer)
            if isinstance(rolled, rollup.Rolled):
                return Claim(rolled.item, (row_id(rolled.item),), channel, None, False, rolled.content)
            if not rolled:
                break
            found = queue.next_in(session, channel, now, recovering=recovering, skip={*skip, *rolled},
                                  lock=store.is_postgres, alive=presence)
            if found is None:
                return None
            item, conversation = found
        items = [item]
        if item.kind == OutboxKind.UPDATE_CARD:  # one chat.update shows the latest state for all
            items += _locked(store, session, select(OutboxItem).where(
                OutboxItem.conversation_id == item.conversation_id, OutboxItem.id != item.id,
                OutboxItem.kind == OutboxKind.UPDATE_CARD, col(OutboxItem.status).in_(ACTIVE),
            )).all()
        was_sending = item.status == OutboxStatus.SENDING
        try:
            content: SlackMessage | None = slack.render(session, item, conversation, now, sla_badge=sla_badge,
                                                         card_notice=card_notice)
        except slack.RenderError:
            log.exception("outbox item %s cannot be rendered", item.key)
            content = None
        for row in items:
            row.status = OutboxStatus.SENDING
            row.attempts += 1
            row.next_attempt_at = now + lease
            row.claimed_by = claimer
            session.add(row)
        session.flush()
        own_channel = item.kind in (OutboxKind.CHANNEL_MESSAGE, OutboxKind.ROLLUP)
        target = item.channel if own_channel and item.channel else conversation.channel
        return Claim(item.model_copy(), tuple(row_id(r) for r in items), target,
                     conversation.slack_ts, was_sending, content)


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


def _locked(store: Store, session: Session, stmt: SelectOfScalar[OutboxItem]) -> ScalarResult[OutboxItem]:
    """Run a select of outbox rows, skipping rows another worker holds (PostgreSQL only)."""
    if store.is_postgres:
        stmt = stmt.with_for_update(skip_locked=True)
    return session.exec(stmt)
