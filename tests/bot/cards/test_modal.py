"""Reply modal, templates, X count, delivery receipts and /social lists — built without Slack."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bot import ids
from bot.cards import (
    ConversationRow,
    SlaBadge,
    SlackMessage,
    conversation_list,
    customer_history,
    delivery_receipt,
    modal_text,
    reply_modal,
    replying_warning_text,
    slack_len,
    template_list,
    template_shown,
)
from bot.store.models import Conversation, Customer
from connectors.x.rules import count_hint as x_count_hint
from sandbox.emulators.slack_checks import check_blocks as emulator_check_blocks

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
HOSTILE = "<!channel> hey <@U999> see <https://evil.example|your bank> & <!here>"
_KNOWN_ACTIONS = {v for k, v in vars(ids).items() if k.startswith("ACTION_") and isinstance(v, str)}


# --- a Block Kit limit checker for every surface (messages, modals, App Home) ---------------------


def _plain(obj: dict, limit: int) -> None:
    assert obj["type"] == "plain_text"
    assert 1 <= slack_len(obj["text"]) <= limit


def _element(element: dict) -> None:
    if element["type"] == "button":
        _plain(element["text"], 75)
        assert element["action_id"] in _KNOWN_ACTIONS
        assert 1 <= len(element["value"]) <= 2000
    elif element["type"] == "static_select":
        assert element["action_id"] in _KNOWN_ACTIONS
        _plain(element["placeholder"], 150)
        assert 1 <= len(element["options"]) <= 100
        for option in element["options"]:
            _plain(option["text"], 75)
            assert 1 <= len(option["value"]) <= 150
            if "description" in option:
                _plain(option["description"], 75)
    else:
        raise AssertionError(f"unexpected element {element['type']}")


def check_blocks(blocks: list[dict], max_blocks: int = 50) -> None:
    """Slack's documented limits for the blocks Parley uses."""
    assert 1 <= len(blocks) <= max_blocks
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), block_ids
    assert all(len(i) <= 255 for i in block_ids)
    for block in blocks:
        kind = block["type"]
        if kind == "section":
            if "text" in block:
                assert block["text"]["type"] == "mrkdwn"
                assert 1 <= slack_len(block["text"]["text"]) <= 3000
            fields = block.get("fields", [])
            assert "text" in block or fields
            assert len(fields) <= 10 and all(1 <= slack_len(f["text"]) <= 2000 for f in fields)
        elif kind == "context":
            assert 1 <= len(block["elements"]) <= 10
            assert all(1 <= slack_len(e["text"]) <= 3000 for e in block["elements"])
        elif kind == "header":
            _plain(block["text"], 150)
        elif kind == "actions":
            assert 1 <= len(block["elements"]) <= 25
            for element in block["elements"]:
                _element(element)
        elif kind == "input":
            _plain(block["label"], 2000)
            element = block["element"]
            assert element["type"] == "plain_text_input"
            assert element["action_id"] in _KNOWN_ACTIONS
            assert element.get("max_length", 3000) <= 3000
            assert len(element.get("initial_value", "")) <= element.get("max_length", 3000)
        else:
            assert kind == "divider", kind


def check_message(msg: SlackMessage) -> None:
    check_blocks(msg.blocks)
    emulator_check_blocks(msg.blocks)  # and the emulated Slack accepts it
    assert 1 <= slack_len(msg.text) <= 4000


def strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return [node] if isinstance(node, str) else []


def assert_no_pings(node: object) -> None:
    for s in strings(node):
        for token in ("<!channel>", "<!here>", "<!everyone>", "<@U999>", "<https://evil"):
            assert token not in s


def block(blocks: list[dict], block_id: str) -> dict:
    return next(b for b in blocks if b.get("block_id") == block_id)


def text_of(blocks: list[dict], block_id: str) -> str:
    b = block(blocks, block_id)
    return b["text"]["text"] if "text" in b else " ".join(e["text"] for e in b["elements"])


def row(ref: int = 12, **kw: object) -> ConversationRow:
    fields = dict(
        ref=ref, platform="x", kind="mention", handle="maria_gz", snippet="my invoice is wrong",
        status="open", priority="normal", assignee="U0ABC", first_seen_at=NOW - timedelta(hours=1),
        waiting_since=NOW - timedelta(minutes=42), sla=SlaBadge("ok", "12m left"),
        permalink=f"https://acme.slack.com/archives/C1/p{ref}",
    )
    fields.update(kw)
    return ConversationRow(**fields)


def row_lines(msg: SlackMessage) -> list[str]:
    return [
        line for b in msg.blocks
        if b.get("block_id", "").startswith(ids.BLOCK_LIST_ROWS + ".")
        for line in b["text"]["text"].splitlines()
    ]


# --- reply modal ---------------------------------------------------------------------------------

TEMPLATES = [("thanks", "Thanks {first_name}!"), ("refund", "Hi {handle}, refunds take 5 days. — {agent}")]


def modal(mode: str = "public", *, platform: str = "x", kind: str = "mention", **kw: object) -> dict:
    conversation = Conversation(id=42, ref=42, platform=platform, kind=kind, thread_key="1", customer_id=1,
                                channel="C1")
    customer = Customer(platform=platform, external_id="9", handle="maria_gz", name="María González")
    args = dict(conversation=conversation, customer=customer, latest_text=HOSTILE, mode=mode,
                templates=TEMPLATES, agent_id="U0ABC", private_metadata='{"c": 42}')
    args.update(kw)
    view = reply_modal(**args)
    assert view["type"] == "modal"
    check_blocks(view["blocks"], 100)
    _plain(view["title"], 24)
    _plain(view["submit"], 24)
    return view


def test_public_x_modal_has_context_picker_live_box_and_count():
    view = modal(text="Hello!")
    assert view["callback_id"] == ids.CALLBACK_REPLY_MODAL
    assert view["private_metadata"] == '{"c": 42}'
    assert_no_pings(view)
    assert "&lt;!channel&gt;" in text_of(view["blocks"], ids.BLOCK_MODAL_CONTEXT)
    picker = block(view["blocks"], ids.BLOCK_MODAL_TEMPLATE)
    assert picker["type"] == "actions"
    select = picker["elements"][0]
    assert select["action_id"] == ids.ACTION_MODAL_TEMPLATE
    assert [o["value"] for o in select["options"]] == ["thanks", "refund"]
    box = block(view["blocks"], ids.BLOCK_MODAL_TEXT)
    assert box["type"] == "input" and box["dispatch_action"] is True
    assert box["element"]["action_id"] == ids.ACTION_MODAL_TEXT
    assert box["element"]["multiline"] is True
    assert box["element"]["initial_value"] == "Hello!"
    assert box["element"]["dispatch_action_config"] == {"trigger_actions_on": ["on_character_entered"]}
    assert text_of(view["blocks"], ids.BLOCK_MODAL_COUNT).startswith("6/280 characters")


def test_no_templates_no_picker_and_empty_box_has_no_initial_value():
    view = modal(templates=[])
    assert all(b.get("block_id") != ids.BLOCK_MODAL_TEMPLATE for b in view["blocks"])
    assert "initial_value" not in block(view["blocks"], ids.BLOCK_MODAL_TEXT)["element"]


def test_private_x_modal_explains_dm_and_nudge_without_live_count():
    view = modal("private", nudge_text="We've sent you a DM 📩")
    assert view["callback_id"] == ids.CALLBACK_PRIVATE_MODAL
    explain = text_of(view["blocks"], ids.BLOCK_MODAL_EXPLAIN)
    assert "DM" in explain and "public reply" in explain
    box = block(view["blocks"], ids.BLOCK_MODAL_TEXT)
    assert "dispatch_action" not in box and "dispatch_action_config" not in box["element"]
    assert all(b.get("block_id") != ids.BLOCK_MODAL_COUNT for b in view["blocks"])
    assert "22/280 characters" in text_of(view["blocks"], ids.BLOCK_MODAL_NUDGE)


@pytest.mark.parametrize(
    ("platform", "kind", "mode", "words"),
    [
        ("facebook", "comment", "private", ("one private reply", "7 days")),
        ("facebook", "messenger", "private", ("Messenger", "7 days")),
        ("x", "dm", "private", ("X DM",)),
        ("x", "dm", "public", ("X DM",)),
        ("facebook", "comment", "public", ("public reply on Facebook",)),
    ],
)
def test_explanation_per_platform_and_no_count_off_x_tweets(platform, kind, mode, words):
    view = modal(mode, platform=platform, kind=kind)
    explain = text_of(view["blocks"], ids.BLOCK_MODAL_EXPLAIN)
    for word in words:
        assert word in explain
    assert all(b.get("block_id") != ids.BLOCK_MODAL_COUNT for b in view["blocks"])


def test_replying_warning_and_text_version_and_reading_the_box():
    warning = replying_warning_text("U0TWO", NOW - timedelta(minutes=1), NOW)
    assert warning.startswith("⚠️ <@U0TWO> opened this reply 1m ago")
    view = modal(replying_warning=warning, text="Thanks María!", text_version=3, selected_template="thanks")
    assert text_of(view["blocks"], ids.BLOCK_MODAL_WARNING) == warning
    box_id = ids.modal_text_block(3)
    assert block(view["blocks"], box_id)["element"]["initial_value"] == "Thanks María!"
    assert block(view["blocks"], ids.BLOCK_MODAL_TEMPLATE)["elements"][0]["initial_option"]["value"] == "thanks"
    state = {ids.BLOCK_MODAL_TEMPLATE: {ids.ACTION_MODAL_TEMPLATE: {}},
             box_id: {ids.ACTION_MODAL_TEXT: {"type": "plain_text_input", "value": "typed"}}}
    assert modal_text(state) == (box_id, "typed")
    assert modal_text({}) == ("", "")


def test_modal_refuses_bad_mode_and_oversized_metadata():
    with pytest.raises(ValueError, match="mode"):
        modal("shout")
    with pytest.raises(ValueError, match="private_metadata"):
        modal(private_metadata="x" * 3001)


def test_modal_limits_with_huge_inputs():
    many = [(f"t{i}" * 30, "x" * 5000) for i in range(300)]
    view = modal(latest_text="😡" * 10_000, templates=many, text="y" * 9000)
    assert len(block(view["blocks"], ids.BLOCK_MODAL_TEMPLATE)["elements"][0]["options"]) == 100


# --- X weighted count ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("hello", 5),
        ("see https://example.com/a/very/long/path/that/is/much/longer/than/23", 4 + 23),
        ("😡", 2),
        ("日本", 4),
        ("", 0),
    ],
)
def test_x_count_weights_links_emoji_and_cjk(text: str, count: int):
    hint, _, cost = x_count_hint(text).partition(" · ")  # a link's cost warning follows the count
    assert hint == f"{count}/280 characters (links count 23, emoji and CJK 2)"
    assert ("X bills a post with a URL about 13 times" in cost) == ("https://" in text)


def test_x_count_over_the_limit():
    assert x_count_hint("a" * 280).startswith("280/280")
    hint = x_count_hint("a" * 287 + "😡" * 5)
    assert hint.startswith("⚠️ 17 over the 280 limit")
    view = modal(text="a" * 297)
    assert "17 over the 280 limit" in text_of(view["blocks"], ids.BLOCK_MODAL_COUNT)


# --- template lists (the placeholder engine is tested in tests/bot/replies/test_placeholders.py) ----


def test_template_list_and_shown():
    msg = template_list([*TEMPLATES, ("evil", HOSTILE)])
    check_message(msg)
    assert_no_pings(msg.blocks)
    everything = " ".join(strings(msg.blocks))
    assert "*thanks*" in everything and "*refund*" in everything and "{first_name}" in everything
    shown = template_shown("refund", "Hi {handle} {nmae} {agent}")
    check_message(shown)
    notes = text_of(shown.blocks, f"{ids.BLOCK_TEMPLATE}.help")
    assert "{nmae}" in notes and "not a variable" in notes and "{handle}`" in notes
    empty = template_list([])
    check_message(empty)
    assert "No templates yet" in empty.blocks[0]["text"]["text"]


def test_template_list_caps_many_templates():
    msg = template_list([(f"t{i}", "word " * 200) for i in range(500)])
    check_message(msg)
    assert "…and 400 more" in text_of(msg.blocks, ids.BLOCK_LIST_MORE)


# --- delivery receipts ---------------------------------------------------------------------------


def test_successful_receipt_links_the_reply_and_has_no_retry():
    msg = delivery_receipt(agent_id="U0ABC", op="x_reply", text="Thanks <!channel>!", ok=True,
                           url="https://x.com/acme/status/9", error=None, message_id=7, retryable=True)
    check_message(msg)
    line = text_of(msg.blocks, ids.BLOCK_RECEIPT)
    assert line.startswith("↪ <@U0ABC> replied publicly: ")
    assert "✅ <https://x.com/acme/status/9|view>" in line
    assert_no_pings(msg.blocks)
    assert len(msg.blocks) == 1


def test_failed_retryable_receipt_has_a_retry_button_with_the_message_id():
    msg = delivery_receipt(agent_id="U0ABC", op="x_dm", text="Let's sort it", ok=False, url=None,
                           error="X is rate limiting us <!here>; try again in a minute", message_id=17,
                           retryable=True)
    check_message(msg)
    line = text_of(msg.blocks, ids.BLOCK_RECEIPT)
    assert "replied privately" in line and "❌ X is rate limiting us" in line
    assert_no_pings(msg.blocks)
    [retry] = block(msg.blocks, ids.BLOCK_RECEIPT_ACTIONS)["elements"]
    assert (retry["action_id"], retry["value"]) == (ids.ACTION_RETRY_SEND, "17")


def test_failed_final_receipt_has_no_retry():
    msg = delivery_receipt(agent_id="U0ABC", op="fb_private", text="hi", ok=False, url=None,
                           error="Facebook allows one private reply per comment", message_id=3, retryable=False)
    assert [b["block_id"] for b in msg.blocks] == [ids.BLOCK_RECEIPT]
    with pytest.raises(ValueError):
        delivery_receipt(agent_id="U0ABC", op="tweet", text="hi", ok=True, url=None, error=None,
                         message_id=1, retryable=False)


# --- lists ---------------------------------------------------------------------------------------


def test_queue_names_every_row_in_order_with_age_and_sla():
    rows = [row(3, waiting_since=NOW - timedelta(hours=5), sla=SlaBadge("breached", "overdue by 1h 05m")),
            row(7, assignee=None), row(9, platform="facebook", kind="comment", handle="Ana Ruiz", sla=None)]
    msg = conversation_list("Open conversations", rows, NOW, "Nothing waiting.")
    check_message(msg)
    lines = row_lines(msg)
    assert [line.split("|#")[1].split(">")[0] for line in lines] == ["3", "7", "9"]
    assert "waiting 5h" in lines[0] and "🔴 overdue by 1h 05m" in lines[0]
    assert "unassigned" in lines[1] and "⏱️ 12m left" in lines[1]
    assert "📘 Facebook comment" in lines[2] and "@Ana" not in lines[2]
    assert "3 conversations" in msg.text and "#3" in msg.text


def test_empty_list_says_so_escaped():
    msg = conversation_list("Mine <!here>", [], NOW, "Nothing <!channel> waiting.")
    check_message(msg)
    assert_no_pings([msg.text, msg.blocks])
    assert "Nothing &lt;!channel&gt; waiting." in " ".join(strings(msg.blocks))


def test_customer_text_in_rows_is_escaped():
    msg = conversation_list("Find", [row(1, snippet=HOSTILE, handle="<@U999>", permalink="javascript:x")], NOW, "")
    check_message(msg)
    assert_no_pings(msg.blocks)
    assert "javascript" not in " ".join(strings(msg.blocks))
    assert "*#1*" in row_lines(msg)[0]


@pytest.mark.parametrize("snippet_len", [10, 5000])
def test_long_lists_are_capped_and_name_the_rest(snippet_len: int):
    rows = [row(i, snippet="é" * snippet_len) for i in range(1, 501)]
    msg = conversation_list("Queue", rows, NOW, "")
    check_message(msg)
    lines = row_lines(msg)
    assert 1 <= len(lines) <= 60
    for i, line in enumerate(lines, start=1):
        assert f"#{i}>" in line
    more = text_of(msg.blocks, ids.BLOCK_LIST_MORE)
    assert more.startswith(f"…and {500 - len(lines)} more: #{len(lines) + 1}, ")


def test_customer_history_lists_accounts_and_conversations():
    handles = [("x", "maria_gz", "María González"), ("facebook", "María González", "María González")]
    rows = [row(4, status="resolved", waiting_since=None), dataclasses.replace(row(8), platform="facebook")]
    msg = customer_history(handles, rows, NOW)
    check_message(msg)
    head = text_of(msg.blocks, ids.BLOCK_CUSTOMER_HANDLES)
    assert "María González (@maria_gz) on X" in head and "María González on Facebook" in head
    lines = row_lines(msg)
    assert "#4" in lines[0] and "resolved" in lines[0] and "#8" in lines[1]
    empty = customer_history([("x", "<!channel>", "")], [], NOW)
    check_message(empty)
    assert_no_pings(empty.blocks)
