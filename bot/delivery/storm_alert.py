"""The spike alert of storm mode: what it says (figures from the stored cases) and posting it once
per storm in the storming channel and the managers' channel, then editing it in place; when the
storm ends, the whole spike as CSV in its thread (bot/delivery/spike_file.py).

The alert is a status display, not a delivery: it is posted directly (paced with the channel's
cards), and a failed post or edit is simply tried again at the next refresh. Its ts lives with the
storm state (bot/delivery/storm.py), so a restarted worker posts a fresh alert if the storm goes on.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session, col, func, select

from bot.cards.blocks import utc
from bot.cards.rollup import SpikeFigures, spike_alert
from bot.delivery import slack, spike_file
from bot.delivery.storm import Change, ChannelStorm
from bot.store.database import Store
from bot.store.models import Conversation, Customer, Message, OutboxItem, OutboxKind, OutboxStatus

log = logging.getLogger(__name__)
USUAL_OVER = timedelta(days=7)  # "the usual rate": the week before the storm
LEAD_IN = timedelta(minutes=5)  # left out of the usual rate: the spike's own start, before it was noticed
TOP = 5
_WORD = re.compile(r"[^\W\d_]{4,}")
_NOISE = re.compile(r"https?://\S+|[@#]\w+")
_STOPWORDS = frozenset({
    "this", "that", "with", "have", "from", "your", "just", "they", "what", "when", "will", "would", "there",
    "their", "about", "been", "were", "them", "than", "then", "some", "into", "more", "very", "also", "only",
})


def figures(session: Session, channel: str, storm: ChannelStorm, now: datetime, *, over: bool) -> SpikeFigures:
    """The alert's numbers: every card queued for the channel since the storm's mark (its cases'
    tone, complaint flag, author reach and words), against the week before the storm began."""
    rows = session.execute(
        sa.select(col(OutboxItem.status), col(Conversation.tone), col(Conversation.complaint), col(Customer.platform),
                  col(Customer.handle), col(Customer.followers), col(Message.text))
        .join(Conversation, col(Conversation.id) == col(OutboxItem.conversation_id))
        .join(Customer, col(Customer.id) == col(Conversation.customer_id))
        .outerjoin(Message, col(Message.id) == col(OutboxItem.message_id))
        .where(col(OutboxItem.id) > storm.since_id, col(OutboxItem.channel) == channel,
               col(OutboxItem.kind) == OutboxKind.POST_CARD)
    ).all()
    tones: Counter[str] = Counter()
    terms: Counter[str] = Counter()
    reach: dict[tuple[str, str], int] = {}
    for _, tone, _, platform, handle, followers, text in rows:
        tones[tone] += 1
        reach[(platform, handle)] = max(reach.get((platform, handle), 0), followers or 0)
        terms.update({w for w in _WORD.findall(_NOISE.sub(" ", (text or "").lower())) if w not in _STOPWORDS})
    week_before = storm.started_at - USUAL_OVER
    usual = session.exec(select(func.count()).select_from(Conversation).where(
        col(Conversation.channel) == channel, col(Conversation.first_seen_at) >= week_before,
        col(Conversation.first_seen_at) < storm.started_at - LEAD_IN)).one()
    authors = sorted(reach.items(), key=lambda kv: -kv[1])[:TOP]
    return SpikeFigures(
        channel=channel, started_at=utc(storm.started_at), now=utc(now), volume=len(rows),
        usual_per_hour=usual / (USUAL_OVER.total_seconds() / 3600), tones=dict(tones),
        complaints=sum(1 for r in rows if r[2]), rolled_up=sum(1 for r in rows if r[0] == OutboxStatus.ROLLED_UP),
        terms=terms.most_common(TOP), authors=[(p, h, n) for (p, h), n in authors], over=over)


class SpikeAlerts:
    """Posts and edits a channel's storm alert. `wait_for_pace(channel)` is called before a post to
    the storming channel and `posted(channel)` after it, so the alert keeps the channel's pace."""

    def __init__(self, store: Store, client: WebClient, *, alert_channels: tuple[str, ...],
                 wait_for_pace: Callable[[str], None], posted: Callable[[str], None]) -> None:
        self._store = store
        self._client = client
        self._alert_channels = alert_channels
        self._wait_for_pace = wait_for_pace
        self._posted = posted

    def publish(self, channel: str, storm: ChannelStorm, change: Change, now: datetime) -> None:
        """Post the alert where it is not yet, edit it where it is; "end" makes it the final word."""
        with self._store.transaction() as session:
            message = spike_alert(figures(session, channel, storm, now, over=change == "end"))
        for target in (channel, *self._alert_channels):
            posted = storm.alerts.get(target)
            try:
                if posted is not None:
                    self._client.chat_update(channel=posted[0], ts=posted[1], **message.update_payload())
                elif change != "end":
                    self._post(channel, target, storm, message.payload())
            except (SlackApiError, *slack.TRANSPORT_ERRORS) as exc:
                log.warning("storm alert for %s in %s failed: %s; trying again at the next refresh",
                            channel, target, slack.classify(exc).error)
        storm.alerted_at = now
        if change == "end":
            self._share_file(channel, storm)

    def _share_file(self, channel: str, storm: ChannelStorm) -> None:
        """The whole spike as CSV in the alert's thread (bot/delivery/spike_file.py), paced with the
        channel; a failure is logged (every case stays stored: `/social find`, `parley report`)."""
        posted = storm.alerts.get(channel)
        if posted is None:
            log.warning("storm in %s ended without an alert to attach the spike's CSV to", channel)
            return
        with self._store.transaction() as session:
            data, count = spike_file.spike_csv(spike_file.spike_rows(session, channel, storm))
        self._wait_for_pace(channel)
        try:
            spike_file.upload(self._client, channel_id=posted[0], thread_ts=posted[1], data=data, count=count,
                              started=storm.started_at)
        except (SlackApiError, *slack.TRANSPORT_ERRORS) as exc:
            log.warning("the spike's CSV for %s could not be shared: %s", channel, slack.classify(exc).error)
        finally:
            self._posted(channel)

    def _post(self, channel: str, target: str, storm: ChannelStorm, payload: dict) -> None:
        paced = target == channel
        if paced:
            self._wait_for_pace(channel)
        try:
            resp = self._client.chat_postMessage(channel=target, unfurl_links=False, unfurl_media=False, **payload)
        finally:
            if paced:
                self._posted(channel)
        storm.alerts[target] = (resp["channel"], resp["ts"])
