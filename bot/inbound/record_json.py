"""An `InboundMessage` as ASCII-only JSON and back: how the dead-letter table keeps a record that
could not be stored (every non-ASCII character escaped, so lone surrogates and NUL survive any
database), exactly as it was heard."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from connectors.base import Author, InboundMessage, Kind


def encode(record: InboundMessage) -> str:
    """The record as JSON with every non-ASCII character escaped (so lone surrogates and NUL too)."""
    author = record.author
    return json.dumps({
        "platform": str(record.platform), "kind": str(record.kind), "external_id": record.external_id,
        "thread_key": record.thread_key, "text": record.text,
        "author": {"external_id": author.external_id, "handle": author.handle, "name": author.name,
                   "followers": author.followers, "verified": author.verified},
        "created_at": record.created_at.isoformat(), "url": record.url,
        "query_names": list(record.query_names), "lang_hint": record.lang_hint,
        "in_reply_to": record.in_reply_to, "quick_reply": record.quick_reply,
    }, ensure_ascii=True)


def decode(payload: str) -> InboundMessage:
    """The record `encode` stored, exactly (escaped characters come back as they were)."""
    data: dict[str, Any] = json.loads(payload)
    return InboundMessage(
        platform=data["platform"], kind=Kind(data["kind"]), external_id=data["external_id"],
        thread_key=data["thread_key"], text=data["text"], author=Author(**data["author"]),
        created_at=datetime.fromisoformat(data["created_at"]), url=data["url"],
        query_names=tuple(data["query_names"]), lang_hint=data["lang_hint"], in_reply_to=data["in_reply_to"],
        quick_reply=data.get("quick_reply"),
    )
