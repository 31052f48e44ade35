"""The Slack emulator driven by the real slack_sdk WebClient: every method, every error path."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from sandbox.emulators.slack_api import SlackEmulator

CH = "C0SUPPORT1"
KEY_META = {"event_type": "parley_outbox", "event_payload": {"key": "post_card:1:1"}}


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def slack(clock: Clock) -> Iterator[SlackEmulator]:
    with SlackEmulator(clock=clock) as emulator:
        emulator.add_user("U0STAFF01", "ana", real_name="Ana García")
        yield emulator


@pytest.fixture
def client(slack: SlackEmulator) -> WebClient:
    return WebClient(token=SlackEmulator.TOKEN, base_url=slack.base_url + "/api/", retry_handlers=[])


def error_of(call) -> str:
    with pytest.raises(SlackApiError) as info:
        call()
    assert info.value.response.status_code == 200  # Slack reports API errors with HTTP 200
    return info.value.response["error"]


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


# --- auth --------------------------------------------------------------------------------------
def test_auth_test_and_token_errors(slack, client):
    me = client.auth_test()
    assert (me["ok"], me["user_id"], me["team_id"]) == (True, slack.BOT_USER_ID, slack.TEAM_ID)
    base = slack.base_url + "/api/"
    assert error_of(lambda: WebClient(base_url=base).auth_test()) == "not_authed"
    assert error_of(lambda: WebClient(token="xoxb-wrong", base_url=base).auth_test()) == "invalid_auth"
    assert error_of(lambda: client.api_call("chat.teleport")) == "unknown_method"


# --- chat.postMessage ----------------------------------------------------------------------------
def test_post_message_returns_unique_increasing_ts_even_when_the_clock_stands_still(slack, client):
    answers = [client.chat_postMessage(channel=CH, text=f"hello {i}") for i in range(3)]
    ts = [a["ts"] for a in answers]
    assert all(re.fullmatch(r"\d{10}\.\d{6}", t) for t in ts)
    assert ts == sorted(ts) and len(set(ts)) == 3 and ts[0].startswith("1700000000.")
    assert answers[0]["channel"] == CH and answers[0]["message"]["text"] == "hello 0"
    assert [p.text for p in slack.posts(CH)] == ["hello 0", "hello 1", "hello 2"]


def test_blocks_and_metadata_as_json_strings_or_objects(slack, client):
    a = client.chat_postMessage(channel=CH, text="a", blocks=json.dumps([section("*a*")]),
                                metadata=json.dumps(KEY_META))
    client.chat_postMessage(channel=CH, text="b", blocks=[section("*b*")], metadata=KEY_META)
    assert [p.blocks for p in slack.posts()] == [[section("*a*")], [section("*b*")]]
    assert a["message"]["metadata"] == KEY_META

    plain = client.conversations_history(channel=CH)["messages"]
    full = client.conversations_history(channel=CH, include_all_metadata=True)["messages"]
    assert all("metadata" not in m for m in plain)
    assert [m["metadata"] for m in full] == [KEY_META, KEY_META]


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"blocks": [section(str(i)) for i in range(51)]}, "invalid_blocks"),
    ({"blocks": [section("x" * 3001)]}, "invalid_blocks"),
    ({"blocks": "[not json"}, "invalid_blocks_format"),
    ({"text": "x" * 40_001}, "msg_too_long"),
    ({"text": ""}, "no_text"),
    ({"metadata": {"event_payload": {}}}, "invalid_metadata_schema"),
])
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
def test_post_message_rejects_what_slack_rejects(slack, client, kwargs, error):
    args = {"channel": CH, "text": "fallback", **kwargs}
    assert error_of(lambda: client.chat_postMessage(**args)) == error
    assert slack.posts() == []


def test_fifty_blocks_and_3000_characters_are_accepted(client):
    assert client.chat_postMessage(channel=CH, text="t", blocks=[section("x" * 3000)] * 50)["ok"]


def test_channels_by_name_strict_archived_and_not_a_member(clock):
    with SlackEmulator(clock=clock, strict_channels=True) as slack:
        client = WebClient(token=SlackEmulator.TOKEN, base_url=slack.base_url + "/api/")
        support = slack.add_channel("support")
        slack.add_channel("old", archived=True)
        slack.add_channel("private", private=True, member=False)
        assert client.chat_postMessage(channel="#support", text="hi")["channel"] == support.id
        assert error_of(lambda: client.chat_postMessage(channel="C0NOWHERE1", text="hi")) == "channel_not_found"
        assert error_of(lambda: client.chat_postMessage(channel="old", text="hi")) == "is_archived"
        assert error_of(lambda: client.chat_postMessage(channel="private", text="hi")) == "not_in_channel"
        assert error_of(lambda: client.conversations_info(channel="C0NOWHERE1")) == "channel_not_found"


def test_unknown_channels_are_created_on_first_use(slack, client):
    posted = client.chat_postMessage(channel="#new-one", text="hi")
    assert posted["channel"].startswith("C") and slack.channels[posted["channel"]].name == "new-one"
    assert client.conversations_info(channel="C0FRESH001")["channel"]["id"] == "C0FRESH001"


def test_threads_replies_broadcasts_and_orphans(slack, client):
    parent = client.chat_postMessage(channel=CH, text="card")["ts"]
    r1 = client.chat_postMessage(channel=CH, text="one", thread_ts=parent)["ts"]
    client.chat_postMessage(channel=CH, text="two", thread_ts=r1)  # a reply to a reply joins the thread
    client.chat_postMessage(channel=CH, text="loud", thread_ts=parent, reply_broadcast=True)
    orphan = client.chat_postMessage(channel=CH, text="lost", thread_ts="1600000000.000100")
    assert orphan["ok"]  # Slack accepts a thread_ts naming no message

    replies = client.conversations_replies(channel=CH, ts=parent)["messages"]
    assert [m["text"] for m in replies] == ["card", "one", "two", "loud"]
    assert replies[0]["reply_count"] == 3 and all(m["thread_ts"] == parent for m in replies)
    from_reply = client.conversations_replies(channel=CH, ts=r1)["messages"]
    assert [m["text"] for m in from_reply] == ["card", "one", "two", "loud"]
    history = client.conversations_history(channel=CH)["messages"]
    assert [m["text"] for m in history] == ["loud", "card"]  # newest first; broadcast shows in channel
    assert history[0]["subtype"] == "thread_broadcast"
    assert [m.text for m in slack.thread(CH, parent)] == ["card", "one", "two", "loud"]
    assert error_of(lambda: client.conversations_replies(channel=CH, ts="1600000000.000100")) == "thread_not_found"
    assert "(orphaned reply to missing 1600000000.000100) lost" in slack.transcript()


def test_history_filters_and_pages_newest_first(slack, client, clock):
    ts = []
    for i in range(5):
        clock.t += 10
        ts.append(client.chat_postMessage(channel=CH, text=f"m{i}")["ts"])
    window = client.conversations_history(channel=CH, oldest=ts[0], latest=ts[3])["messages"]
    assert [m["text"] for m in window] == ["m2", "m1"]
    inclusive = client.conversations_history(channel=CH, oldest=ts[0], latest=ts[3], inclusive=True)
    assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1", "m0"]

    seen, cursor, pages = [], None, 0
    while True:
        page = client.conversations_history(channel=CH, limit=2, cursor=cursor)
        seen += [m["text"] for m in page["messages"]]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] == bool(cursor)
        if not cursor:
            break
    assert (seen, pages) == (["m4", "m3", "m2", "m1", "m0"], 3)


# --- other chat methods -------------------------------------------------------------------------
def test_update_ephemeral_permalink(slack, client):
    ts = client.chat_postMessage(channel=CH, text="open", blocks=[section("🔵 Open")], metadata=KEY_META)["ts"]
    updated = client.chat_update(channel=CH, ts=ts, text="resolved", blocks=[section("✅ Resolved")])
    assert (updated["ts"], updated["text"]) == (ts, "resolved")
    [card] = client.conversations_history(channel=CH, include_all_metadata=True)["messages"]
    assert card["blocks"] == [section("✅ Resolved")] and card["metadata"] == KEY_META and "edited" in card
    assert error_of(lambda: client.chat_update(channel=CH, ts="1.000001", text="x")) == "message_not_found"

    eph = client.chat_postEphemeral(channel=CH, user="U0STAFF01", text="only you")
    assert slack.ephemerals[0]["text"] == "only you" and eph["message_ts"]
    assert error_of(lambda: client.chat_postEphemeral(channel=CH, user="U0NOBODY", text="x")) == "user_not_in_channel"

    link = client.chat_getPermalink(channel=CH, message_ts=ts)["permalink"]
    assert link.endswith(f"/archives/{CH}/p{ts.replace('.', '')}")
    assert error_of(lambda: client.chat_getPermalink(channel=CH, message_ts="1.000001")) == "message_not_found"


def test_transcript_shows_cards_replies_and_current_state(slack, client):
    client.conversations_open(users="U0STAFF01")  # an empty DM is left out
    ts = client.chat_postMessage(channel="#support", text="#1 X mention from @ana: broken", blocks=[
        section("*#1* · 🔵 Open")])["ts"]
    client.chat_postMessage(channel="#support", text="💬 Ana: hello?", thread_ts=ts)
    client.chat_update(channel=slack.posts()[0].channel, ts=ts, text="t", blocks=[section("*#1* · ✅ Resolved")])
    lines = slack.transcript().splitlines()
    assert lines[0].startswith("=== #support (C")
    assert lines[1:5] == ["● #1 X mention from @ana: broken", "    ↳ 💬 Ana: hello?",
                          "    ✎ card now (1 update(s)):", "      │ *#1* · ✅ Resolved"]
    assert not any("D0" in line for line in lines)


# --- conversations, users, usergroups -----------------------------------------------------------
def test_conversations_info_and_open(slack, client):
    info = client.conversations_info(channel=CH)["channel"]
    assert (info["id"], info["is_channel"], info["is_member"]) == (CH, True, True)
    dm = client.conversations_open(users="U0STAFF01")["channel"]["id"]
    assert dm.startswith("D") and client.conversations_open(users="U0STAFF01")["channel"]["id"] == dm
    assert client.conversations_info(channel=dm)["channel"]["is_im"]
    assert error_of(lambda: client.conversations_open(users="U0NOBODY")) == "user_not_found"
    assert error_of(lambda: client.api_call("conversations.open", params={})) == "users_list_not_supplied"


def test_users_and_usergroups(slack, client):
    assert client.users_info(user="U0STAFF01")["user"]["real_name"] == "Ana García"
    assert error_of(lambda: client.users_info(user="U0NOBODY")) == "user_not_found"
    slack.add_usergroup("S0SUPPORT1", ["U0STAFF01"])
    assert client.usergroups_users_list(usergroup="S0SUPPORT1")["users"] == ["U0STAFF01"]
    assert error_of(lambda: client.usergroups_users_list(usergroup="S0NONE")) == "no_such_subteam"


# --- views and reactions ------------------------------------------------------------------------
def test_views_are_recorded_and_triggers_checked(slack, client):
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Reply"}, "blocks": []}
    opened = client.views_open(trigger_id="111.222", view=modal)["view"]
    assert error_of(lambda: client.views_open(trigger_id="111.222", view=modal)) == "exchanged_trigger_id"
    assert error_of(lambda: client.views_open(trigger_id="expired", view=modal)) == "expired_trigger_id"
    assert error_of(lambda: client.views_open(trigger_id="", view=modal)) == "invalid_trigger_id"
    assert error_of(lambda: client.views_open(trigger_id="333", view={"type": "modal"})) == "invalid_arguments"
    client.views_push(trigger_id="444.555", view=modal)
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view={**modal, "blocks": [section("x")]})
    assert updated["view"]["id"] == opened["id"]
    assert error_of(lambda: client.views_update(view_id=opened["id"], hash="stale", view=modal)) == "hash_conflict"
    assert error_of(lambda: client.views_update(view_id="V0NONE", view=modal)) == "not_found"
    client.views_publish(user_id="U0STAFF01", view={"type": "home", "blocks": [section("Your queue")]})
    assert [v["method"] for v in slack.views] == ["views.open", "views.push", "views.update", "views.publish"]
    assert slack.views[-1]["user_id"] == "U0STAFF01"


def test_reactions_add(slack, client):
    ts = client.chat_postMessage(channel=CH, text="card")["ts"]
    client.reactions_add(channel=CH, timestamp=ts, name="eyes")
    assert client.conversations_history(channel=CH)["messages"][0]["reactions"][0]["name"] == "eyes"
    assert error_of(lambda: client.reactions_add(channel=CH, timestamp=ts, name="eyes")) == "already_reacted"
    assert error_of(lambda: client.reactions_add(channel=CH, timestamp="1.000001", name="eyes")) == "message_not_found"


# --- fault injection and rate limits ------------------------------------------------------------
def test_injected_429_carries_retry_after_that_slack_sdk_honours(slack, client):
    slack.fail_next(r"chat\.postMessage", 429, headers={"Retry-After": "7"}, body={"ok": False, "error": "ratelimited"})
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel=CH, text="hi")
    assert info.value.response.status_code == 429 and info.value.response.headers["Retry-After"] == "7"
    assert slack.posts() == []

    slack.fail_next(r"chat\.postMessage", 429, headers={"Retry-After": "0"}, body={"ok": False, "error": "ratelimited"})
    retrying = WebClient(token=SlackEmulator.TOKEN, base_url=slack.base_url + "/api/",
                         retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    assert retrying.chat_postMessage(channel=CH, text="hi")["ok"]
    assert len(slack.calls_to(r"chat\.postMessage$")) == 3 and len(slack.posts()) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_injected_server_errors(slack, client, status):
    slack.fail_next(r"conversations\.history", status)
    with pytest.raises(SlackApiError) as info:
        client.conversations_history(channel=CH)
    assert info.value.response.status_code == status
    assert client.conversations_history(channel=CH)["ok"]


def test_per_channel_rate_limit(clock):
    with SlackEmulator(clock=clock, channel_rate_limit=(2, 1.0)) as slack:
        client = WebClient(token=SlackEmulator.TOKEN, base_url=slack.base_url + "/api/", retry_handlers=[])
        client.chat_postMessage(channel=CH, text="1")
        client.chat_postMessage(channel=CH, text="2")
        client.chat_postMessage(channel="C0ELSEWHERE", text="other channel is not limited")
        with pytest.raises(SlackApiError) as info:
            client.chat_postMessage(channel=CH, text="3")
        assert (info.value.response.status_code, info.value.response["error"]) == (429, "ratelimited")
        assert info.value.response.headers["Retry-After"] == "1"
        clock.t += 1.0
        assert client.chat_postMessage(channel=CH, text="3")["ok"]
        assert [p.text for p in slack.posts(CH)] == ["1", "2", "3"]


def test_coloured_attachment_blocks_are_checked_and_kept(slack, client) -> None:
    slack.add_channel("support", id="C0ATTACH")
    card = [{"type": "section", "text": {"type": "mrkdwn", "text": "*#7* overdue by 1h"}}]
    posted = client.chat_postMessage(channel="C0ATTACH", text="#7 overdue", blocks=[],
                                     attachments=[{"color": "#E01E5A", "blocks": card, "fallback": "#7"}])
    [stored] = slack.thread("C0ATTACH", posted["ts"])
    assert stored.blocks == card and stored.colour == "#E01E5A"
    client.chat_update(channel="C0ATTACH", ts=posted["ts"], text="#7 answered", blocks=card)
    assert slack.thread("C0ATTACH", posted["ts"])[0].colour is None
