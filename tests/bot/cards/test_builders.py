"""Block Kit builders: structure, escaping, truncation and Block Kit limits, without Slack."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import ids
from bot.cards import (
    SlackMessage,
    conversation_card,
    customer_followup,
    escape,
    human_count,
    human_duration,
    notice,
    slack_len,
)
from bot.store.models import Conversation, Customer, Message, Status
from bot.store.profile import CustomerProfile

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)

# --- the Block Kit subset Parley uses, with Slack's documented limits -----------------------------


def _text(kind: str, max_len: int) -> dict:
    return {
        "type": "object",
        "required": ["type", "text"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": kind},
            "text": {"type": "string", "minLength": 1, "maxLength": max_len},
            "emoji": {"type": "boolean"},
            "verbatim": {"type": "boolean"},
        },
    }


_BLOCK_ID = {"type": "string", "minLength": 1, "maxLength": 255}
_MRKDWN = _text("mrkdwn", 3000)
_BUTTON = {
    "type": "object",
    "required": ["type", "action_id", "text"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "button"},
        "action_id": {"enum": list(ids.CARD_ACTIONS)},
        "text": _text("plain_text", 75),
        "value": {"type": "string", "minLength": 1, "maxLength": 2000},
        "url": {"type": "string", "maxLength": 3000},
        "style": {"enum": ["primary", "danger"]},
        "confirm": {  # Block Kit's confirmation dialog object
            "type": "object",
            "required": ["title", "text", "confirm", "deny"],
            "additionalProperties": False,
            "properties": {"title": _text("plain_text", 100), "text": _text("plain_text", 300),
                           "confirm": _text("plain_text", 30), "deny": _text("plain_text", 30),
                           "style": {"enum": ["primary", "danger"]}},
        },
    },
}
_OPTION = {
    "type": "object",
    "required": ["text", "value"],
    "additionalProperties": False,
    "properties": {"text": _text("plain_text", 75), "value": {"type": "string", "maxLength": 150}},
}
_SELECT = {
    "type": "object",
    "required": ["type", "action_id", "options"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "static_select"},
        "action_id": {"enum": list(ids.CARD_ACTIONS)},
        "placeholder": _text("plain_text", 150),
        "options": {"type": "array", "minItems": 1, "maxItems": 100, "items": _OPTION},
    },
}
MESSAGE_SCHEMA = {
    "type": "object",
    "required": ["text", "blocks"],
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 4000},
        "blocks": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "items": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["type", "text"],
                        "additionalProperties": False,
                        "properties": {"type": {"const": "section"}, "block_id": _BLOCK_ID, "text": _MRKDWN},
                    },
                    {
                        "type": "object",
                        "required": ["type", "elements"],
                        "additionalProperties": False,
                        "properties": {
                            "type": {"const": "context"},
                            "block_id": _BLOCK_ID,
                            "elements": {"type": "array", "minItems": 1, "maxItems": 10, "items": _MRKDWN},
                        },
                    },
                    {
                        "type": "object",
                        "required": ["type", "elements"],
                        "additionalProperties": False,
                        "properties": {
                            "type": {"const": "actions"},
                            "block_id": _BLOCK_ID,
                            "elements": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": 25,
                                "items": {"oneOf": [_BUTTON, _SELECT]},
                            },
                        },
                    },
                ]
            },
        },
    },
}


def _strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def assert_valid(msg: SlackMessage) -> None:
    """Schema-valid, and within limits counted in UTF-16 units too (emoji may count 2)."""
    jsonschema.validate({"text": msg.text, "blocks": msg.blocks}, MESSAGE_SCHEMA)
    assert slack_len(msg.text) <= 4000
    for block in msg.blocks:
        texts = [block["text"]] if "text" in block else [e for e in block["elements"] if "text" in e]
        for t in texts:
            if isinstance(t.get("text"), str):
                assert slack_len(t["text"]) <= 3000
        for element in block.get("elements", []):
            if element["type"] in ("button", "static_select"):
                label = element.get("text", element.get("placeholder"))["text"]
                assert slack_len(label) <= 75
    block_ids = [b["block_id"] for b in msg.blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))


def _block(msg: SlackMessage, block_id: str) -> dict:
    return next(b for b in msg.blocks if b.get("block_id") == block_id)


def _block_text(msg: SlackMessage, block_id: str) -> str:
    block = _block(msg, block_id)
    return block["text"]["text"] if "text" in block else " ".join(e["text"] for e in block["elements"])


def make(
    text: str = "@acmecloud my invoice is wrong",
    *,
    status: str = Status.OPEN,
    platform: str = "x",
    kind: str = "mention",
    name: str = "María González",
    handle: str = "maria_gz",
    followers: int | None = 12345,
    verified: bool = False,
    url: str | None = "https://x.com/maria_gz/status/1",
    **conv: object,
) -> tuple[Conversation, Customer, Message]:
    fields = dict(
        id=42, ref=42, platform=platform, kind=kind, thread_key="1", customer_id=1, channel="C1",
        status=status, url=url, first_seen_at=NOW - timedelta(minutes=42),
    )
    fields.update(conv)
    conversation = Conversation(**fields)
    customer = Customer(
        platform=platform, external_id="9", handle=handle, name=name, followers=followers, verified=verified
    )
    opening = Message(
        conversation_id=42, platform=platform, external_id="1", direction="inbound", kind=kind, text=text,
        author_id="9", created_at=NOW - timedelta(minutes=42), url=url,
    )
    return conversation, customer, opening


def card(*args: object, **kw: object) -> SlackMessage:
    return conversation_card(*make(*args, **kw), now=NOW)


# --- structure -----------------------------------------------------------------------------------


def test_card_has_every_button_with_the_conversation_id():
    msg = card()
    assert_valid(msg)
    elements = _block(msg, ids.BLOCK_CARD_ACTIONS)["elements"]
    by_action = {e["action_id"]: e for e in elements}
    assert set(by_action) == {
        ids.ACTION_REPLY, ids.ACTION_TAKE_PRIVATE, ids.ACTION_ASSIGN_ME, ids.ACTION_RESOLVE,
        ids.ACTION_SNOOZE,
    }
    for action in (ids.ACTION_REPLY, ids.ACTION_TAKE_PRIVATE, ids.ACTION_ASSIGN_ME, ids.ACTION_RESOLVE):
        assert by_action[action]["value"] == "42"
    options = by_action[ids.ACTION_SNOOZE]["options"]
    parsed = [ids.parse_snooze_option_value(o["value"]) for o in options]
    assert parsed == [(42, choice) for choice, _ in ids.SNOOZE_CHOICES]


@pytest.mark.parametrize(
    ("status", "present", "absent"),
    [
        (Status.OPEN, ids.ACTION_RESOLVE, ids.ACTION_REOPEN),
        (Status.PENDING, ids.ACTION_RESOLVE, ids.ACTION_REOPEN),
        (Status.SNOOZED, ids.ACTION_RESOLVE, ids.ACTION_REOPEN),
        (Status.RESOLVED, ids.ACTION_REOPEN, ids.ACTION_RESOLVE),
    ],
)
def test_resolve_or_reopen_by_status(status: str, present: str, absent: str):
    msg = card(status=status)
    assert_valid(msg)
    actions = [e["action_id"] for e in _block(msg, ids.BLOCK_CARD_ACTIONS)["elements"]]
    assert present in actions
    assert absent not in actions
    assert status.capitalize() in _block_text(msg, ids.BLOCK_CARD_TITLE)


def test_reference_and_text_in_fallback_and_blocks():
    msg = card("@acmecloud ¡Hola! ¿Dónde está mi reembolso? 😡🇪🇸")
    assert "#42" in msg.text
    assert "¡Hola! ¿Dónde está mi reembolso? 😡🇪🇸" in msg.text
    assert "#42" in _block_text(msg, ids.BLOCK_CARD_TITLE)
    assert "¡Hola! ¿Dónde está mi reembolso? 😡🇪🇸" in _block_text(msg, ids.BLOCK_CARD_TEXT)


def test_card_shows_author_platform_kind_and_triage():
    msg = card(
        verified=True, kind="search_hit", query_names="acme,rival", tone="negative", complaint=True,
        priority="high", priority_reasons="complaint; 12.3k followers", language="es", assignee="U0ABC",
    )
    everything = " ".join(_strings(msg.blocks))
    for expected in (
        "🐦 X", 'search hit "acme", "rival"', "María González", "@maria_gz", "☑️", "12.3k followers",
        "negative", "Complaint", "High", "complaint; 12.3k followers", "es", "<@U0ABC>", "waiting 42m",
        "<https://x.com/maria_gz/status/1|Open on X>",
    ):
        assert expected in everything, expected


@pytest.mark.parametrize(
    ("platform", "kind", "label"),
    [
        ("facebook", "comment", "📘 Facebook · comment"),
        ("facebook", "visitor_post", "📘 Facebook · visitor post"),
        ("facebook", "messenger", "💬 Messenger · DM"),
        ("x", "dm", "🐦 X · DM"),
        ("instagram", "comment", "📸 Instagram · comment"),
        ("instagram", "dm", "📸 Instagram · DM"),
    ],
)
def test_platform_and_kind_labels(platform: str, kind: str, label: str):
    msg = card(platform=platform, kind=kind, handle="Ana Ruiz", name="Ana Ruiz")
    assert label in _block_text(msg, ids.BLOCK_CARD_TITLE)
    # Facebook has no handles: the name is not repeated as one.
    assert "@Ana Ruiz" not in _block_text(msg, ids.BLOCK_CARD_TEXT)


def test_unassigned_and_unverified():
    msg = card()
    assert "unassigned" in _block_text(msg, ids.BLOCK_CARD_META)
    assert "☑️" not in _block_text(msg, ids.BLOCK_CARD_TEXT)


def test_waiting_time_follows_replies():
    answered = card(last_response_at=NOW - timedelta(minutes=5), status=Status.PENDING)
    assert "answered 5m ago" in _block_text(answered, ids.BLOCK_CARD_META)
    again = card(
        last_response_at=NOW - timedelta(hours=3),
        last_customer_message_at=NOW - timedelta(hours=2, minutes=5),
    )
    assert "waiting 2h 5m" in _block_text(again, ids.BLOCK_CARD_META)
    assert "resolved" in _block_text(card(status=Status.RESOLVED), ids.BLOCK_CARD_META)


def test_the_card_shows_the_networks_reply_window_left_or_what_closing_it_meant():
    dm = card(platform="instagram", kind="dm", last_customer_message_at=NOW - timedelta(hours=20))
    assert _block_text(dm, ids.BLOCK_CARD_WINDOW) == "⏳ Instagram 24-hour messaging window: 4h left"
    late = card(platform="instagram", kind="dm", last_customer_message_at=NOW - timedelta(hours=30))
    assert _block_text(late, ids.BLOCK_CARD_WINDOW) == "⏳ Instagram 7-day human-agent window: 5d 18h left"
    gone = card(platform="facebook", kind="comment", last_customer_message_at=NOW - timedelta(days=8))
    assert _block_text(gone, ids.BLOCK_CARD_WINDOW).startswith("⛔ Facebook 7-day private-reply window closed: only a")
    for quiet in (card(platform="x", kind="mention", last_customer_message_at=NOW),
                  card(platform="instagram", kind="dm", last_customer_message_at=NOW, status=Status.RESOLVED)):
        assert all(b["block_id"] != ids.BLOCK_CARD_WINDOW for b in quiet.blocks)


def test_unsaved_conversation_is_refused():
    conversation, customer, opening = make(id=None)
    with pytest.raises(ValueError, match="stored conversation"):
        conversation_card(conversation, customer, opening, now=NOW)


# --- escaping ------------------------------------------------------------------------------------

HOSTILE = "<!channel> hey <@U999> see <https://evil.example|your bank> & <!here>"


def test_customer_text_cannot_ping_or_link():
    msg = card(HOSTILE, name="<!everyone>", handle="x<@U1>")
    for s in [msg.text, *_strings(msg.blocks)]:
        for token in ("<!channel>", "<!here>", "<!everyone>", "<@U999>", "<@U1>", "<https://evil"):
            assert token not in s
    assert "&lt;!channel&gt;" in _block_text(msg, ids.BLOCK_CARD_TEXT)
    assert "&amp;" in msg.text


def test_followup_is_escaped_and_labelled():
    _, customer, message = make(HOSTILE)
    msg = customer_followup(message, customer)
    assert_valid(msg)
    text = _block_text(msg, ids.BLOCK_FOLLOWUP)
    assert text.startswith("💬 *María González (@maria_gz)*: ")
    assert "<!channel>" not in text and "<!channel>" not in msg.text
    assert "<https://x.com/maria_gz/status/1|Open original>" in _block_text(msg, ids.BLOCK_FOLLOWUP_LINK)


def test_hostile_url_is_not_used():
    msg = card(url="javascript:alert(1)")
    assert "javascript" not in " ".join(_strings(msg.blocks))
    assert_valid(msg)


FOREIGN_URLS = ["https://evil.example/free-money", "https://x.com.evil.example/1", "https://x.com@evil.example/1",
                "https://evil.example\\@x.com/1", "http://x.com/maria_gz/status/1", "https://x.com:8443/1",
                "https://facebook.com/1"]


@pytest.mark.parametrize("url", FOREIGN_URLS)
def test_a_link_to_a_host_that_is_not_the_networks_own_is_dropped(url: str):
    """A card links only to the network's own permalink: anything else shows no link at all."""
    msg = card(url=url)
    assert url not in " ".join([msg.text, *_strings(msg.blocks)])
    assert "Open on X" not in _block_text(msg, ids.BLOCK_CARD_LINK)
    _, customer, message = make(url=url)
    assert ids.BLOCK_FOLLOWUP_LINK not in [b.get("block_id") for b in customer_followup(message, customer).blocks]


@pytest.mark.parametrize(("platform", "kind", "url", "site"), [
    ("x", "mention", "https://twitter.com/maria_gz/status/1", "X"),
    ("facebook", "visitor_post", "https://www.facebook.com/42/posts/7", "Facebook"),
    ("facebook", "comment", "https://m.facebook.com/42/posts/7?comment_id=9", "Facebook"),
])
def test_a_permalink_on_the_networks_own_host_is_shown(platform: str, kind: str, url: str, site: str):
    msg = card(platform=platform, kind=kind, url=url)
    assert f"<{url}|Open on {site}>" in _block_text(msg, ids.BLOCK_CARD_LINK)


def test_a_facebook_card_never_links_to_x():
    msg = card(platform="facebook", kind="visitor_post", url="https://x.com/maria_gz/status/1")
    assert "x.com" not in _block_text(msg, ids.BLOCK_CARD_LINK)


def test_escape():
    assert escape("a & <b> c") == "a &amp; &lt;b&gt; c"


# --- truncation and limits -----------------------------------------------------------------------


def test_long_text_is_cut_with_a_link_to_the_rest():
    msg = card("¿" + "reembolso & <ya> " * 1000)
    assert_valid(msg)
    assert "…" in _block_text(msg, ids.BLOCK_CARD_TEXT)
    assert "Read the rest on X" in _block_text(msg, ids.BLOCK_CARD_LINK)
    # No entity was cut in half.
    assert not re.search(r"&(a|am|l|g|amp|lt|gt)?…", _block_text(msg, ids.BLOCK_CARD_TEXT))


def test_long_followup_is_cut_with_a_link():
    _, customer, message = make("😡" * 5000)
    msg = customer_followup(message, customer)
    assert_valid(msg)
    assert "Read the rest" in _block_text(msg, ids.BLOCK_FOLLOWUP_LINK)


def test_notice_keeps_our_mrkdwn_and_never_cuts_a_link():
    assert notice("✅ <@U123> replied <https://x.com/1|view>").blocks[0]["text"]["text"] == (
        "✅ <@U123> replied <https://x.com/1|view>"
    )
    long = "x" * 2990 + " <https://x.com/1|view>"
    msg = notice(long)
    assert_valid(msg)
    assert "<https" not in msg.blocks[0]["text"]["text"]


_texts = st.text(max_size=8000) | st.text(alphabet="<>&\n 😡é*_", max_size=8000)


@settings(max_examples=150, deadline=None)
@given(
    text=_texts,
    name=st.text(max_size=500),
    handle=st.text(max_size=300),
    followers=st.none() | st.integers(min_value=0, max_value=10**12),
    verified=st.booleans(),
    status=st.sampled_from(list(Status)),
    reasons=st.text(max_size=2000),
    query_names=st.text(max_size=300),
    kind=st.sampled_from(["mention", "search_hit", "comment", "visitor_post", "dm", "messenger", "odd"]),
    url=st.none() | st.sampled_from(["https://x.com/a/status/1", "https://fb.com/1?x=<a>|b c", "ftp://x"]),
)
def test_any_input_stays_within_block_kit_limits(
    text, name, handle, followers, verified, status, reasons, query_names, kind, url
):
    msg = card(
        text, name=name, handle=handle, followers=followers, verified=verified, status=status,
        priority_reasons=reasons, query_names=query_names, kind=kind, url=url,
    )
    assert_valid(msg)
    body = _block_text(msg, ids.BLOCK_CARD_TEXT)
    # Only quote markers may put a ">" in the customer's block, and never a "<".
    assert "<" not in body
    assert all(line.startswith(">") or ">" not in line for line in body.splitlines()[1:])
    _, customer, message = make(text, name=name, handle=handle, url=url)
    follow = customer_followup(message, customer)
    assert_valid(follow)
    assert "<" not in _block_text(follow, ids.BLOCK_FOLLOWUP)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=10000))
def test_any_notice_is_within_limits(text):
    assert_valid(notice(text))


# --- small formatters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "shown"),
    [(0, "0"), (999, "999"), (1000, "1k"), (1234, "1.2k"), (12345, "12.3k"), (999_949, "999.9k"),
     (999_950, "1M"), (1_530_000, "1.5M"), (2_000_000_000, "2B")],
)
def test_human_count(n: int, shown: str):
    assert human_count(n) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(-5, "<1m"), (59, "<1m"), (2520, "42m"), (3600, "1h"), (11100, "3h 5m"), (86400, "1d"),
     (187200, "2d 4h")],
)
def test_human_duration(seconds: float, shown: str):
    assert human_duration(seconds) == shown


def test_snooze_value_roundtrip_and_rejects_foreign_values():
    assert ids.parse_snooze_option_value(ids.snooze_option_value(7, ids.SNOOZE_2H)) == (7, ids.SNOOZE_2H)
    for bad in ("7", "x|2h", "7|3h", ""):
        with pytest.raises(ValueError):
            ids.parse_snooze_option_value(bad)


def test_the_customer_profile_is_one_context_line():
    profile = CustomerProfile(platform="x", followers=12345, cases=9, earlier_cases=8,
                              open_elsewhere=tuple(range(100, 200)), tone_trend=("negative",) * 5)
    msg = conversation_card(*make(), now=NOW, profile=profile)
    assert_valid(msg)
    assert _block_text(msg, ids.BLOCK_CARD_PROFILE) == (
        "🧾 8 earlier cases on X · also open: #100, #101, #102 +97 · tone 😠😠😠😠😠 · 12.3k followers")
    assert ids.BLOCK_CARD_PROFILE not in str(card().blocks)  # no profile given, no line


def test_the_card_shows_the_networks_notice_until_the_case_is_resolved():
    line = "⛔ No public reply possible <here>"
    shown = conversation_card(*make(kind="search_hit"), now=NOW, notice=line)
    assert_valid(shown)
    assert _block_text(shown, ids.BLOCK_CARD_NOTICE) == escape(line)
    for quiet in (card(kind="search_hit"), conversation_card(*make(status=Status.RESOLVED), now=NOW, notice=line)):
        assert all(b["block_id"] != ids.BLOCK_CARD_NOTICE for b in quiet.blocks)
