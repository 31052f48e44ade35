"""Instagram webhook deliveries (`object: instagram`), framework-free, as `InboundMessage`s.

Meta signs these like Page deliveries (X-Hub-Signature-256 with the app secret) and sends them to the
same callback URL; fields (developers.facebook.com/docs/graph-api/webhooks/reference/instagram and
docs/instagram-platform/webhooks/examples):
- `comments`: `value: {id, text, from: {id, username}, media: {id}, parent_id?}` under `changes`;
- `mentions`: `value: {media_id, comment_id?}` — ids only; the connector looks the text up
  (`GET /{ig-user-id}?fields=mentioned_media…` / `mentioned_comment…`) after the 200 (`complete`);
- `messages`: Messenger-shaped events under `messaging`: `sender.id` (IGSID), `timestamp` (ms),
  `message: {mid, text, is_echo?}`.
A comment or DM heard here and later by a poll has the same external id, kind and thread key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.base import Author, InboundMessage, Kind, MalformedDelivery, delivery_list
from connectors.instagram.records import author
from connectors.instagram.rules import PLATFORM

PENDING = ""  # the text of an @mention record until `InstagramConnector.complete` looks it up


def parse(payload: Mapping[str, Any], account_id: str) -> list[InboundMessage]:
    """Customer comments, @mentions and DMs in an `instagram` delivery for `account_id`; [] for other
    objects. Skipped: the account's own comments and echoes of its own sends, edits, reads, reactions.
    Raises MalformedDelivery when `entry`, `changes` or `messaging` is not a list or a time is absurd."""
    if payload.get("object") != "instagram":
        return []
    records: list[InboundMessage] = []
    for entry in delivery_list(payload, "entry"):
        if not isinstance(entry, dict) or str(entry.get("id") or account_id) != account_id:
            continue
        sent = _when(entry.get("time"))
        for change in delivery_list(entry, "changes"):
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or sent is None:
                continue
            record = (_comment(value, account_id, sent) if change.get("field") == "comments"
                      else _mention(value, sent) if change.get("field") == "mentions" else None)
            if record is not None:
                records.append(record)
        for event in delivery_list(entry, "messaging"):
            record = _message(event, account_id) if isinstance(event, dict) else None
            if record is not None:
                records.append(record)
    return records


def _when(value: Any) -> datetime | None:
    """Epoch seconds or milliseconds (Meta uses both) as an aware UTC datetime."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value / 1000 if value > 10**11 else value, UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise MalformedDelivery("a timestamp is out of range") from exc


def _comment(value: Mapping[str, Any], account_id: str, sent: datetime) -> InboundMessage | None:
    who = value.get("from")
    if not value.get("id") or not isinstance(who, dict) or not who.get("id") or str(who["id"]) == account_id:
        return None
    parent = value.get("parent_id")
    return InboundMessage(
        platform=PLATFORM, kind=Kind.COMMENT, external_id=str(value["id"]), thread_key=str(parent or value["id"]),
        text=str(value.get("text") or ""), author=author(who), created_at=sent,
        in_reply_to=str(parent) if parent else None,
    )


def _mention(value: Mapping[str, Any], sent: datetime) -> InboundMessage | None:
    media_id, comment_id = value.get("media_id"), value.get("comment_id")
    if not media_id:
        return None
    return InboundMessage(
        platform=PLATFORM, kind=Kind.MENTION, external_id=str(comment_id or media_id), thread_key=str(media_id),
        text=PENDING, author=Author(external_id="", handle="", name=""), created_at=sent,
    )


def _message(event: Mapping[str, Any], account_id: str) -> InboundMessage | None:
    message, sender = event.get("message"), event.get("sender")
    created = _when(event.get("timestamp"))
    if not isinstance(message, dict) or not isinstance(sender, dict) or created is None:
        return None
    igsid = str(sender.get("id") or "")
    if message.get("is_echo") or not igsid or igsid == account_id or not message.get("mid"):
        return None
    tapped = message.get("quick_reply")  # a tapped quick reply: `{payload}` beside the button's title as text
    payload = tapped.get("payload") if isinstance(tapped, dict) else None
    return InboundMessage(
        platform=PLATFORM, kind=Kind.DM, external_id=str(message["mid"]), thread_key=igsid,
        text=str(message.get("text") or "(attachment)"), author=Author(external_id=igsid, handle="", name=""),
        created_at=created, quick_reply=payload if isinstance(payload, str) else None,
    )
