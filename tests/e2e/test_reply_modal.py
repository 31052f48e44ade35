"""The Reply / Take private modal through signed requests to the real HTTP endpoint: opening marks
the card, a second opener is warned, templates fill the box, X's count is live, refusals stay in
the modal, and a submission sends exactly once with a receipt in the thread."""

from __future__ import annotations

import json
import time

import pytest
from sqlmodel import select

from bot import ids
from bot.store.models import AuditEntry, Conversation, Direction, Message, Template
from sandbox.emulators.stack import EmulatorStack
from tests.e2e.conftest import CHANNEL
from tests.e2e.slack_requests import AGENT, SlackSession, mirror_x_mention, serve, wait_for  # noqa: F401

pytestmark = pytest.mark.e2e

OTHER = "U0OTHER"


# --- helpers shared with test_card_actions / test_thread_events ----------------------------------------

def card_now(stack: EmulatorStack, conversation: Conversation) -> str:
    """The card as Parley last rendered it (blocks and attachments of the latest chat.update), as text."""
    updates = [c.args() for c in stack.slack.calls_to(r"/api/chat\.update$")
               if c.args().get("ts") == conversation.slack_ts]
    if not updates:
        return ""
    parts = []
    for key in ("text", "blocks", "attachments"):
        value = updates[-1].get(key)
        parts.append(json.dumps(json.loads(value) if isinstance(value, str) and key != "text" else value,
                                ensure_ascii=False))
    return " ".join(parts)


def card_shows(session: SlackSession, stack: EmulatorStack, conversation: Conversation, *needles: str,
               absent: tuple[str, ...] = ()) -> None:
    """Drain the outbox until the card shows every needle and none of `absent`."""
    def done() -> bool:
        session.parley.outbox.drain()
        card = card_now(stack, conversation)
        return all(n in card for n in needles) and not any(a in card for a in absent)

    wait_for(done, what=f"card showing {needles} without {absent}")


def thread_texts(session: SlackSession, stack: EmulatorStack, conversation: Conversation) -> list[str]:
    session.parley.outbox.drain()
    return [json.dumps(m.blocks, ensure_ascii=False) + m.text
            for m in stack.slack.thread(CHANNEL, conversation.slack_ts)[1:]]


def receipt_in_thread(session: SlackSession, stack: EmulatorStack, conversation: Conversation, mark: str) -> str:
    """Wait for a receipt carrying `mark` (✅ or ❌); return every such receipt so far, one per line."""
    found: list[str] = []

    def done() -> bool:
        found[:] = [t for t in thread_texts(session, stack, conversation) if "↪" in t and mark in t]
        return bool(found)

    wait_for(done, what=f"a {mark} receipt in the thread")
    return "\n".join(found)


def opened_views(stack: EmulatorStack, method: str = "views.open") -> list[dict]:
    return [v["view"] for v in stack.slack.views if v["method"] == method]


def open_modal(session: SlackSession, stack: EmulatorStack, conversation: Conversation, *, user: str = AGENT,
               action: str = ids.ACTION_REPLY) -> dict:
    before = len(opened_views(stack))
    assert session.click(action, str(conversation.id), user=user).status_code == 200
    wait_for(lambda: len(opened_views(stack)) > before, what="views.open")
    return opened_views(stack)[-1]


def text_values(text: str, version: int = 0) -> dict:
    return {ids.modal_text_block(version): {ids.ACTION_MODAL_TEXT: {"type": "plain_text_input", "value": text}}}


def view_action(session: SlackSession, view: dict, action: dict, *, user: str = AGENT) -> None:
    """A block_actions request from inside an open modal (template picked, character typed)."""
    response = session.interaction({
        "type": "block_actions", "user": {"id": user, "username": user.lower(), "name": user.lower(),
                                          "team_id": "T0PARLEY"},
        "api_app_id": "A0PARLEY", "team": {"id": "T0PARLEY"}, "trigger_id": f"{time.time()}.view.trigger",
        "container": {"type": "view", "view_id": view["id"]}, "view": view,
        "actions": [{"action_ts": str(time.time()), **action}]})
    assert response.status_code == 200


def outbound(session: SlackSession) -> list[Message]:
    with session.parley.store.transaction() as db:
        rows = db.exec(select(Message).where(Message.direction == Direction.OUTBOUND).order_by(Message.id)).all()
        for row in rows:
            db.expunge(row)
        return rows


def settle(session: SlackSession) -> None:
    """Wait for every background send queued so far (only at the end of a test: it stops the pool)."""
    session.parley.workers.shutdown(wait=True)


# --- tests -------------------------------------------------------------------------------------------

def test_reply_opens_the_modal_and_marks_the_card(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley, "@acme my order never arrived")
    view = open_modal(session, stack, conv)
    assert view["callback_id"] == ids.CALLBACK_REPLY_MODAL and view["notify_on_close"] is True
    blocks = json.dumps(view["blocks"], ensure_ascii=False)
    assert "my order never arrived" in blocks and "/280" in blocks
    assert ids.BLOCK_MODAL_WARNING not in blocks  # nobody else is replying
    card_shows(session, stack, conv, f"<@{AGENT}> is replying")
    with session.parley.store.transaction() as db:
        assert db.get(Conversation, conv.id).replying_by == AGENT


def test_a_second_opener_is_warned_and_closing_clears_the_mark(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley)
    first = open_modal(session, stack, conv)
    second = open_modal(session, stack, conv, user=OTHER)
    warning = [b for b in second["blocks"] if b.get("block_id") == ids.BLOCK_MODAL_WARNING]
    assert warning and f"<@{AGENT}>" in json.dumps(warning)
    card_shows(session, stack, conv, f"<@{OTHER}> is replying")
    # the first opener closing does not clear the second one's mark; the second closing does
    for view, user in ((first, AGENT), (second, OTHER)):
        response = session.interaction({"type": "view_closed", "user": {"id": user, "team_id": "T0PARLEY"},
                                        "api_app_id": "A0PARLEY", "team": {"id": "T0PARLEY"},
                                        "view": view, "is_cleared": False})
        assert response.status_code == 200
    card_shows(session, stack, conv, absent=("is replying",))
    with session.parley.store.transaction() as db:
        assert db.get(Conversation, conv.id).replying_by is None


def test_picking_a_template_fills_the_text(stack, serve):  # noqa: F811
    session = serve()
    stack.slack.add_user(AGENT, "alex", real_name="Alex Agent")
    with session.parley.store.transaction() as db:
        db.add(Template(name="sorry", text="Hi {first_name} (@{handle}), so sorry! {agent} here. #{ref}",
                        created_by=AGENT))
    conv = mirror_x_mention(stack, session.parley)
    view = open_modal(session, stack, conv)
    view_action(session, view, {"action_id": ids.ACTION_MODAL_TEMPLATE, "block_id": ids.BLOCK_MODAL_TEMPLATE,
                                "type": "static_select",
                                "selected_option": {"value": "sorry", "text": {"type": "plain_text", "text": "sorry"}}})
    wait_for(lambda: opened_views(stack, "views.update"), what="views.update")
    updated = opened_views(stack, "views.update")[-1]
    assert updated["id"] == view["id"]
    [box] = [b for b in updated["blocks"] if ids.is_modal_text_block(b.get("block_id", ""))]
    # a new block_id, or Slack would keep the (empty) typed text instead of the template
    assert box["block_id"] != ids.modal_text_block(0)
    # a public reply: the customer is named by their handle, never by their display name
    assert box["element"]["initial_value"] == f"Hi @dana (@dana), so sorry! Alex here. #{conv.ref}"


def test_the_x_count_follows_typing(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley)
    view = open_modal(session, stack, conv)
    view_action(session, view, {"action_id": ids.ACTION_MODAL_TEXT, "block_id": ids.BLOCK_MODAL_TEXT,
                                "type": "plain_text_input", "value": "é" * 150 + " 🎉" * 5})
    wait_for(lambda: opened_views(stack, "views.update"), what="views.update")
    [count] = [b for b in opened_views(stack, "views.update")[-1]["blocks"]
               if b.get("block_id") == ids.BLOCK_MODAL_COUNT]
    assert "165/280" in json.dumps(count, ensure_ascii=False)  # 150 + 5 spaces + 5 emoji counted 2


def test_too_long_x_reply_is_refused_inside_the_modal(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley)
    view = open_modal(session, stack, conv)
    response = session.submit_view(view, text_values("a" * 281))
    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert "281" in body["errors"][ids.modal_text_block(0)] and "280" in body["errors"][ids.modal_text_block(0)]
    assert outbound(session) == []
    settle(session)
    assert stack.x.created_tweets == []


@pytest.mark.parametrize("action", [ids.ACTION_REPLY, ids.ACTION_TAKE_PRIVATE])
@pytest.mark.parametrize("blank", ["\u200b", "\u2800", "\u3164", "\u2060", "\u200b\ufe0f \u2060"])
def test_an_invisible_reply_is_refused_inside_the_modal(stack, serve, action, blank):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley)
    view = open_modal(session, stack, conv, action=action)
    body = session.submit_view(view, text_values(blank)).json()
    assert body["response_action"] == "errors"
    assert "invisible characters" in body["errors"][ids.modal_text_block(0)]
    assert outbound(session) == []
    settle(session)
    assert stack.x.created_tweets == [] and stack.x.sent_dms == []


def test_refused_sender_gets_the_error_in_the_modal_and_nothing_is_sent(stack, serve):  # noqa: F811
    session = serve(PARLEY_AGENTS="U0BOSS")
    conv = mirror_x_mention(stack, session.parley)
    view = open_modal(session, stack, conv)
    response = session.submit_view(view, text_values("Sorry about that, we're on it"))
    body = response.json()
    assert body["response_action"] == "errors" and "PARLEY_AGENTS" in body["errors"][ids.modal_text_block(0)]
    with session.parley.store.transaction() as db:
        audit = db.exec(select(AuditEntry).where(AuditEntry.outcome == "refused")).all()
        assert [(a.actor, a.action, a.conversation_id) for a in audit] == [(AGENT, "reply_public", conv.id)]
    assert outbound(session) == []
    settle(session)
    assert stack.x.created_tweets == [] and stack.x.sent_dms == []
    assert stack.graph.comment_replies == [] and stack.graph.sent_messages == []


def test_a_submission_sends_one_tweet_with_a_receipt_even_when_slack_retries(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley)
    [tweet_id] = list(stack.x.tweets)  # the customer's tweet
    view = open_modal(session, stack, conv)
    response = session.submit_view(view, text_values("So sorry, Dana! We're on it."))
    assert response.status_code == 200 and response.text in ("", "{}")  # closes the modal
    wait_for(lambda: len(stack.x.created_tweets) == 1, what="the tweet")
    assert stack.x.created_tweets[0]["in_reply_to_tweet_id"] == tweet_id
    receipt = receipt_in_thread(session, stack, conv, "✅")
    assert f"<@{AGENT}> replied publicly" in receipt and "So sorry, Dana!" in receipt
    card_shows(session, stack, conv, "Last reply by", absent=("is replying",))
    # Slack retries the submission (same view id): the same stored reply, no second tweet
    again = session.submit_view(view, text_values("So sorry, Dana! We're on it."), retry_num=1)
    assert again.status_code == 200
    settle(session)
    assert len(stack.x.created_tweets) == 1 and len(outbound(session)) == 1
    assert len([t for t in thread_texts(session, stack, conv) if "↪" in t]) == 1


def answered(session: SlackSession, stack: EmulatorStack, text: str, answer: str, username: str) -> Conversation:
    """A past case: the customer's mention, answered through the modal and sent to X."""
    conv = mirror_x_mention(stack, session.parley, text, username=username, name=username.title())
    sent = len(stack.x.created_tweets)
    assert session.submit_view(open_modal(session, stack, conv), text_values(answer)).status_code == 200
    wait_for(lambda: len(stack.x.created_tweets) == sent + 1, what=f"the answer to {username}")
    wait_for(lambda: all(m.delivery_status == "sent" for m in outbound(session)), what="sent answers")
    return conv


def test_the_modal_suggests_the_earlier_refund_answer_first_and_inserts_it(stack, serve):  # noqa: F811
    session = serve()
    answered(session, stack, "@acme where is my order? It never arrived", "Your order ships tomorrow, sorry!", "olga")
    refund = answered(session, stack, "@acme I still haven't got my refund for the blue jacket",
                      "Your refund was issued Monday; banks take up to 5 working days.", "rita")
    answered(session, stack, "@acme love the new app", "Thank you so much!", "lou")
    conv = mirror_x_mention(stack, session.parley, "@acme where is my refund??", username="newt")
    view = open_modal(session, stack, conv)
    [listing] = [b for b in view["blocks"] if b.get("block_id") == ids.BLOCK_MODAL_SUGGESTIONS]
    [picker] = [b for b in view["blocks"] if b.get("block_id") == ids.BLOCK_MODAL_SUGGESTION]
    options = picker["elements"][0]["options"]
    [first_answer] = [m for m in outbound(session) if m.conversation_id == refund.id]
    assert options[0]["value"] == str(first_answer.id) and "refund was issued" in options[0]["text"]["text"]
    assert len(options) == 1  # the order and app cases share no meaningful word with "where is my refund"
    thread = f"https://parley-sandbox.slack.com/archives/{CHANNEL}/p{refund.slack_ts.replace('.', '')}"
    assert listing["text"]["text"].splitlines()[1].startswith(f"• <{thread}|#{refund.ref}>")
    view_action(session, view, {"action_id": ids.ACTION_MODAL_SUGGESTION, "block_id": ids.BLOCK_MODAL_SUGGESTION,
                                "type": "static_select", "selected_option": options[0]})
    wait_for(lambda: opened_views(stack, "views.update"), what="views.update")
    updated = opened_views(stack, "views.update")[-1]
    [box] = [b for b in updated["blocks"] if ids.is_modal_text_block(b.get("block_id", ""))]
    assert box["block_id"] != ids.modal_text_block(0)
    assert box["element"]["initial_value"] == "Your refund was issued Monday; banks take up to 5 working days."
    [picker] = [b for b in updated["blocks"] if b.get("block_id") == ids.BLOCK_MODAL_SUGGESTION]
    assert picker["elements"][0]["initial_option"]["value"] == str(first_answer.id)
    settle(session)
    assert len(stack.x.created_tweets) == 3  # inserting sends nothing: a human sends
