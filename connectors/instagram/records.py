"""Instagram's Graph objects as `InboundMessage`s, the same whether polled or heard by webhook.

Threads: a comment threads on its top-level comment (`parent_id`, else itself), because Instagram
files a reply to a reply under the top-level comment; an @mention threads on the media it is on; a
DM on the customer's Instagram-scoped id (IGSID), which is all a webhook carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import Author, InboundMessage, Kind
from connectors.facebook.graph import parse_time
from connectors.instagram.rules import PLATFORM

UNKNOWN = "Instagram user"


def author(who: Any, username: Any = None) -> Author:
    """The customer from Graph's `from: {id, username}`; an @mention's lookup names only a username,
    which then stands in for the id (Graph gives no IGSID for other people's media)."""
    who = who if isinstance(who, dict) else {}
    name = str(who.get("username") or username or "")
    return Author(external_id=str(who.get("id") or name or "anonymous"), handle=name, name=name or UNKNOWN)


def comment(item: Mapping[str, Any], permalink: str | None = None) -> InboundMessage:
    """A comment or reply on the account's media (`GET /{media-id}/comments` with `replies{…}`)."""
    parent = item.get("parent_id")
    return InboundMessage(
        platform=PLATFORM, kind=Kind.COMMENT, external_id=str(item["id"]), thread_key=str(parent or item["id"]),
        text=str(item.get("text") or ""), author=author(item.get("from"), item.get("username")),
        created_at=parse_time(item["timestamp"]), url=permalink, in_reply_to=str(parent) if parent else None,
    )


def mention_media(media: Mapping[str, Any]) -> InboundMessage:
    """Media that @mentions or tags the account in its caption (`mentioned_media`, `/tags`)."""
    return InboundMessage(
        platform=PLATFORM, kind=Kind.MENTION, external_id=str(media["id"]), thread_key=str(media["id"]),
        text=str(media.get("caption") or ""), author=author(media.get("owner"), media.get("username")),
        created_at=parse_time(media["timestamp"]), url=media.get("permalink"),
    )


def mention_comment(item: Mapping[str, Any], media_id: str) -> InboundMessage:
    """A comment on someone else's media that @mentions the account (`mentioned_comment`)."""
    return InboundMessage(
        platform=PLATFORM, kind=Kind.MENTION, external_id=str(item["id"]), thread_key=media_id,
        text=str(item.get("text") or ""), author=author(item.get("from"), item.get("username")),
        created_at=parse_time(item["timestamp"]),
    )


def direct(message: Mapping[str, Any]) -> InboundMessage:
    """An Instagram DM (`GET /{conversation-id}/messages` with `platform=instagram` conversations)."""
    who = author(message.get("from"))
    return InboundMessage(
        platform=PLATFORM, kind=Kind.DM, external_id=str(message["id"]), thread_key=who.external_id,
        text=str(message.get("message") or "(attachment)"), author=who,
        created_at=parse_time(message["created_time"]),
    )
