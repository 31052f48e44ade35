"""Pure conversions from X API v2 JSON (tweets, DM events, users) to Parley's InboundMessage records.

No I/O here: these take the raw `data` objects and the `includes.users` of a response, so they are
tested with plain dicts and reused by anything that holds X payloads (webhooks, fixtures).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.base import Author, InboundMessage, Kind, Platform

TWEET_FIELDS = ("author_id", "conversation_id", "created_at", "in_reply_to_user_id", "lang",
                "public_metrics", "referenced_tweets", "entities")
USER_FIELDS = ("public_metrics", "verified", "verified_type", "created_at")
DM_EVENT_FIELDS = ("created_at", "dm_conversation_id", "sender_id", "event_type", "participant_ids")
UNKNOWN_LANGS = frozenset({"und", "qme", "qht", "qam", "qct", "qst", "zxx"})  # X's "no language" codes


def parse_time(value: str | None, default: datetime) -> datetime:
    """X timestamps (`2024-05-01T12:00:00.000Z`) as aware UTC datetimes; `default` when missing."""
    if not value:
        return default
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def users_by_id(users: Iterable[Mapping[str, Any]] | None) -> dict[str, Mapping[str, Any]]:
    return {u["id"]: u for u in users or ()}


def author_from(user_id: str, users: Mapping[str, Mapping[str, Any]]) -> Author:
    """The customer from `includes.users`; an account X did not expand (suspended, protected)
    still gets a record, with its id standing in for the handle."""
    user = users.get(user_id)
    if user is None:
        return Author(external_id=user_id, handle=user_id, name="")
    metrics = user.get("public_metrics") or {}
    verified = bool(user.get("verified")) or user.get("verified_type") in ("blue", "business", "government")
    return Author(
        external_id=user_id,
        handle=user["username"],
        name=user.get("name", ""),
        followers=metrics.get("followers_count"),
        verified=verified,
    )


def tweet_url(handle: str | None, tweet_id: str) -> str:
    # x.com/i/status/<id> resolves for any tweet when the author's handle is unknown
    return f"https://x.com/{handle or 'i'}/status/{tweet_id}"


def tweet_to_record(
    tweet: Mapping[str, Any],
    users: Mapping[str, Mapping[str, Any]],
    *,
    kind: Kind,
    now: datetime,
    query_names: tuple[str, ...] = (),
) -> InboundMessage:
    """One tweet as a message. Its thread is the X `conversation_id`, so every reply in a thread
    (whoever it answers) joins the same conversation; `in_reply_to` is the tweet it answers."""
    author = author_from(tweet.get("author_id", ""), users)
    replied_to = next((r["id"] for r in tweet.get("referenced_tweets") or () if r.get("type") == "replied_to"), None)
    lang = tweet.get("lang")
    return InboundMessage(
        platform=Platform.X,
        kind=kind,
        external_id=tweet["id"],
        thread_key=tweet.get("conversation_id") or tweet["id"],
        text=tweet.get("text", ""),
        author=author,
        created_at=parse_time(tweet.get("created_at"), now),
        url=tweet_url(author.handle if author.name else None, tweet["id"]),
        query_names=query_names,
        lang_hint=None if lang in UNKNOWN_LANGS else lang,
        in_reply_to=replied_to,
    )


def dm_to_record(event: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]], *, now: datetime) -> InboundMessage:
    """One DM event as a message, threaded by its `dm_conversation_id` (`<low id>-<high id>`)."""
    sender = event.get("sender_id", "")
    conversation = event.get("dm_conversation_id") or sender
    return InboundMessage(
        platform=Platform.X,
        kind=Kind.DM,
        external_id=event["id"],
        thread_key=conversation,
        text=event.get("text", ""),
        author=author_from(sender, users),
        created_at=parse_time(event.get("created_at"), now),
        url=f"https://x.com/messages/{conversation}",
    )


def addresses_brand(tweet: Mapping[str, Any], brand_id: str, handle: str,
                    tweets: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether the post's author mentioned the brand or quoted one of its posts (`tweets`: the
    page's `includes.tweets` by id) — the posts X lets a self-serve app reply to publicly."""
    mentions = (tweet.get("entities") or {}).get("mentions") or ()
    if any(m.get("id") == brand_id or (handle and str(m.get("username", "")).lower() == handle.lower())
           for m in mentions):
        return True
    return any(r.get("type") == "quoted" and (tweets.get(r.get("id", "")) or {}).get("author_id") == brand_id
               for r in tweet.get("referenced_tweets") or ())


def is_retweet(tweet: Mapping[str, Any]) -> bool:
    return any(r.get("type") == "retweeted" for r in tweet.get("referenced_tweets") or ())
