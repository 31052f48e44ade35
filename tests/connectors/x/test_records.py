"""connectors.x.records: X's plain JSON payloads (tweets, DM events) turned into inbound records."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.base import Kind
from connectors.x.records import dm_to_record, tweet_to_record


def test_records_from_plain_payloads() -> None:
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    users = {"9": {"id": "9", "username": "ana", "name": "Ana", "public_metrics": {"followers_count": 3},
                   "verified_type": "blue"}}
    tweet = {"id": "20", "text": "@acme hola", "author_id": "9", "conversation_id": "10", "lang": "und",
             "created_at": "2024-05-01T11:00:00.000Z", "referenced_tweets": [{"type": "replied_to", "id": "15"}]}
    record = tweet_to_record(tweet, users, kind=Kind.SEARCH_HIT, now=at, query_names=("acme",))
    assert (record.thread_key, record.in_reply_to, record.lang_hint) == ("10", "15", None)
    assert record.created_at == datetime(2024, 5, 1, 11, tzinfo=UTC) and record.author.verified
    unknown = tweet_to_record({"id": "21", "text": "x", "author_id": "77"}, {}, kind=Kind.MENTION, now=at)
    assert (unknown.author.handle, unknown.url, unknown.created_at) == ("77", "https://x.com/i/status/21", at)
    dm = dm_to_record({"id": "5", "event_type": "MessageCreate", "text": "hi", "sender_id": "9",
                       "dm_conversation_id": "1-9", "created_at": "2024-05-01T10:00:00.000Z"}, users, now=at)
    assert (dm.kind, dm.thread_key, dm.author.handle) == (Kind.DM, "1-9", "ana")
