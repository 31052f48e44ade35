"""Facebook webhooks, framework-free: the GET verification handshake, the signature check, and
turning a delivery into the same `InboundMessage` records polling produces.

A comment heard by webhook and later by a poll has the same external id, kind and thread key, so
the store keeps it once. Messenger threads on the sender's PSID in both paths.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.base import Author, InboundMessage, Kind, MalformedDelivery, Platform, delivery_list

__all__ = ["MalformedDelivery", "challenge_response", "parse_delivery", "signature_valid"]

POST_ITEMS = frozenset({"post", "status", "photo", "video", "share", "link"})


def challenge_response(query: Mapping[str, str], verify_token: str) -> str | None:
    """The `hub.challenge` to echo back when Facebook verifies the subscription with our verify token;
    None (answer 403) for anything else, including a wrong token."""
    token = query.get("hub.verify_token")
    if query.get("hub.mode") != "subscribe" or token is None or not verify_token:
        return None
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return query.get("hub.challenge")


def signature_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether `X-Hub-Signature-256` is the HMAC-SHA256 of the raw body under the app secret."""
    if not header or not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256=").strip().lower(), expected)


def parse_delivery(payload: Mapping[str, Any], page_id: str, *,
                   post_authors: Mapping[str, str] | None = None) -> list[InboundMessage]:
    """Customer messages in a Page webhook delivery (`object: page`).

    Kept: new comments and replies (`field: feed`, `item: comment`, `verb: add`), new visitor posts,
    and Messenger messages. Skipped: edits and removals, anything by the Page itself, Messenger echoes
    of the Page's own sends, delivery/read receipts and malformed entries. Raises
    `MalformedDelivery` when `entry`, `changes` or `messaging` is not a list, or a timestamp is no
    moment at all (NaN, 1e300).

    Webhooks don't say who wrote a post, so `post_authors` (post id -> author id, e.g. the visitor
    posts already stored) lets a visitor's comment under their own post join that post's thread, as
    polling does. Messenger authors carry an empty name: fill it in with `FacebookConnector.fetch_name`.
    """
    if payload.get("object") != "page":
        return []
    records: list[InboundMessage] = []
    for entry in delivery_list(payload, "entry"):
        if not isinstance(entry, dict):
            continue
        for change in delivery_list(entry, "changes"):
            if not isinstance(change, dict):
                continue
            value = change.get("value")
            if change.get("field") == "feed" and isinstance(value, dict):
                record = _feed_change(value, page_id, post_authors or {})
                if record is not None:
                    records.append(record)
        for event in delivery_list(entry, "messaging"):
            record = _messaging_event(event, page_id) if isinstance(event, dict) else None
            if record is not None:
                records.append(record)
    return records


def _when(value: Any, *, millis: bool = False) -> datetime | None:
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value / 1000 if millis else value, UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise MalformedDelivery("a timestamp is out of range") from exc
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).astimezone(UTC)
        except ValueError:
            return None
    return None


def _feed_change(
    value: Mapping[str, Any], page_id: str, post_authors: Mapping[str, str]
) -> InboundMessage | None:
    who = value.get("from")
    created = _when(value.get("created_time"))
    if value.get("verb") != "add" or not isinstance(who, dict) or "id" not in who or created is None:
        return None
    author_id = str(who["id"])
    if author_id == page_id:
        return None
    author = Author(external_id=author_id, handle=str(who.get("name") or ""), name=str(who.get("name") or ""))
    post_id, item = str(value.get("post_id") or ""), value.get("item")
    if not isinstance(item, str):  # hostile input (e.g. a list) must not reach the set lookup below
        return None
    if item == "comment" and value.get("comment_id") and post_id:
        comment_id = str(value["comment_id"])
        parent = str(value.get("parent_id") or post_id)
        if parent != post_id:
            thread_key, in_reply_to = parent, parent
        elif post_authors.get(post_id) == author_id:
            thread_key, in_reply_to = post_id, post_id
        else:
            thread_key, in_reply_to = comment_id, None
        return InboundMessage(
            platform=Platform.FACEBOOK, kind=Kind.COMMENT, external_id=comment_id, thread_key=thread_key,
            text=str(value.get("message") or ""), author=author, created_at=created, in_reply_to=in_reply_to,
        )
    if item in POST_ITEMS and post_id:
        return InboundMessage(
            platform=Platform.FACEBOOK, kind=Kind.VISITOR_POST, external_id=post_id, thread_key=post_id,
            text=str(value.get("message") or ""), author=author, created_at=created,
            url=_text_or_none(value.get("permalink_url")) or post_permalink(post_id),
        )
    return None


def post_permalink(post_id: str) -> str | None:
    """The post's own address on facebook.com, from its `{page-id}_{post-id}` id.

    A feed change's `link` is the URL a visitor shared (Graph's Post: `link` is the "URL attached to
    the post", `permalink_url` the "permanent URL to the post";
    https://developers.facebook.com/docs/graph-api/reference/post/), so it must never stand for the
    post: a link share would put the customer's site behind "Open on Facebook".
    """
    page, _, post = post_id.partition("_")
    if not page.isdigit() or not post.isdigit():
        return None
    return f"https://www.facebook.com/{page}/posts/{post}"


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _messaging_event(event: Mapping[str, Any], page_id: str) -> InboundMessage | None:
    message, sender = event.get("message"), event.get("sender")
    created = _when(event.get("timestamp"), millis=True)
    if not isinstance(message, dict) or not isinstance(sender, dict) or created is None:
        return None  # deliveries, reads, postbacks and reactions carry no customer text
    psid = str(sender.get("id") or "")
    if message.get("is_echo") or not psid or psid == page_id or not message.get("mid"):
        return None
    reply_to, tapped = message.get("reply_to"), message.get("quick_reply")
    payload = tapped.get("payload") if isinstance(tapped, dict) else None
    return InboundMessage(
        platform=Platform.FACEBOOK, kind=Kind.MESSENGER, external_id=str(message["mid"]), thread_key=psid,
        text=str(message.get("text") or "(attachment)"), author=Author(external_id=psid, handle="", name=""),
        created_at=created, in_reply_to=reply_to.get("mid") if isinstance(reply_to, dict) else None,
        quick_reply=payload if isinstance(payload, str) else None,  # a tapped quick reply's payload
    )
