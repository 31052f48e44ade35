"""The Graph emulator, driven by the unmodified facebook-sdk client (only its base URL points here)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import facebook
import pytest
import requests

from sandbox.emulators.graph_api import GraphEmulator
from sandbox.emulators.graph_wire import sign_webhook

PAGE, TOKEN = "5550001", "EAAG-test-page-token"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphEmulator]:
    emu = GraphEmulator(page_id=PAGE, page_name="Acme", page_token=TOKEN).start()
    # The library reads its base URL from this module global; patched for this test only.
    monkeypatch.setattr(facebook, "FACEBOOK_GRAPH_URL", emu.base_url + "/")
    yield emu
    emu.stop()


@pytest.fixture
def graph(emulator: GraphEmulator) -> facebook.GraphAPI:
    client = facebook.GraphAPI(access_token=TOKEN)
    client.version = "v21.0"  # the constructor only accepts retired 2.x/3.x versions
    return client


def graph_error(excinfo: pytest.ExceptionInfo[facebook.GraphAPIError]) -> dict:
    return excinfo.value.result["error"]


def test_feed_lists_page_and_visitor_posts_newest_first_with_requested_fields(emulator, graph) -> None:
    own = emulator.add_post("Our summer sale starts today", created_at=NOW - timedelta(hours=2))
    visitor = emulator.add_post("My order never arrived", by="Ana Ruiz", created_at=NOW - timedelta(hours=1))

    feed = graph.get_connections(PAGE, "feed", fields="id,message,from,created_time,permalink_url,updated_time")

    assert [p["id"] for p in feed["data"]] == [visitor, own]
    assert feed["data"][0]["from"] == {"name": "Ana Ruiz", "id": emulator.user("Ana Ruiz")}
    assert feed["data"][1]["from"]["id"] == PAGE
    assert feed["data"][0]["permalink_url"].startswith("https://www.facebook.com/")
    assert graph.get_connections(PAGE, "feed", fields="id,message")["data"][0].keys() == {"id", "message"}


def test_feed_pages_with_cursors_and_filters_by_since(emulator, graph) -> None:
    ids = [emulator.add_post(f"post {n}", created_at=NOW - timedelta(hours=10 - n)) for n in range(5)]

    first = graph.get_connections(PAGE, "feed", limit=2)
    assert len(first["data"]) == 2 and "next" in first["paging"] and first["paging"]["cursors"]["after"]
    everything = list(graph.get_all_connections(PAGE, "feed", limit=2))
    assert [p["id"] for p in everything] == ids[::-1]
    recent = graph.get_connections(PAGE, "feed", since=int((NOW - timedelta(hours=7, minutes=30)).timestamp()))
    assert [p["id"] for p in recent["data"]] == ids[:2:-1]
    assert "next" not in recent["paging"]


def test_comment_stream_includes_replies_with_their_parent(emulator, graph) -> None:
    post = emulator.add_post("New menu!", created_at=NOW - timedelta(days=1))
    top = emulator.add_comment(post, "Ana Ruiz", "Is it vegan?", created_at=NOW - timedelta(hours=5))
    reply = emulator.add_comment(top, None, "Half of it is!", created_at=NOW - timedelta(hours=4))
    nested = emulator.add_comment(reply, "Ana Ruiz", "Which half?", created_at=NOW - timedelta(hours=3))
    fields = "id,message,from,created_time,parent,permalink_url"

    stream = graph.get_connections(post, "comments", filter="stream", fields=fields)["data"]
    toplevel = graph.get_connections(post, "comments", fields=fields)["data"]
    newest_first = graph.get_connections(post, "comments", filter="stream", order="reverse_chronological")
    since = graph.get_connections(post, "comments", filter="stream",
                                  since=int((NOW - timedelta(hours=3, minutes=30)).timestamp()))

    assert [c["id"] for c in stream] == [top, reply, nested]
    assert "parent" not in stream[0]
    # Facebook keeps two levels: a reply to a reply belongs to the top-level comment.
    assert stream[1]["parent"]["id"] == top and stream[2]["parent"]["id"] == top
    assert "reply_comment_id" in stream[2]["permalink_url"]
    assert [c["id"] for c in toplevel] == [top]
    assert [c["id"] for c in newest_first["data"]] == [nested, reply, top]
    assert [c["id"] for c in since["data"]] == [nested]
    assert [c["id"] for c in graph.get_connections(top, "comments")["data"]] == [reply, nested]
    updated = graph.get_object(post, fields="updated_time")["updated_time"]
    assert updated == (NOW - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S+0000")


def test_messenger_conversations_messages_and_names(emulator, graph) -> None:
    first = emulator.add_messenger_message("2468", "Bo Chen", "Hi", created_at=NOW - timedelta(minutes=30))
    second = emulator.add_messenger_message("2468", "Bo Chen", "Anyone?", created_at=NOW - timedelta(minutes=20))
    other = emulator.add_messenger_message("1357", "Cy Diaz", "Hola", created_at=NOW - timedelta(hours=2))

    convs = graph.get_connections(PAGE, "conversations", platform="messenger",
                                  fields="id,updated_time,participants,messages{id,message,from,created_time}")
    assert [c["participants"]["data"][0]["id"] for c in convs["data"]] == ["2468", "1357"]
    conv = convs["data"][0]
    assert conv["id"].startswith("t_")
    assert [m["id"] for m in conv["messages"]["data"]] == [second, first]
    assert conv["messages"]["data"][0]["from"]["name"] == "Bo Chen"
    messages = graph.get_connections(conv["id"], "messages", fields="id,message,from,created_time")
    assert [m["message"] for m in messages["data"]] == ["Anyone?", "Hi"]
    assert graph.get_connections(convs["data"][1]["id"], "messages")["data"][0]["id"] == other
    assert graph.get_object("2468", fields="name") == {"id": "2468", "name": "Bo Chen"}


def test_wrong_token_is_refused_with_190(emulator) -> None:
    stranger = facebook.GraphAPI(access_token="EAAG-stolen")
    stranger.version = "v21.0"
    with pytest.raises(facebook.GraphAPIError) as excinfo:
        stranger.get_connections(PAGE, "feed")
    error = graph_error(excinfo)
    assert (error["code"], error["type"]) == (190, "OAuthException")
    assert error["message"].startswith("Invalid OAuth access token") and error["fbtrace_id"]


def test_unknown_object_is_graph_method_exception(graph) -> None:
    with pytest.raises(facebook.GraphAPIError) as excinfo:
        graph.get_connections("999_1", "comments")
    assert (graph_error(excinfo)["code"], graph_error(excinfo)["error_subcode"]) == (100, 33)


def test_public_reply_is_recorded_and_appears_as_the_pages_comment(emulator, graph) -> None:
    post = emulator.add_post("Hello")
    comment = emulator.add_comment(post, "Ana Ruiz", "Broken link")

    answer = graph.put_object(comment, "comments", message="Fixed, thanks!")

    assert emulator.comment_replies == [{"comment_id": comment, "text": "Fixed, thanks!", "id": answer["id"]}]
    stream = graph.get_connections(post, "comments", filter="stream", fields="id,from,parent")["data"]
    assert stream[-1] == {"id": answer["id"], "from": {"name": "Acme", "id": PAGE},
                          "parent": stream[-1]["parent"]}
    assert stream[-1]["parent"]["id"] == comment


def private_reply(graph: facebook.GraphAPI, comment_id: str, text: str) -> dict:
    return graph.put_object(PAGE, "messages", recipient=json.dumps({"comment_id": comment_id}),
                            message=json.dumps({"text": text}))


def test_one_private_reply_per_comment(emulator, graph) -> None:
    comment = emulator.add_comment(emulator.add_post("Hi"), "Ana Ruiz", "Need help", created_at=NOW)

    sent = private_reply(graph, comment, "Let's talk here")
    with pytest.raises(facebook.GraphAPIError) as excinfo:
        private_reply(graph, comment, "Again")

    assert sent["message_id"].startswith("m_") and sent["recipient_id"] == emulator.user("Ana Ruiz")
    assert graph_error(excinfo)["code"] == 10900
    assert [r["text"] for r in emulator.private_replies] == ["Let's talk here"]


def test_private_reply_refused_after_seven_days(emulator, graph) -> None:
    old = emulator.add_comment(emulator.add_post("Hi", created_at=NOW - timedelta(days=9)), "Ana Ruiz",
                               "Hello?", created_at=NOW - timedelta(days=8))
    with pytest.raises(facebook.GraphAPIError) as excinfo:
        private_reply(graph, old, "Sorry for the wait")
    assert graph_error(excinfo)["code"] == 10903
    assert emulator.private_replies == []


def send(graph: facebook.GraphAPI, psid: str, text: str, **extra: str) -> dict:
    return graph.put_object(PAGE, "messages", recipient=json.dumps({"id": psid}),
                            message=json.dumps({"text": text}), **extra)


@pytest.mark.parametrize(
    ("age", "extra", "allowed"),
    [
        (timedelta(hours=23), {"messaging_type": "RESPONSE"}, True),
        (timedelta(hours=25), {"messaging_type": "RESPONSE"}, False),
        (timedelta(days=6), {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}, True),
        (timedelta(days=8), {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}, False),
    ],
)
def test_messenger_windows(emulator, graph, age: timedelta, extra: dict, allowed: bool) -> None:
    emulator.add_messenger_message("2468", "Bo Chen", "Help", created_at=NOW - age)
    if allowed:
        answer = send(graph, "2468", "On it", **extra)
        assert emulator.sent_messages == [{"psid": "2468", "text": "On it", "message_id": answer["message_id"],
                                           "messaging_type": extra["messaging_type"], "tag": extra.get("tag")}]
        return
    with pytest.raises(facebook.GraphAPIError) as excinfo:
        send(graph, "2468", "On it", **extra)
    assert (graph_error(excinfo)["code"], graph_error(excinfo)["error_subcode"]) == (10, 2018278)
    assert emulator.sent_messages == []


def test_messenger_send_needs_a_known_user_and_a_messaging_type(emulator, graph) -> None:
    emulator.add_messenger_message("2468", "Bo Chen", "Help")
    with pytest.raises(facebook.GraphAPIError) as unknown:
        send(graph, "0000", "Hi", messaging_type="RESPONSE")
    with pytest.raises(facebook.GraphAPIError) as untyped:
        send(graph, "2468", "Hi")
    assert graph_error(unknown)["code"] == 100 and graph_error(untyped)["code"] == 100
    assert emulator.sent_messages == []


@pytest.mark.parametrize("code", [4, 17, 32, 613, 190])
def test_injected_graph_errors_fail_then_recover(emulator, graph, code: int) -> None:
    emulator.add_post("Hi")
    emulator.fail_with_graph_error(r"/feed$", code, times=1)

    with pytest.raises(facebook.GraphAPIError) as excinfo:
        graph.get_connections(PAGE, "feed")

    assert graph_error(excinfo)["code"] == code
    assert len(graph.get_connections(PAGE, "feed")["data"]) == 1


def test_page_rate_limit_carries_the_usage_header(emulator) -> None:
    emulator.fail_with_graph_error(r"/feed$", 32, regain_minutes=12)
    response = requests.get(f"{emulator.base_url}/v21.0/{PAGE}/feed", params={"access_token": TOKEN}, timeout=5)
    usage = json.loads(response.headers["x-business-use-case-usage"])
    assert response.status_code == 400
    assert usage[PAGE][0]["estimated_time_to_regain_access"] == 12


def test_sign_webhook_is_hmac_sha256_of_the_body() -> None:
    body = b'{"object":"page"}'
    assert sign_webhook(body, "s3cret") == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()


def quick(title: str, payload: str = "P") -> dict:
    return {"content_type": "text", "title": title, "payload": payload}


@pytest.mark.parametrize(
    ("buttons", "accepted"),
    [
        ([quick(str(n)) for n in range(13)], True),
        ([quick(str(n)) for n in range(14)], False),  # at most 13
        ([quick("x" * 20)], True),
        ([quick("x" * 21)], False),  # titles of at most 20 characters
        ([quick("ok", "p" * 1000)], True),
        ([quick("ok", "p" * 1001)], False),  # payloads of at most 1000
        ([{"content_type": "text", "payload": "P"}], False),  # a text quick reply needs its title
        ([{"content_type": "button", "title": "ok", "payload": "P"}], False),
    ],
)
def test_quick_replies_are_checked_as_graph_documents_them(emulator, graph, buttons: list, accepted: bool) -> None:
    # https://developers.facebook.com/docs/messenger-platform/reference/buttons/quick-replies
    emulator.add_messenger_message("2468", "Bo Chen", "Help", created_at=NOW - timedelta(minutes=5))
    message = json.dumps({"text": "How did we do?", "quick_replies": buttons})
    if accepted:
        graph.put_object(PAGE, "messages", recipient=json.dumps({"id": "2468"}), message=message,
                         messaging_type="RESPONSE")
        assert emulator.sent_messages[0]["quick_replies"] == buttons
        return
    with pytest.raises(facebook.GraphAPIError) as excinfo:
        graph.put_object(PAGE, "messages", recipient=json.dumps({"id": "2468"}), message=message,
                         messaging_type="RESPONSE")
    assert graph_error(excinfo)["code"] == 100 and emulator.sent_messages == []


def test_a_tapped_quick_reply_is_the_customers_message_and_a_webhook_with_its_payload(emulator, graph) -> None:
    emulator.add_messenger_message("2468", "Bo Chen", "Help", created_at=NOW - timedelta(minutes=5))
    with pytest.raises(ValueError, match="no quick reply"):
        emulator.tap_quick_reply("2468", 0)  # nothing offered yet
    graph.put_object(PAGE, "messages", recipient=json.dumps({"id": "2468"}), messaging_type="RESPONSE",
                     message=json.dumps({"text": "Rate us", "quick_replies": [quick("1 😞", "CSAT:1"),
                                                                              quick("5 😍", "CSAT:5")]}))
    body = emulator.tap_quick_reply("2468", 1)
    [event] = body["entry"][0]["messaging"]
    assert event["message"]["quick_reply"] == {"payload": "CSAT:5"} and event["message"]["text"] == "5 😍"
    [conversation] = graph.get_connections(PAGE, "conversations", platform="messenger")["data"]
    polled = graph.get_connections(conversation["id"], "messages", fields="id,message,from")["data"]
    assert (polled[0]["id"], polled[0]["message"], polled[0]["from"]["id"]) == (event["message"]["mid"], "5 😍", "2468")
    with pytest.raises(ValueError):
        emulator.tap_quick_reply("2468", 1)  # the buttons are dismissed once tapped
