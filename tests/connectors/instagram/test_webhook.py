"""Instagram webhook deliveries (`object: instagram`) as records, matching what polling produces."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.base import Kind, MalformedDelivery
from connectors.instagram.webhook import PENDING, parse

ACCOUNT = "17841400000000001"
SENT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def delivery(**entry: object) -> dict:
    return {"object": "instagram", "entry": [{"id": ACCOUNT, "time": int(SENT.timestamp()), **entry}]}


def comment(cid: str, who: str = "611", parent: str | None = None) -> dict:
    value = {"id": cid, "text": "¿Y mi pedido?", "from": {"id": who, "username": "lucia.g"}, "media": {"id": "m1"}}
    return {"field": "comments", "value": value | ({"parent_id": parent} if parent else {})}


def test_comments_thread_on_their_top_level_comment_and_the_accounts_own_are_skipped() -> None:
    records = parse(delivery(changes=[comment("c1"), comment("c2", parent="c1"), comment("c3", who=ACCOUNT)]),
                    ACCOUNT)
    assert [(r.kind, r.external_id, r.thread_key, r.in_reply_to) for r in records] == [
        (Kind.COMMENT, "c1", "c1", None), (Kind.COMMENT, "c2", "c1", "c1")]
    assert records[0].author.handle == "lucia.g" and records[0].created_at == SENT


def test_mentions_carry_ids_only_until_completed() -> None:
    records = parse(delivery(changes=[{"field": "mentions", "value": {"media_id": "m7"}},
                                      {"field": "mentions", "value": {"media_id": "m7", "comment_id": "c9"}}]),
                    ACCOUNT)
    assert [(r.kind, r.external_id, r.thread_key, r.text) for r in records] == [
        (Kind.MENTION, "m7", "m7", PENDING), (Kind.MENTION, "c9", "m7", PENDING)]


def test_dms_thread_on_the_sender_and_echoes_reads_and_other_objects_are_ignored() -> None:
    events = [{"sender": {"id": "612"}, "recipient": {"id": ACCOUNT}, "timestamp": 1_772_452_800_000,
               "message": {"mid": "aWdf1", "text": "Hi"}},
              {"sender": {"id": ACCOUNT}, "recipient": {"id": "612"}, "timestamp": 1_772_452_800_000,
               "message": {"mid": "aWdf2", "text": "echo", "is_echo": True}},
              {"sender": {"id": "612"}, "recipient": {"id": ACCOUNT}, "timestamp": 1_772_452_800_000,
               "read": {"mid": "aWdf1"}}]
    records = parse(delivery(messaging=events), ACCOUNT)
    assert [(r.kind, r.external_id, r.thread_key) for r in records] == [(Kind.DM, "aWdf1", "612")]
    assert parse({"object": "page", "entry": [{"messaging": events}]}, ACCOUNT) == []
    assert parse(delivery(changes=[comment("c1")]) | {"entry": [{"id": "other", "changes": [comment("c1")]}]},
                 ACCOUNT) == []


def test_a_malformed_delivery_is_refused() -> None:
    with pytest.raises(MalformedDelivery, match="changes is not a list"):
        parse(delivery(changes={"field": "comments"}), ACCOUNT)
    with pytest.raises(MalformedDelivery, match="out of range"):
        parse({"object": "instagram", "entry": [{"id": ACCOUNT, "time": 1e300, "changes": [comment("c1")]}]}, ACCOUNT)


def test_a_tapped_quick_reply_carries_its_payload() -> None:
    event = {"sender": {"id": "612"}, "recipient": {"id": ACCOUNT}, "timestamp": 1_772_452_800_000,
             "message": {"mid": "aWdf9", "text": "4 🙂", "quick_reply": {"payload": "CSAT:4"}}}
    [record] = parse(delivery(messaging=[event]), ACCOUNT)
    assert (record.text, record.quick_reply) == ("4 🙂", "CSAT:4")
