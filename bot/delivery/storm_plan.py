"""Storm mode's two sizing decisions (issue 11), each a few counts on the queue index:

- how big a routine roll-up is: the storm's routine volume so far (queued or already rolled up,
  so the size never shrinks as the backlog drains) in about `ROLLUPS_PER_BACKLOG` messages, between
  `BUTTONS_MAX` and `ROLLUP_MAX` entries — a bigger spike gets fuller roll-ups, so the channel's
  top-level messages grow far slower than the spike;
- when complaints themselves storm. Slack posts about one message per second per channel
  (https://docs.slack.dev/apis/web-api/rate-limits: "chat.postMessage generally allows posting one
  message per second per channel"), so 150 complaints cannot each get a card within a minute. A
  *plain* complaint (not urgent, not a private message, not from a large or verified account) gets
  its own card while the pace can still post it within `card_within` of the oldest card-worthy
  item's arrival (counting the urgent cards that share its class, not the high-reach and private
  ones, which queue after it); the plain complaints beyond that go into complaint roll-ups, ahead of every
  other card, as soon as `COMPLAINT_BATCH` of them wait or the oldest has waited a sixth of
  `card_within` (meanwhile other cards go). Urgent, private and high-reach cases always get their
  own cards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot.cards.rollup import BUTTONS_MAX, ROLLUP_MAX
from bot.store.models import Conversation, Customer, OutboxItem, OutboxKind, OutboxStatus, Priority
from bot.store.outbox import PRIVATE_KINDS, ROUTINE, URGENT
from bot.triage import LARGE_ACCOUNT

ROLLUPS_PER_BACKLOG = 20  # a storm of 1 600 routine mentions and more: roll-ups of 80
COMPLAINT_BATCH = 40  # a complaint roll-up goes out once this many overflow complaints wait …
HOLD_SHARE = 6  # … or once the oldest of them has waited a sixth of `card_within` (10 s of 60 s)
RESERVE = 3  # posting slots kept for the spike alert and the complaint roll-ups themselves
# Each post waits the interval after the previous *answer* (bot/delivery/worker.py), so a post takes
# a little more than the interval: a minute holds ~55 posts at 1/s, not 60.
PACE_MARGIN = 1.1
_QUEUED = sa.text("outbox.status IN ('pending', 'sending')")  # the queue index's predicate (queue.py)


@dataclass(frozen=True)
class InStorm:
    """What a claim needs to know of a channel in storm mode."""

    started: datetime
    since_id: int  # outbox ids above this were queued during the storm
    card_within: timedelta  # a plain complaint's card must be posted within this of its arrival
    interval: timedelta  # the channel's pace


def rollup_size(volume: int) -> int:
    """Entries per routine roll-up in a storm that has brought `volume` routine cards so far."""
    return max(BUTTONS_MAX, min(math.ceil(volume / ROLLUPS_PER_BACKLOG), ROLLUP_MAX))


def plain_complaint() -> sa.ColumnElement[bool]:
    """A queued card of a complaint that may be rolled up in a complaint storm (module doc); needs
    the item's Conversation and Customer joined."""
    return sa.and_(col(OutboxItem.rank) == URGENT, col(Conversation.complaint).is_(True),
                   col(Conversation.priority) != Priority.URGENT, col(Conversation.kind).not_in(PRIVATE_KINDS),
                   col(Customer.verified).is_(False), func.coalesce(col(Customer.followers), 0) < LARGE_ACCOUNT)


def routine_volume(session: Session, channel: str, since_id: int) -> int:
    """Routine cards queued for the channel with an id above `since_id`, whatever became of them (a
    primary-key range: only the storm's rows are read)."""
    return session.exec(select(func.count()).select_from(OutboxItem).where(
        col(OutboxItem.id) > since_id, col(OutboxItem.channel) == channel, col(OutboxItem.rank) == ROUTINE,
        col(OutboxItem.kind) == OutboxKind.POST_CARD)).one()


@dataclass(frozen=True)
class Overflow:
    """More plain complaints wait than the pace can card in time (`complaint_overflow`)."""

    in_time: int  # the oldest this many still get their own cards
    roll_now: bool  # the rest make a complaint roll-up now
    held: frozenset[int] = frozenset()  # not now and none in time: these items wait, others go first


def complaint_overflow(session: Session, channel: str, now: datetime, *, card_within: timedelta,
                       interval: timedelta) -> Overflow | None:
    """In a complaint storm, how many of the channel's queued plain complaints still get their own
    cards in time, and whether the rest are rolled up now: when `COMPLAINT_BATCH` of them wait, or
    the oldest of them has waited a sixth of `card_within` (so complaints arriving in a trickle make a few
    full roll-ups, not one small one a second). None when every one gets its card in time."""
    # Only the urgent class goes with (and among) the complaints; high-reach and private cards queue
    # after it (bot/store/outbox.py), so they take no slot a complaint's card needs in time.
    ahead = (col(OutboxItem.channel) == channel, _QUEUED, col(OutboxItem.rank) == URGENT)
    oldest, queued = session.exec(select(func.min(OutboxItem.created_at), func.count())
                                  .select_from(OutboxItem).where(*ahead)).one()
    plain = session.exec(_plain(channel, func.count(), ordered=False)).one()
    if oldest is None or plain == 0:
        return None
    left = max(_aware(oldest, now) + card_within - now, timedelta(0))
    per_post = max(interval, timedelta(milliseconds=1)) * PACE_MARGIN
    slots = int(left / per_post) - RESERVE - math.ceil(plain / ROLLUP_MAX)
    in_time = max(slots - (queued - plain), 0)  # the others ahead get cards whatever happens
    if plain <= in_time:
        return None
    if plain - in_time >= COMPLAINT_BATCH:
        return Overflow(in_time, roll_now=True)
    first_late = session.exec(_plain(channel, col(OutboxItem.created_at)).offset(in_time).limit(1)).first()
    if first_late is None:  # another replica took them meanwhile
        return None
    if now - _aware(first_late, now) >= card_within / HOLD_SHARE:
        return Overflow(in_time, roll_now=True)
    held = frozenset(session.exec(_plain(channel, col(OutboxItem.id))).all()) if in_time == 0 else frozenset()
    return Overflow(in_time, roll_now=False, held=held)


def _plain(channel: str, what: Any, *, ordered: bool = True) -> Any:
    """A select of `what` over the channel's queued plain-complaint cards (`ordered`: oldest first)."""
    query = (select(what).select_from(OutboxItem)
             .join(Conversation, col(Conversation.id) == col(OutboxItem.conversation_id))
             .join(Customer, col(Customer.id) == col(Conversation.customer_id))
             .where(col(OutboxItem.channel) == channel, _QUEUED, col(OutboxItem.status) == OutboxStatus.PENDING,
                    col(OutboxItem.kind) == OutboxKind.POST_CARD, col(Conversation.slack_ts).is_(None),
                    plain_complaint()))
    return query.order_by(col(OutboxItem.rank), col(OutboxItem.id)) if ordered else query


def _aware(moment: datetime, now: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=now.tzinfo)  # SQLite: naive UTC
