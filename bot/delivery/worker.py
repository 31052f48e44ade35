"""Exactly-once delivery of outbox rows to Slack.

`OutboxWorker` sends the rows that `bot.store.outbox.enqueue` wrote:
- content is rendered at send time from the current rows, so a late card update shows the latest
  state, and all pending card updates of a conversation go out as one chat.update;
- a conversation's card goes first; its thread messages and updates wait for the card's ts, and
  go in id order — a failing item holds back the rest of its conversation, never other ones;
- every post carries `metadata` with the item's key. An item is marked SENDING (and committed)
  before the call; an item found in SENDING — a crash after Slack answered, a timeout, a 5xx — is
  looked up in Slack by that key and sent again only if Slack has no such message;
- a 429 pauses that channel until `Retry-After` (other channels carry on); 5xx and connection
  errors back off exponentially (deterministic: 2 s, 4 s, 8 s … 5 min); permanent errors
  (invalid_blocks, is_archived, …) make the item DEAD with the error kept in `last_error`;
- a membership error (not_in_channel, channel_not_found) joins the channel and tries again at once
  (bot/delivery/membership.py); a channel Parley cannot join (private, not invited) makes its items
  wait, never die, with `last_error` naming the fix, logged once and listed in `missing_invites`;
- writes to one channel are spaced at least `min_interval` apart (Slack allows ~1 message/s per
  channel), waiting rather than dropping anything in a burst; different channels are written to
  at the same time (`parallel` lanes), and within a channel complaints go first (queue.py).

Several workers may share a PostgreSQL database: an item is claimed with
SELECT … FOR UPDATE SKIP LOCKED, and a SENDING item belongs to its claimer while that process is
alive (bot/store/presence.py) and its `lease` has not expired; an item whose claimer died (kill -9)
is taken over at once by any worker, looked up in Slack first — never while its claimer lives.
Which item is next and how it is claimed lives in bot/delivery/claiming.py; this module runs the
loop, sends the claimed items and settles them (sent, retried later, or dead).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import col, select

from bot.delivery import claiming, membership, queue, rollup, slack
from bot.delivery.claiming import Claim
from bot.delivery.lanes import Lanes
from bot.delivery.storm import Change, StormMonitor, StormPolicy
from bot.delivery.storm_alert import SpikeAlerts
from bot.store.database import Store
from bot.store.models import OutboxItem, OutboxKind, OutboxStatus, utcnow
from bot.store.outbox import ACTIVE
from bot.store.presence import Presence

log = logging.getLogger(__name__)
DEFAULT_STORM = StormPolicy()
MAX_BATCH = 50  # items claimed at once at most, however fast the pace
BATCH_WINDOW = 1.0  # seconds of one channel's pace claimed at once


class OutboxWorker:
    """Sends due outbox items to Slack; see the module docstring for the delivery rules.

    `recover_on_start` (SQLite: one process per database) lets the first drain look up every item a
    previous process left in SENDING at once; on PostgreSQL a live replica's items must not be taken,
    so only those of dead processes are (`presence`, which is also written on what this worker
    claims). `parallel` is how many channels are sent to at the same time (each channel stays one
    message at a time, paced).
    """

    def __init__(
        self,
        store: Store,
        client: WebClient,
        *,
        min_interval: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 8,
        lease: float = 120.0,
        recover_on_start: bool = True,
        sla_badge: slack.BadgeFor = slack.no_badge,
        card_notice: slack.NoticeFor = slack.shipped_card_notice,
        parallel: int = 1,
        storm: StormPolicy = DEFAULT_STORM,
        presence: Presence | None = None,
    ) -> None:
        self._store = store
        self.presence = presence or Presence(store)
        self._sla_badge = sla_badge
        self._card_notice = card_notice  # the network's rules as configured (X_ENTERPRISE)
        self._client = client
        self._min_interval = timedelta(seconds=min_interval)
        self._clock = clock
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._lease = timedelta(seconds=lease)
        self._recovering = recover_on_start and not store.is_postgres
        self._paced_until: dict[str, datetime] = {}  # channel → earliest next write (pacing)
        self._paused_until: dict[str, datetime] = {}  # channel → end of a 429's Retry-After
        self.missing_invites = membership.MissingInvites()  # for App Home and `parley check` to show
        self._wake = threading.Event()
        self._lanes = Lanes(parallel=parallel, clock=clock)  # channels sent to at once
        # Items claimed together: what the pace lets one channel send in about a second (1 at Slack's
        # pace, so a complaint queued meanwhile waits for one post at most; more with pacing off).
        self._batch_size = MAX_BATCH if min_interval <= 0 else max(1, min(MAX_BATCH, int(BATCH_WINDOW / min_interval)))
        self._batch = self._batch_size
        self._batch_marks = threading.local()  # per lane thread: the batch's sent items, not yet marked
        self.storms = StormMonitor(store, storm, min_interval=self._min_interval)  # issue 11's storm mode
        self._alerts = SpikeAlerts(store, client, alert_channels=storm.alert_channels,
                                   wait_for_pace=self._wait_for_pace, posted=self._paced)

    # --- loop ------------------------------------------------------------------------------
    def wake(self) -> None:
        """Tell the worker new items were committed (it also checks every second on its own)."""
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Drain until `stop` is set, waiting up to a second between drains for `wake()`."""
        while not stop.is_set():
            try:
                self.drain(stop=stop)
            except Exception:  # the worker thread must outlive a database or network hiccup
                log.exception("outbox drain failed; trying again shortly")
            self._wake.wait(timeout=1.0)
            self._wake.clear()

    def drain(self, *, max_items: int | None = None, stop: threading.Event | None = None) -> int:
        """Send every item due now, pacing writes per channel; return how many items were delivered.

        Channels are served in parallel lanes (bot/delivery/lanes.py), each taking its next item by
        priority (bot/delivery/queue.py). Waits (with the injected `sleep`) only for channel pacing,
        never for a 429 or a backoff: those items are simply not due yet, and a later drain sends them.
        Once `stop` is set no further item is started.
        """
        with self._store.transaction() as session:
            channels = queue.queued_channels(session)
        channels += [c for c in self.storms.channels() if c not in channels]  # so a quiet storm can end
        failed: set[int] = set()  # each item gets at most one attempt per drain
        self._batch = 1 if max_items is not None else self._batch_size  # never past max_items
        delivered = self._lanes.run(channels, lambda channel: self._deliver_next(channel, failed),
                                    self._ready_at, max_items, stop)
        self._recovering = False
        return delivered

    def _ready_at(self, channel: str, now: datetime) -> datetime | None:
        """When the channel may be written to next (`now` if it may now); None while a 429 pauses it."""
        if self._paused_until.get(channel, now) > now:
            return None
        return self._paced_until.get(channel, now)

    # --- one delivery -------------------------------------------------------------------------
    def _deliver_next(self, channel: str, failed: set[int]) -> int | None:
        """Claim and send the channel's next items: how many items were delivered, None if none was due.

        Up to `_batch` items are claimed in one transaction and their "sent" marks written in one,
        so the database work per item shrinks as the pace allows more items per second; a failure
        hands the rest of the batch back untried."""
        change = self.storms.check(channel, self._clock())
        if change is not None:
            self._announce(channel, change)
        claims = claiming.claim(self._store, channel, self._clock(), lease=self._lease, recovering=self._recovering,
                                skip=set(failed), sla_badge=self._sla_badge, card_notice=self._card_notice,
                                storm=self.storms.in_storm(channel), presence=self.presence, limit=self._batch)
        if not claims:
            return None
        delivered, self._batch_marks.sent = 0, []
        try:
            for index, claim in enumerate(claims):
                count = self._deliver(claim)
                if not count:
                    failed.update(claim.ids)
                    claiming.release(self._store, claims[index + 1:])
                    break
                delivered += count
        finally:
            sent, self._batch_marks.sent = self._batch_marks.sent, None
            claiming.mark_sent(self._store, sent, self._clock())
        return delivered

    def _announce(self, channel: str, change: Change) -> None:
        """Post, refresh or close the channel's spike alert (bot/delivery/storm_alert.py)."""
        storm = self.storms.storm(channel)
        if storm is not None:
            self._alerts.publish(channel, storm, change, self._clock())
        if change == "end":
            log.info("storm mode ends in %s", channel)
            self.storms.ended(channel)
        elif change == "start":
            log.warning("storm mode in %s: routine mentions go out in roll-ups", channel)

    def _deliver(self, claim: Claim) -> int:
        item = claim.item
        if claim.was_sending and item.kind != OutboxKind.UPDATE_CARD:
            try:
                found = membership.retrying_after_join(self._client, claim.channel, lambda: slack.find_posted(
                    self._client, item, channel=claim.channel, card_ts=claim.card_ts))
            except (SlackApiError, membership.NotMember, *slack.TRANSPORT_ERRORS) as exc:
                self._failed(claim, slack.classify(exc), during_lookup=True)
                return 0
            if found is not None:
                log.info("outbox %s was already in Slack (ts %s); not posting again", item.key, found)
                self._mark_sent(claim, claim.channel, found)
                return len(claim.ids)
        if claim.content is None:
            self._dead(claim, "render_failed")
            return 0
        if item.attempts > self._max_attempts:
            self._dead(claim, f"gave up after {self._max_attempts} attempts: {item.last_error}")
            return 0
        self._wait_for_pace(claim.channel)
        content = claim.content
        try:
            channel, ts = membership.retrying_after_join(self._client, claim.channel, lambda: slack.send(
                self._client, item, channel=claim.channel, card_ts=claim.card_ts, content=content))
        except (SlackApiError, membership.NotMember, *slack.TRANSPORT_ERRORS) as exc:
            self._failed(claim, slack.classify(exc), during_lookup=False)
            return 0
        finally:
            self._paced(claim.channel)
        self._mark_sent(claim, channel, ts)
        return len(claim.ids)

    def _paced(self, channel: str) -> None:
        # Counted from the answer, not the request: Slack counts arrivals, and the next request
        # must not arrive sooner than `min_interval` after this one, however long it travelled.
        self._paced_until[channel] = self._clock() + self._min_interval

    def _wait_for_pace(self, channel: str) -> None:
        now, ready = self._clock(), self._paced_until.get(channel)
        if ready is not None and ready > now:
            self._sleep((ready - now).total_seconds())

    def _mark_sent(self, claim: Claim, channel: str, ts: str) -> None:
        """Note what Slack accepted: written with the rest of the batch when it ends (at once outside one)."""
        self.missing_invites.resolved(claim.channel)
        batch: claiming.SentMarks | None = getattr(self._batch_marks, "sent", None)
        if batch is None:
            claiming.mark_sent(self._store, [(claim, channel, ts)], self._clock())
        else:
            batch.append((claim, channel, ts))

    def _failed(self, claim: Claim, failure: slack.Failure, *, during_lookup: bool) -> None:
        item, now = claim.item, self._clock()
        what = "looking up" if during_lookup else "sending"
        if failure.kind == "permanent":
            log.error("outbox %s (%s) failed %s: %s; giving up", item.key, item.kind, what, failure.error)
            self._dead(claim, f"lookup failed: {failure.error}" if during_lookup else failure.error)
            return
        # Only an uncertain outcome of a post (or a lookup that did not finish) needs a lookup later.
        maybe_posted = item.kind != OutboxKind.UPDATE_CARD and (
            failure.kind == "uncertain" or (during_lookup and claim.was_sending)
        )
        delay = slack.retry_delay(failure, item.attempts)
        if failure.kind == "rate_limited":
            self._paused_until[claim.channel] = now + timedelta(seconds=delay)
        if failure.kind == "membership":
            self.missing_invites.report(claim.channel, failure.error)
        else:
            log.warning("outbox %s (%s) %s failed: %s; retrying in %.0fs (attempt %d)",
                        item.key, item.kind, what, failure.error, delay, item.attempts)
        waits = failure.kind in ("rate_limited", "membership")  # Slack did nothing; no attempt used
        if not maybe_posted and not waits and item.attempts >= self._max_attempts:
            self._dead(claim, f"gave up after {item.attempts} attempts: {failure.error}")
            return
        with self._store.transaction() as session:
            for item_id in claim.ids:
                row = session.get_one(OutboxItem, item_id)  # claimed by us: never deleted
                row.status = OutboxStatus.SENDING if maybe_posted else OutboxStatus.PENDING
                if waits:
                    row.attempts -= 1  # a long 429 storm or a missing invite must not use up attempts
                row.next_attempt_at, row.claimed_by = now + timedelta(seconds=delay), None
                row.last_error = failure.error[:512]
                session.add(row)

    def _dead(self, claim: Claim, error: str) -> None:
        """Give up on the claimed items; a card that can never be posted takes its thread with it."""
        with self._store.transaction() as session:
            for item_id in claim.ids:
                row = session.get_one(OutboxItem, item_id)  # claimed by us: never deleted
                row.status, row.last_error, row.next_attempt_at = OutboxStatus.DEAD, error[:512], None
                row.claimed_by = None
                session.add(row)
            if claim.item.kind == OutboxKind.POST_CARD:
                rest = session.exec(select(OutboxItem).where(
                    OutboxItem.conversation_id == claim.item.conversation_id,
                    col(OutboxItem.status).in_(ACTIVE), col(OutboxItem.id).not_in(claim.ids),
                )).all()
                for row in rest:
                    row.status, row.last_error = OutboxStatus.DEAD, f"card not posted: {error}"[:512]
                    session.add(row)
            elif claim.item.kind == OutboxKind.ROLLUP:
                rollup.release(session, claim.item)  # its cases go back to the queue as cards
        log.error("outbox %s (%s) is dead: %s", claim.item.key, claim.item.kind, error)
