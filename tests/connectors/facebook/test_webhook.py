"""Webhook verification, signatures and parsing; parsed records match what polling yields."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import Kind, Platform
from connectors.facebook.connector import FacebookConnector
from connectors.facebook.webhook import challenge_response, parse_delivery, signature_valid
from sandbox.emulators.graph_api import GraphEmulator
from sandbox.emulators.graph_wire import sign_webhook

PAGE, SECRET, VERIFY = "5550001", "app-secret-123", "verify-me"
T = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)


def page_delivery(*, changes: list | None = None, messaging: list | None = None) -> dict:
    entry: dict = {"id": PAGE, "time": int(T.timestamp())}
    if changes is not None:
        entry["changes"] = [{"field": "feed", "value": value} for value in changes]
    if messaging is not None:
        entry["messaging"] = messaging
    return {"object": "page", "entry": [entry]}


def comment_change(comment_id: str, *, parent: str | None = None, who: tuple[str, str] = ("901", "Ana Ruiz"),
                   verb: str = "add", post_id: str = f"{PAGE}_42") -> dict:
    return {"from": {"id": who[0], "name": who[1]}, "post_id": post_id, "comment_id": comment_id,
            "parent_id": parent or post_id, "item": "comment", "verb": verb, "message": "Still broken",
            "created_time": int(T.timestamp())}


def dm(mid: str, *, sender: str = "2468", **message: object) -> dict:
    return {"sender": {"id": sender}, "recipient": {"id": PAGE}, "timestamp": int(T.timestamp() * 1000),
            "message": {"mid": mid, "text": "Hi there", **message}}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}, "1158201444"),
        ({"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"}, None),
        ({"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}, None),
        ({"hub.mode": "subscribe", "hub.challenge": "1158201444"}, None),
    ],
)
def test_challenge_only_for_our_verify_token(query: dict, expected: str | None) -> None:
    assert challenge_response(query, VERIFY) == expected


def test_no_challenge_when_no_verify_token_is_configured() -> None:
    assert challenge_response({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}, "") is None


def test_signature_checks() -> None:
    body = json.dumps(page_delivery(messaging=[dm("m_1")])).encode()
    good = sign_webhook(body, SECRET)
    assert signature_valid(body, good, SECRET)
    assert not signature_valid(body, sign_webhook(body, "someone-else"), SECRET)
    assert not signature_valid(body + b" ", good, SECRET)  # any change to the body breaks it
    assert not signature_valid(body, None, SECRET)
    assert not signature_valid(body, "", SECRET)
    assert not signature_valid(body, good.replace("sha256=", "sha1="), SECRET)


def test_comments_and_replies_thread_like_polling() -> None:
    top, reply = f"42_{1001}", f"42_{1002}"
    records = parse_delivery(page_delivery(changes=[comment_change(top), comment_change(reply, parent=top)]), PAGE)

    assert [(r.external_id, r.kind, r.thread_key, r.in_reply_to) for r in records] == [
        (top, Kind.COMMENT, top, None), (reply, Kind.COMMENT, top, top)]
    assert records[0].platform == Platform.FACEBOOK and records[0].created_at == T
    assert (records[0].author.external_id, records[0].author.name) == ("901", "Ana Ruiz")


def test_edits_removals_and_the_pages_own_comments_are_skipped() -> None:
    changes = [comment_change("42_1", verb="edited"), comment_change("42_2", verb="remove"),
               comment_change("42_3", who=(PAGE, "Acme")), {"item": "reaction", "verb": "add"}]
    assert parse_delivery(page_delivery(changes=changes), PAGE) == []


def test_visitor_posts_and_their_authors_comments() -> None:
    post_id = f"{PAGE}_77"
    post = {"from": {"id": "901", "name": "Ana Ruiz"}, "post_id": post_id, "item": "status", "verb": "add",
            "message": "Where is my refund?", "created_time": int(T.timestamp()), "published": 1}
    own = comment_change("77_5", post_id=post_id)
    page_post = {**post, "post_id": f"{PAGE}_78", "from": {"id": PAGE, "name": "Acme"}}

    records = parse_delivery(page_delivery(changes=[post, own, page_post]), PAGE, post_authors={post_id: "901"})

    assert [(r.external_id, r.kind, r.thread_key) for r in records] == [
        (post_id, Kind.VISITOR_POST, post_id), ("77_5", Kind.COMMENT, post_id)]


def test_a_link_share_links_to_the_post_never_to_the_shared_url() -> None:
    """`link` is the URL the visitor shared: the record's url is the post's own permalink."""
    share = {"from": {"id": "901", "name": "Ana Ruiz"}, "post_id": f"{PAGE}_79", "item": "link", "verb": "add",
             "link": "https://evil.example/free-money", "message": "look", "created_time": int(T.timestamp())}

    [record] = parse_delivery(page_delivery(changes=[share]), PAGE)

    assert record.url == f"https://www.facebook.com/{PAGE}/posts/79"


def test_messenger_messages_skip_echoes_and_receipts() -> None:
    events = [
        dm("m_customer"),
        dm("m_echo", sender=PAGE, is_echo=True, app_id=1234),
        {"sender": {"id": "2468"}, "recipient": {"id": PAGE}, "delivery": {"mids": ["m_x"], "watermark": 1}},
        {"sender": {"id": "2468"}, "recipient": {"id": PAGE}, "timestamp": 1, "read": {"watermark": 1}},
        dm("m_photo", attachments=[{"type": "image", "payload": {"url": "https://example.test/a.jpg"}}], text=None),
    ]
    records = parse_delivery(page_delivery(messaging=events), PAGE)

    assert [(r.external_id, r.kind, r.thread_key, r.text) for r in records] == [
        ("m_customer", Kind.MESSENGER, "2468", "Hi there"), ("m_photo", Kind.MESSENGER, "2468", "(attachment)")]
    assert records[0].created_at == T and records[0].author.external_id == "2468"


def test_other_objects_and_malformed_entries_give_nothing() -> None:
    assert parse_delivery({"object": "instagram", "entry": [{"messaging": [dm("m_1")]}]}, PAGE) == []
    assert parse_delivery({"object": "page", "entry": ["junk", {"changes": ["junk", {"field": "feed"}]},
                                                       {"messaging": [{"message": "junk"}]}]}, PAGE) == []


@pytest.mark.parametrize("item", [[], {}, 7, None])
def test_an_item_that_is_not_a_string_gives_nothing(item: object) -> None:
    """Found by the webhook fuzz test: a list as `item` once raised (unhashable) and answered 500."""
    change = {**comment_change("42_9"), "item": item}
    assert parse_delivery(page_delivery(changes=[change]), PAGE) == []


def test_a_comment_heard_by_webhook_and_by_polling_is_the_same_record() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with GraphEmulator(page_id=PAGE, page_name="Acme", page_token="EAAG-t") as emulator:
        post = emulator.add_post("Hello", created_at=now - timedelta(days=1))
        top = emulator.add_comment(post, ("901", "Ana Ruiz"), "Broken", created_at=now - timedelta(hours=2))
        reply = emulator.add_comment(top, ("901", "Ana Ruiz"), "Still broken", created_at=now - timedelta(hours=1))
        psid_mid = emulator.add_messenger_message("2468", "Bo Chen", "Hi there", created_at=now - timedelta(hours=1))
        connector = FacebookConnector(page_id=PAGE, page_token="EAAG-t", graph_url=emulator.base_url)
        polled = {m.external_id: m for b in connector.poll({}, now) for m in b.messages}

    an_hour_ago = (now - timedelta(hours=1)).timestamp()
    change = comment_change(reply, parent=top, post_id=post) | {"created_time": int(an_hour_ago)}
    message = dm(psid_mid) | {"timestamp": int(an_hour_ago * 1000)}
    heard = {r.external_id: r for r in parse_delivery(page_delivery(changes=[change], messaging=[message]), PAGE)}

    for external_id in (reply, psid_mid):
        webhook, poll = heard[external_id], polled[external_id]
        assert (webhook.kind, webhook.thread_key, webhook.created_at, webhook.author.external_id) == (
            poll.kind, poll.thread_key, poll.created_at, poll.author.external_id)


def test_a_tapped_quick_reply_carries_its_payload() -> None:
    [tapped, typed] = parse_delivery(page_delivery(messaging=[
        dm("m_1", text="4 🙂", quick_reply={"payload": "CSAT:4"}), dm("m_2", quick_reply="not an object")]), PAGE)
    assert (tapped.text, tapped.quick_reply) == ("4 🙂", "CSAT:4")
    assert typed.quick_reply is None
