"""Reading Instagram by polling: comments on the account's media, media that tags it, and DMs.

Endpoints (developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference):
`GET /{ig-user-id}/media` (newest first), `GET /{ig-media-id}/comments` (top-level comments; their
replies through the `replies{…}` field), `GET /{ig-user-id}/tags` (media in which the account is
tagged) and the Page's `GET /{page-id}/conversations?platform=instagram` with each conversation's
`messages` (docs/instagram-messaging). Captions and comments that @mention the account have no list
endpoint: they arrive by webhook (`mentions`) and are looked up by id.

Each stream's cursor is the newest timestamp seen (ISO 8601), never later than the poll's start; a
poll re-reads a few minutes before it (the store ignores ids it already has) and follows every page.
A stream with no cursor persists its starting point first (now minus the backfill) and reports what
lay before it (connectors/backfill.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from connectors import backfill
from connectors.base import Batch, InboundMessage
from connectors.facebook.graph import parse_time
from connectors.instagram import records

COMMENTS, TAGS, DIRECT = "instagram:comments", "instagram:tags", "instagram:dm"
OVERLAP = timedelta(minutes=5)  # Graph's lists are not instantly consistent
MEDIA_FIELDS = "id,timestamp,permalink"
COMMENT_FIELDS = "id,text,timestamp,username,from,parent_id"
TAG_FIELDS = "id,caption,timestamp,username,permalink"
MESSAGE_FIELDS = "id,message,from,created_time"

Pages = Callable[..., Iterator[list[dict[str, Any]]]]  # (object id, edge, **args) -> each page's items


def start(stream: str, cursor: str | None, now: datetime, backfill_for: timedelta) -> tuple[list[Batch], datetime]:
    """The batch persisting a new stream's starting point (none for a known stream) and the stream's cursor."""
    if cursor is not None:
        return [], datetime.fromisoformat(cursor)
    point = (now - backfill_for).replace(microsecond=0)
    return [Batch(stream, [], cursor=point.isoformat())], point


def comments(pages: Pages, account_id: str, cursor: str | None, now: datetime, *, lookback: timedelta,
             backfill_for: timedelta) -> Iterator[Batch]:
    """Comments and replies on the media of the last `lookback`, newer than the cursor (minus overlap)."""
    first, (opening, newest) = cursor is None, start(COMMENTS, cursor, now, backfill_for)
    yield from opening
    since, older = newest - OVERLAP, 0
    for media_page in pages(account_id, "media", fields=MEDIA_FIELDS):
        recent = [m for m in media_page if parse_time(m["timestamp"]) >= now - lookback]
        for media in recent:
            fields = f"{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}"
            for page in pages(media["id"], "comments", fields=fields):
                batch: list[InboundMessage] = []
                for top in page:
                    for item in [top, *(top.get("replies") or {}).get("data", [])]:
                        when = parse_time(item["timestamp"])
                        newest = max(newest, when)
                        if when < since:
                            older += first
                        elif str((item.get("from") or {}).get("id")) != account_id:
                            batch.append(records.comment({"parent_id": top["id"] if item is not top else None,
                                                          **item}, media.get("permalink")))
                if batch:
                    yield Batch(COMMENTS, batch)
        if len(recent) < len(media_page):  # newest first: the rest are older still
            break
    if first:
        yield from backfill.report(COMMENTS, older, more=False, before=since, now=now)
    yield Batch(COMMENTS, [], cursor=min(newest, now).isoformat())


def tags(pages: Pages, account_id: str, cursor: str | None, now: datetime, *,
         backfill_for: timedelta) -> Iterator[Batch]:
    """Media in which the account is tagged, newer than the cursor (minus overlap), newest first."""
    first, (opening, newest) = cursor is None, start(TAGS, cursor, now, backfill_for)
    yield from opening
    since, older = newest - OVERLAP, 0
    for page in pages(account_id, "tags", fields=TAG_FIELDS):
        recent = [m for m in page if parse_time(m["timestamp"]) >= since]
        newest = max([newest, *(parse_time(m["timestamp"]) for m in recent)])
        if recent:
            yield Batch(TAGS, [records.mention_media(m) for m in recent])
        if len(recent) < len(page):
            older = len(page) - len(recent)
            break
    if first:
        yield from backfill.report(TAGS, older, more=older > 0, before=since, now=now)
    yield Batch(TAGS, [], cursor=min(newest, now).isoformat())


def direct(pages: Pages, page_id: str, account_id: str, cursor: str | None, now: datetime, *,
           backfill_for: timedelta) -> Iterator[Batch]:
    """Instagram DMs in conversations active since the cursor (minus overlap), the account's own skipped."""
    first, (opening, newest) = cursor is None, start(DIRECT, cursor, now, backfill_for)
    yield from opening
    since, older, active = newest - OVERLAP, 0, []
    for page in pages(page_id, "conversations", platform="instagram", fields="id,updated_time"):
        recent = [c for c in page if parse_time(c["updated_time"]) >= since]
        active += [c["id"] for c in recent]
        newest = max([newest, *(parse_time(c["updated_time"]) for c in recent)])
        if len(recent) < len(page):  # most recently active first
            older = len(page) - len(recent)
            break
    for conversation_id in active:
        for page in pages(conversation_id, "messages", fields=MESSAGE_FIELDS):
            recent = [m for m in page if parse_time(m["created_time"]) >= since]
            batch = [records.direct(m) for m in recent if str((m.get("from") or {}).get("id")) != account_id]
            if batch:
                yield Batch(DIRECT, batch)
            if len(recent) < len(page):  # newest first
                break
    if first:
        yield from backfill.report(DIRECT, older, more=older > 0, before=since, now=now)
    yield Batch(DIRECT, [], cursor=min(newest, now).isoformat())
