"""Storm mode (issue 11): when a channel gets more routine mentions than Slack lets us post, its
routine cards go out as roll-ups (bot/delivery/rollup.py) and a spike alert says so.

The decision, per channel, in units of what the pace can post in `window` (its *capacity*: at
Slack's ~1 message/s per channel and a 60 s window, 60 cards):
- a storm starts when more routine cards are queued than the pace clears in the window (backlog),
  or more arrived in the last window than it could post (inflow);
- it ends when both have fallen to half of that (hysteresis: a storm does not flap on and off at
  the threshold), so it ends about a window after the inflow falls.
Routine: the lowest delivery class (bot.store.outbox.ROUTINE); complaints, urgent, high-reach and
private cases always get their own cards and are never counted here.

The state lives in the worker process (the alert's ts with it): a restarted worker decides afresh
and, if the storm goes on, posts a new alert. Replicas each decide for themselves from the same
shared queue, so they agree closely; each posts its own alert.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot.delivery.storm_plan import InStorm
from bot.store.database import Store
from bot.store.models import OutboxItem, OutboxKind
from bot.store.outbox import ROUTINE

Change = Literal["start", "update", "end"]
_QUEUED = sa.text("outbox.status IN ('pending', 'sending')")  # the queue index's predicate (queue.py)


@dataclass(frozen=True)
class StormPolicy:
    """How storm mode decides and how often its alert is refreshed."""

    enabled: bool = True
    window: timedelta = timedelta(seconds=60)  # backlog and inflow are measured against this much posting
    update_every: timedelta = timedelta(seconds=30)  # the alert's chat.update while a storm goes on
    check_every: timedelta = timedelta(seconds=1)  # counting queries per channel at most this often
    card_within: timedelta = timedelta(seconds=60)  # a complaint's own card, or else a complaint roll-up
    alert_channels: tuple[str, ...] = ()  # also alert here (the managers' digest channel)

    def capacity(self, min_interval: timedelta) -> int:
        """Routine cards the pace posts in one window (at least 1)."""
        return max(int(self.window / max(min_interval, timedelta(milliseconds=1))), 1)


def decide(storming: bool, *, backlog: int, inflow: int, capacity: int) -> bool:
    """Whether the channel is in storm mode now, given whether it was (see the module doc)."""
    if storming:
        return backlog > capacity // 2 or inflow > capacity // 2
    return backlog > capacity or inflow > capacity


@dataclass
class ChannelStorm:
    """One channel's storm as this worker sees it."""

    started_at: datetime
    since_id: int  # outbox ids above this were queued during the storm (or just before it)
    # alert channel as configured -> (the channel ID Slack answered with, ts): chat.update needs the ID
    alerts: dict[str, tuple[str, str]] = field(default_factory=dict)
    alerted_at: datetime | None = None


class StormMonitor:
    """Counts each channel's routine backlog and inflow and keeps its storm state (module doc)."""

    def __init__(self, store: Store, policy: StormPolicy, *, min_interval: timedelta) -> None:
        self.policy = policy
        self._store = store
        self._capacity = policy.capacity(min_interval)
        self._interval = min_interval
        self._storms: dict[str, ChannelStorm] = {}
        self._checked: dict[str, datetime] = {}
        self._marks: deque[tuple[datetime, int]] = deque()  # (time, highest outbox id then), oldest first
        self._marks_lock = threading.Lock()  # lanes check different channels at once; the marks are shared

    def storming(self, channel: str) -> bool:
        return channel in self._storms

    def storm(self, channel: str) -> ChannelStorm | None:
        return self._storms.get(channel)

    def in_storm(self, channel: str) -> InStorm | None:
        """What claiming needs to know of the channel's storm; None when it is not in one."""
        storm = self._storms.get(channel)
        if storm is None:
            return None
        return InStorm(storm.started_at, storm.since_id, self.policy.card_within, self._interval)

    def channels(self) -> list[str]:
        """Channels in a storm: a drain visits them even with nothing queued, so a storm can end."""
        return list(self._storms)

    def check(self, channel: str, now: datetime) -> Change | None:
        """Re-decide the channel (at most every `check_every`): "start" or "end" when its storm
        starts or ends, "update" when its alert is due a refresh, None otherwise."""
        if not self.policy.enabled:
            return None
        last = self._checked.get(channel)
        if last is not None and now - last < self.policy.check_every:
            return self._update_due(channel, now)
        self._checked[channel] = now
        with self._store.transaction() as session:
            since = self._mark(session, now)
            backlog, inflow = _backlog(session, channel), _inflow(session, channel, since)
            was = self._storms.get(channel)
            now_on = decide(was is not None, backlog=backlog, inflow=inflow, capacity=self._capacity)
            if now_on and was is None:
                # The storm counts from its window's start or its oldest queued card, whichever is older.
                oldest = session.exec(select(func.min(OutboxItem.id)).where(
                    col(OutboxItem.channel) == channel, _QUEUED, col(OutboxItem.kind) == OutboxKind.POST_CARD)).one()
                self._storms[channel] = ChannelStorm(started_at=now, since_id=min(since, (oldest or since + 1) - 1))
                return "start"
        if was is not None and not now_on:
            return "end"  # the caller calls `ended` once the final alert went out
        return self._update_due(channel, now)

    def ended(self, channel: str) -> None:
        self._storms.pop(channel, None)

    def _update_due(self, channel: str, now: datetime) -> Change | None:
        storm = self._storms.get(channel)
        if storm is None:
            return None
        if storm.alerted_at is None or now - storm.alerted_at >= self.policy.update_every:
            return "update"
        return None

    def _mark(self, session: Session, now: datetime) -> int:
        """The highest outbox id one window ago (ids only grow; the oldest mark kept, until a full
        window has passed), recording the current one."""
        top = session.exec(select(func.max(OutboxItem.id))).one() or 0
        with self._marks_lock:
            if not self._marks or self._marks[-1][0] < now:
                self._marks.append((now, top))
            while len(self._marks) > 1 and self._marks[1][0] <= now - self.policy.window:
                self._marks.popleft()
            return self._marks[0][1]


def _backlog(session: Session, channel: str) -> int:
    """Routine cards queued for the channel (walks the queue index's routine stretch)."""
    return session.exec(select(func.count()).select_from(OutboxItem).where(
        col(OutboxItem.channel) == channel, _QUEUED, col(OutboxItem.rank) == ROUTINE,
        col(OutboxItem.kind) == OutboxKind.POST_CARD)).one()


def _inflow(session: Session, channel: str, since_id: int) -> int:
    """Routine cards queued for the channel with an id above `since_id` (a primary-key range: only
    the newest rows are read, however long the history)."""
    return session.exec(select(func.count()).select_from(OutboxItem).where(
        col(OutboxItem.id) > since_id, col(OutboxItem.channel) == channel, col(OutboxItem.rank) == ROUTINE,
        col(OutboxItem.kind) == OutboxKind.POST_CARD)).one()
