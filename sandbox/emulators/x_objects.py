"""X API v2 objects as the emulator stores and renders them: users, tweets, DM events, errors, ids.

Rendering follows X: only the default fields (`id`, `text`, `edit_history_tweet_ids` for tweets;
`id`, `name`, `username` for users; `id`, `event_type`, `text` for DM events) unless more are asked
for with `tweet.fields` / `user.fields` / `dm_event.fields`; optional parts that would be empty are
left out rather than sent as empty lists (the spec says `minItems: 1`).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.emulators.server import Response

TWITTER_EPOCH_MS = 1288834974657  # X snowflake ids count milliseconds from this instant
MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
HASHTAG = re.compile(r"(?<![\w#])#(\w+)")

TWEET_FIELDS = frozenset({
    "article", "attachments", "author_id", "card_uri", "community_id", "context_annotations",
    "conversation_id", "created_at", "display_text_range", "edit_controls", "edit_history_tweet_ids",
    "entities", "geo", "id", "in_reply_to_user_id", "lang", "media_metadata", "non_public_metrics",
    "note_tweet", "organic_metrics", "possibly_sensitive", "promoted_metrics", "public_metrics",
    "referenced_tweets", "reply_settings", "scopes", "source", "suggested_source_links",
    "suggested_source_links_with_counts", "text", "withheld",
})
USER_FIELDS = frozenset({
    "affiliation", "confirmed_email", "connection_status", "created_at", "description", "entities", "id",
    "is_identity_verified", "location", "most_recent_tweet_id", "name", "parody", "pinned_tweet_id",
    "profile_banner_url", "profile_image_url", "protected", "public_metrics", "receives_your_dm",
    "subscription", "subscription_type", "url", "username", "verified", "verified_followers_count",
    "verified_type", "withheld",
})
DM_EVENT_FIELDS = frozenset({
    "attachments", "created_at", "dm_conversation_id", "entities", "event_type", "id", "participant_ids",
    "referenced_tweets", "sender_id", "text",
})
TWEET_EXPANSIONS = frozenset({
    "article.cover_media", "article.media_entities", "attachments.media_keys", "attachments.media_source_tweet",
    "attachments.poll_ids", "author_id", "edit_history_tweet_ids", "entities.mentions.username", "geo.place_id",
    "in_reply_to_user_id", "entities.note.mentions.username", "referenced_tweets.id",
    "referenced_tweets.id.attachments.media_keys", "referenced_tweets.id.author_id",
})
DM_EXPANSIONS = frozenset({"attachments.media_keys", "participant_ids", "referenced_tweets.id", "sender_id"})
USER_EXPANSIONS = frozenset({"affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id"})


def iso(moment: datetime) -> str:
    """X's timestamp format: `2024-05-01T12:00:00.000Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def snowflake(moment: datetime) -> int:
    return (int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22


def tweet_token(oldest_id: str) -> str:
    return "7140d" + base36(int(oldest_id))


def dm_token(oldest_id: str) -> str:
    return base64.b32encode(int(oldest_id).to_bytes(10, "big")).decode()  # 16 chars, like X's


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
    return out or "0"


def decode_token(token: str, *, dm: bool) -> int:
    """The id the page ended at; ValueError for a token this emulator never issued."""
    if dm:
        return int.from_bytes(base64.b32decode(token.encode(), casefold=False), "big")
    if not token.startswith("7140d") or len(token) < 6:
        raise ValueError(token)
    return int(token[5:], 36)


@dataclass
class User:
    id: str
    username: str
    name: str
    created_at: datetime
    followers: int = 0
    following: int = 0
    verified: bool = False
    accepts_dms: bool = True
    description: str = ""

    def render(self, fields: set[str], tweet_count: int = 0) -> dict[str, Any]:
        full: dict[str, Any] = {
            "created_at": iso(self.created_at),
            "description": self.description,
            "protected": False,
            "verified": self.verified,
            "verified_type": "blue" if self.verified else "none",
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{self.id}/avatar_normal.jpg",
            "public_metrics": {
                "followers_count": self.followers,
                "following_count": self.following,
                "tweet_count": tweet_count,
                "listed_count": self.followers // 100,
                "like_count": 0,
            },
            "receives_your_dm": self.accepts_dms,
            "url": "",
        }
        out: dict[str, Any] = {"id": self.id, "name": self.name, "username": self.username}
        out.update({k: v for k, v in full.items() if k in fields})
        return out


@dataclass
class Tweet:
    id: str
    author_id: str
    text: str
    created_at: datetime
    conversation_id: str
    lang: str
    in_reply_to_tweet_id: str | None = None
    in_reply_to_user_id: str | None = None
    retweet_of: str | None = None
    mentions: list[dict[str, Any]] = field(default_factory=list)
    reply_count: int = 0
    quote_of: str | None = None

    def referenced(self) -> list[dict[str, str]]:
        refs = []
        if self.retweet_of:
            refs.append({"type": "retweeted", "id": self.retweet_of})
        if self.quote_of:
            refs.append({"type": "quoted", "id": self.quote_of})
        if self.in_reply_to_tweet_id:
            refs.append({"type": "replied_to", "id": self.in_reply_to_tweet_id})
        return refs

    def render(self, fields: set[str]) -> dict[str, Any]:
        entities: dict[str, Any] = {}
        if self.mentions:
            entities["mentions"] = [dict(m) for m in self.mentions]
        hashtags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in HASHTAG.finditer(self.text)]
        if hashtags:
            entities["hashtags"] = hashtags
        full: dict[str, Any] = {
            "author_id": self.author_id,
            "conversation_id": self.conversation_id,
            "created_at": iso(self.created_at),
            "lang": self.lang,
            "possibly_sensitive": False,
            "reply_settings": "everyone",
            "public_metrics": {
                "retweet_count": 0, "reply_count": self.reply_count, "like_count": 0,
                "quote_count": 0, "bookmark_count": 0, "impression_count": 0,
            },
            "edit_controls": {
                "is_edit_eligible": False, "editable_until": iso(self.created_at), "edits_remaining": 5,
            },
        }
        if self.in_reply_to_user_id:
            full["in_reply_to_user_id"] = self.in_reply_to_user_id
        if self.referenced():
            full["referenced_tweets"] = self.referenced()
        if entities:
            full["entities"] = entities
        out: dict[str, Any] = {"id": self.id, "text": self.text, "edit_history_tweet_ids": [self.id]}
        out.update({k: v for k, v in full.items() if k in fields})
        return out


@dataclass
class DmEvent:
    id: str
    sender_id: str
    recipient_id: str
    text: str
    created_at: datetime

    @property
    def dm_conversation_id(self) -> str:
        return conversation_id_for(self.sender_id, self.recipient_id)

    def render(self, fields: set[str]) -> dict[str, Any]:
        full = {
            "created_at": iso(self.created_at),
            "sender_id": self.sender_id,
            "dm_conversation_id": self.dm_conversation_id,
        }
        out: dict[str, Any] = {"id": self.id, "event_type": "MessageCreate", "text": self.text}
        out.update({k: v for k, v in full.items() if k in fields})
        return out


def conversation_id_for(a: str, b: str) -> str:
    """One-to-one DM conversations are `<smaller id>-<larger id>` on X."""
    low, high = sorted((a, b), key=int)
    return f"{low}-{high}"


def problem(status: int, title: str, detail: str, *, type_: str = "about:blank", **extra: Any) -> Response:
    """An error the way X v2 sends it: RFC 7807 problem details, `application/problem+json`."""
    body = {"title": title, "detail": detail, "type": type_, "status": status, **extra}
    return Response(status, json.dumps(body).encode(), {"Content-Type": "application/problem+json"})


class InvalidRequest(Exception):
    """A bad parameter; rendered as X's 400 `invalid-request` problem with the parameter named."""

    def __init__(self, parameter: str, value: str, message: str) -> None:
        super().__init__(message)
        self.parameter, self.value, self.message = parameter, value, message

    def response(self) -> Response:
        return problem(
            400, "Invalid Request", "One or more parameters to your request was invalid.",
            type_="https://api.twitter.com/2/problems/invalid-request",
            errors=[{"parameters": {self.parameter: [self.value]}, "message": self.message}],
        )
