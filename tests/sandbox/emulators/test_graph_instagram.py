"""The Graph emulator's Instagram, driven by the unmodified facebook-sdk client: Graph's shapes and
Graph's refusals (one private reply per comment within 7 days, the DM windows, hidden comments,
permissions)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import facebook
import pytest

from sandbox.emulators.graph_api import GraphEmulator

PAGE, TOKEN = "5550001", "EAAG-test-page-token"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphEmulator]:
    emu = GraphEmulator(page_id=PAGE, page_token=TOKEN).start()
    monkeypatch.setattr(facebook, "FACEBOOK_GRAPH_URL", emu.base_url + "/")
    yield emu
    emu.stop()


@pytest.fixture
def graph(emulator: GraphEmulator) -> facebook.GraphAPI:
    client = facebook.GraphAPI(access_token=TOKEN)
    client.version = "v21.0"
    return client


def error(excinfo: pytest.ExceptionInfo[facebook.GraphAPIError]) -> dict:
    return excinfo.value.result["error"]


def send(graph: facebook.GraphAPI, recipient: dict, text: str, **args: str) -> dict:
    return graph.put_object(PAGE, "messages", recipient=json.dumps(recipient), message=json.dumps({"text": text}),
                            **args)


def test_media_comments_and_replies_have_graphs_shape(emulator, graph) -> None:
    media = emulator.add_instagram_media("Drop", created_at=NOW - timedelta(hours=2))
    top = emulator.add_instagram_comment(media, "lucia.g", "¿Talla M?", created_at=NOW - timedelta(hours=1))
    deeper = emulator.add_instagram_comment(top, "bo.c", "+1")
    reply_to_reply = emulator.add_instagram_comment(deeper, "lucia.g", "🙏")
    listed = graph.get_connections(emulator.instagram.id, "media", fields="id,timestamp")["data"]
    assert [m["id"] for m in listed] == [media]
    comments = graph.get_connections(media, "comments", fields="id,text,from,replies{id,parent_id}")["data"]
    assert [c["id"] for c in comments] == [top]
    assert comments[0]["from"] == {"id": emulator.instagram.user("lucia.g"), "username": "lucia.g"}
    # Instagram keeps two levels: a reply to a reply is filed under the top-level comment.
    assert [(r["id"], r["parent_id"]) for r in comments[0]["replies"]["data"]] == [(deeper, top), (reply_to_reply, top)]


def test_a_comment_gets_one_private_reply_within_7_days_never_from_the_accounts_own(emulator, graph) -> None:
    media = emulator.add_instagram_media("Drop", created_at=NOW - timedelta(days=9))
    fresh = emulator.add_instagram_comment(media, "lucia.g", "hi", created_at=NOW - timedelta(days=6))
    stale = emulator.add_instagram_comment(media, "bo.c", "hi", created_at=NOW - timedelta(days=7, minutes=1))
    own = emulator.add_instagram_comment(media, None, "ours")
    assert send(graph, {"comment_id": fresh}, "DM")["recipient_id"] == emulator.instagram.user("lucia.g")
    with pytest.raises(facebook.GraphAPIError) as twice:
        send(graph, {"comment_id": fresh}, "again")
    assert error(twice)["code"] == 10900
    for comment in (stale, own):
        with pytest.raises(facebook.GraphAPIError) as refused:
            send(graph, {"comment_id": comment}, "late")
        assert error(refused)["code"] == 10903
    assert len(emulator.instagram.private_replies) == 1


def test_dms_need_the_24_hour_window_or_the_human_agent_tag_within_7_days(emulator, graph) -> None:
    emulator.add_instagram_dm("leo.p", "hi", created_at=NOW - timedelta(hours=25))
    igsid = emulator.instagram.user("leo.p")
    with pytest.raises(facebook.GraphAPIError) as outside:
        send(graph, {"id": igsid}, "late", messaging_type="RESPONSE")
    assert (error(outside)["code"], error(outside)["error_subcode"]) == (10, 2018278)
    with pytest.raises(facebook.GraphAPIError) as untagged:
        send(graph, {"id": igsid}, "no type")
    assert error(untagged)["code"] == 100
    assert send(graph, {"id": igsid}, "ok", messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")["message_id"]
    conversations = graph.get_connections(PAGE, "conversations", platform="instagram")["data"]
    assert len(conversations) == 1
    assert graph.get_connections(PAGE, "conversations", platform="messenger")["data"] == []
    messages = graph.get_connections(conversations[0]["id"], "messages", fields="id,message,from")["data"]
    assert [m["message"] for m in messages] == ["ok", "hi"]  # newest first


def test_hidden_comments_take_no_reply_and_mentions_only_on_media_that_mentions_the_account(emulator, graph) -> None:
    media = emulator.add_instagram_media("Drop")
    comment = emulator.add_instagram_comment(media, "troll", "spam")
    assert graph.request(f"v21.0/{comment}", post_args={"hide": "true"}) == {"success": True}
    with pytest.raises(facebook.GraphAPIError):
        graph.put_object(comment, "replies", message="hello")
    with pytest.raises(facebook.GraphAPIError) as own:
        graph.put_object(emulator.instagram.id, "mentions", media_id=media, message="hi")
    assert error(own)["code"] == 100
    other = emulator.add_instagram_media("Hey @acme", by="sam.t")
    assert graph.put_object(emulator.instagram.id, "mentions", media_id=other, message="Hi Sam")["id"]
    found = graph.get_object(emulator.instagram.id, fields=f"mentioned_media.media_id({other}){{caption,username}}")
    assert found["mentioned_media"]["caption"] == "Hey @acme"


def test_a_token_without_the_permission_is_refused(emulator, graph) -> None:
    media = emulator.add_instagram_media("Drop")
    comment = emulator.add_instagram_comment(media, "lucia.g", "hi")
    emulator.instagram.permissions.discard("instagram_manage_comments")
    with pytest.raises(facebook.GraphAPIError) as refused:
        graph.put_object(comment, "replies", message="hello")
    assert error(refused)["code"] == 10 and "instagram_manage_comments" in error(refused)["message"]
    with pytest.raises(facebook.GraphAPIError):
        graph.get_connections(media, "comments")
    assert emulator.instagram.comment_replies == []


def test_only_comments_on_the_accounts_own_media_can_be_hidden(emulator, graph) -> None:
    """Graph refuses to moderate a comment on someone else's post (code 100, subcode 33), even one that
    @mentions the account, and asks for `hide` itself."""
    other = emulator.add_instagram_media("Hey @acme", by="sam.t")
    theirs = emulator.add_instagram_comment(other, "troll", "@acme is a scam")
    with pytest.raises(facebook.GraphAPIError) as refused:
        graph.request(f"v21.0/{theirs}", post_args={"hide": "true"})
    assert (error(refused)["code"], error(refused)["error_subcode"]) == (100, 33)
    assert emulator.instagram.hidden == [] and not emulator.instagram.comments[theirs].hidden
    ours = emulator.add_instagram_comment(emulator.add_instagram_media("Drop"), "troll", "spam")
    with pytest.raises(facebook.GraphAPIError) as bare:
        graph.request(f"v21.0/{ours}", post_args={"hidden": "true"})
    assert error(bare)["code"] == 100
    emulator.instagram.permissions.discard("instagram_manage_comments")
    with pytest.raises(facebook.GraphAPIError) as unpermitted:
        graph.request(f"v21.0/{ours}", post_args={"hide": "true"})
    assert error(unpermitted)["code"] == 10 and emulator.instagram.hidden == []
