"""The Slack side of the outbox: what an item says, how it is sent, how an earlier send is found,
and what a failure means for a retry. The worker loop is in bot/outbox.py.

A failure is one of five things:
- rate limited (429): Slack did nothing; try again after `Retry-After`.
- uncertain (5xx, internal_error/fatal_error, timeout, dropped connection): the message may have
  been posted, so it is looked up by its metadata key before it is ever sent again.
- membership (not_in_channel, channel_not_found, or `membership.NotMember` once joining failed):
  a person can fix it (`/invite @Parley`), so the item waits, however long it takes; never dead.
- permanent (invalid_blocks, is_archived…): retrying cannot help; the item is dead.
- anything else (invalid_auth, …): Slack refused and posted nothing; retried with backoff.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session, col, select

from bot import cards
from bot.delivery import membership
from bot.delivery.card_rows import CardRows, last_reply
from bot.replies import moderation
from bot.replies.rules import failure_kind
from bot.store.models import Conversation, Customer, DeliveryStatus, Direction, Message, OutboxItem, OutboxKind
from bot.store.outbox import backoff
from bot.store.profile import customer_profile
from connectors.registry import shipped_card_notice, shipped_op

METADATA_EVENT_TYPE = "parley_outbox"
PERMANENT_ERRORS = frozenset({
    "is_archived", "invalid_blocks", "invalid_blocks_format",
    "msg_too_long", "no_text", "too_many_attachments", "invalid_metadata_format", "invalid_metadata_schema",
    "metadata_too_large", "message_not_found", "cant_update_message", "edit_window_closed",
    "thread_not_found", "restricted_action", "restricted_action_read_only_channel",
    "restricted_action_thread_locked", "missing_scope", "team_access_not_granted",
})
UNCERTAIN_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable"})
RATE_LIMITED_ERRORS = frozenset({"ratelimited", "rate_limited"})
# Slack's ts comes from Slack's clock and ours from ours; look back far enough for skew.
LOOKUP_LOOKBACK = timedelta(minutes=10)
LOOKUP_MAX_PAGES = 50
TRANSPORT_ERRORS = (OSError, http.client.HTTPException)  # URLError, timeouts and resets are OSErrors
# "✍️ <agent> is replying" is a hint, not a lock: a modal left open longer than this is forgotten.
REPLYING_SHOWN_FOR = timedelta(minutes=10)
# A missing invite waits for a person; asking Slack more often than this would only add noise.
MEMBERSHIP_RETRY = timedelta(minutes=2)


class RenderError(Exception):
    """The rows an item needs are missing or unusable; sending it can never work."""


@dataclass(frozen=True)
class Failure:
    kind: str  # "rate_limited" | "uncertain" | "membership" | "permanent" | "retry"
    error: str  # Slack's error name or the exception type; never contains the token
    retry_after: float | None = None


def metadata_for(key: str) -> dict:
    return {"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": key}}


def key_of(message: dict) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != METADATA_EVENT_TYPE:
        return None
    return (metadata.get("event_payload") or {}).get("key")


BadgeFor = Callable[[Conversation, datetime], "cards.SlaBadge | None"]
NoticeFor = Callable[[str, str], str | None]  # (platform, kind) -> the card's line from the network's rules


def no_badge(conversation: Conversation, now: datetime) -> None:
    return None


def render(session: Session, item: OutboxItem, conversation: Conversation, now: datetime, *,
           sla_badge: BadgeFor = no_badge, card_notice: NoticeFor = shipped_card_notice,
           loaded: tuple[Customer | None, Message | None] | None = None,
           card_rows: CardRows | None = None) -> cards.SlackMessage:
    """The item's content from the rows as they are now (a late card update shows the latest state);
    an item queued with a ready-made payload is sent as stored. `loaded`: the conversation's customer
    and the item's message, `card_rows` the rest of a card's rows, when the caller read them with the
    item (None: read them here)."""
    if item.payload:
        stored = json.loads(item.payload)
        return cards.SlackMessage(stored["text"], stored["blocks"], stored.get("colour"))
    if loaded is None:
        loaded = (session.get(Customer, conversation.customer_id),
                  session.get(Message, item.message_id) if item.message_id is not None else None)
    customer, own = loaded
    if customer is None:
        raise RenderError(f"customer {conversation.customer_id} is missing")
    if item.kind in (OutboxKind.POST_CARD, OutboxKind.UPDATE_CARD):
        opening = own if item.kind == OutboxKind.POST_CARD else card_rows.opening if card_rows else None
        if opening is None:
            opening = session.exec(
                select(Message).where(Message.conversation_id == conversation.id).order_by(col(Message.id))
            ).first()
        if opening is None:
            raise RenderError(f"conversation {conversation.id} has no messages")
        if card_rows is None:
            card_rows = CardRows(customer_profile(session, customer, conversation),
                                 moderation.hidden_entries(session, conversation.id or 0),
                                 last_reply(session, conversation.id or 0))
        hidden, can_hide = moderation.card_state(session, conversation, card_rows.hidden)
        return cards.conversation_card(conversation, customer, opening, now=now, sla=sla_badge(conversation, now),
                                       replying_by=replying_now(conversation, now),
                                       last_reply=_last_reply(card_rows.last_reply),
                                       profile=card_rows.profile,
                                       notice=card_notice(conversation.platform, conversation.kind),
                                       hidden=hidden, can_hide=can_hide)
    if item.message_id is None:
        return cards.notice(item.text or "")
    message = own
    if message is None:
        raise RenderError(f"message {item.message_id} is missing")
    if message.direction == Direction.INBOUND:
        return cards.customer_followup(message, customer)
    if message.direction == Direction.OUTBOUND and message.delivery_status in (DeliveryStatus.SENT,
                                                                               DeliveryStatus.FAILED):
        return cards.delivery_receipt(
            agent_id=message.author_id, op=message.kind, text=message.text,
            ok=message.delivery_status == DeliveryStatus.SENT, url=message.url, error=message.delivery_error,
            message_id=item.message_id,
            # An "unknown" outcome gets the button too; its handler asks the person to check first.
            retryable=failure_kind(message.delivery_status, message.delivery_error) in ("retryable", "unknown"))
    who = cards.escape(message.author_name or message.author_id)
    return cards.notice(item.text or f"*{who}*: {cards.escape(message.text)}")


def replying_now(conversation: Conversation, now: datetime) -> str | None:
    """Who has the reply modal open on this case, if they opened it recently enough to show."""
    at = conversation.replying_at
    if not conversation.replying_by or at is None:
        return None
    return conversation.replying_by if now - at < REPLYING_SHOWN_FOR else None


def _last_reply(sent: Message | None) -> cards.LastReply | None:
    if sent is None:
        return None
    return cards.LastReply(agent_id=sent.author_id, public=shipped_op(sent.kind).public,
                           at=sent.delivered_at or sent.created_at, url=sent.url)


def send(client: WebClient, item: OutboxItem, *, channel: str, card_ts: str | None,
         content: cards.SlackMessage) -> tuple[str, str]:
    """Post (or, for UPDATE_CARD, edit) and return Slack's (channel, ts). Raises on failure."""
    if item.kind == OutboxKind.UPDATE_CARD:
        # chat.update without `metadata` leaves the card's original outbox key in place.
        resp = client.chat_update(channel=channel, ts=_card(item, card_ts), **content.update_payload())
        return resp["channel"], resp["ts"]
    thread_ts = card_ts if item.kind == OutboxKind.THREAD_MESSAGE else None
    extra: dict[str, Any] = {}
    if thread_ts and item.payload and json.loads(item.payload).get("reply_broadcast"):
        extra["reply_broadcast"] = True  # also shown in the channel: one message, not a second copy
    resp = client.chat_postMessage(
        channel=channel, thread_ts=thread_ts, metadata=metadata_for(item.key), unfurl_links=False,
        unfurl_media=False, **content.payload(), **extra,
    )
    return resp["channel"], resp["ts"]


def _card(item: OutboxItem, card_ts: str | None) -> str:
    """The card's ts, which an update or a thread message needs: the worker claims neither before the
    card is posted, so a missing ts is a bug, raised as ValueError."""
    if card_ts is None:
        raise ValueError(f"outbox {item.key} ({item.kind}) has no card to go to")
    return card_ts


def find_posted(client: WebClient, item: OutboxItem, *, channel: str, card_ts: str | None) -> str | None:
    """The ts of an earlier post of this item, found by its metadata key, or None if Slack has none.

    Cards are searched in the channel history from a little before the item was created; thread
    messages among the replies of their card.
    """
    cursor: str | None = None
    for _ in range(LOOKUP_MAX_PAGES):
        if item.kind == OutboxKind.THREAD_MESSAGE:
            resp = client.conversations_replies(channel=channel, ts=_card(item, card_ts), include_all_metadata=True,
                                                limit=200, cursor=cursor)
        else:
            oldest = (item.created_at - LOOKUP_LOOKBACK).timestamp()
            resp = client.conversations_history(channel=channel, oldest=f"{oldest:.6f}",
                                                include_all_metadata=True, limit=200, cursor=cursor)
        messages: list[dict[str, Any]] = resp.get("messages", [])
        for message in messages:
            if key_of(message) == item.key:
                return message["ts"]
        cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return None
    return None


def classify(exc: Exception) -> Failure:
    """What a failed call means for the next attempt (see the module docstring)."""
    if isinstance(exc, membership.NotMember):
        return Failure("membership", exc.hint)
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        data = exc.response.data
        error = data.get("error") if isinstance(data, dict) else None
        if status == 429 or error in RATE_LIMITED_ERRORS:
            return Failure("rate_limited", error or "http_429", _retry_after(exc.response.headers))
        if status >= 500:
            return Failure("uncertain", f"http_{status}" + (f": {error}" if error else ""))
        if error in UNCERTAIN_ERRORS:
            return Failure("uncertain", error)
        if error in membership.MEMBERSHIP_ERRORS:
            return Failure("membership", error)
        if error in PERMANENT_ERRORS:
            return Failure("permanent", error)
        return Failure("retry", error or f"http_{status}")
    return Failure("uncertain", type(exc).__name__)


def retry_delay(failure: Failure, attempts: int) -> float:
    """Seconds until the next attempt: a 429's Retry-After (at least 1 s), a fixed wait for a missing
    invite, else exponential backoff by attempt."""
    if failure.kind == "rate_limited":
        return max(failure.retry_after if failure.retry_after is not None else backoff(attempts), 1.0)
    if failure.kind == "membership":
        return MEMBERSHIP_RETRY.total_seconds()
    return backoff(attempts)


def _retry_after(headers: dict | None) -> float | None:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return max(float(value[0] if isinstance(value, list) else value), 0.0)
            except (TypeError, ValueError):
                return None
    return None
