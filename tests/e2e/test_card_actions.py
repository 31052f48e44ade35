"""The card's buttons and the receipt's Retry through signed requests to the real HTTP endpoint:
take private per platform, assign / resolve / reopen / snooze, retry after a failed send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import func, select

from bot import ids
from bot.store.models import AuditEntry, Conversation, DeliveryStatus, Message, Status
from sandbox.emulators.stack import SIGNING_SECRET
from tests.e2e.conftest import CHANNEL
from tests.e2e.slack_requests import (  # noqa: F401
    AGENT,
    mirror_facebook_comment,
    mirror_messenger,
    mirror_x_mention,
    serve,
    wait_for,
)
from tests.e2e.test_reply_modal import (
    card_shows,
    open_modal,
    outbound,
    receipt_in_thread,
    settle,
    text_values,
)

pytestmark = pytest.mark.e2e


def _conversation(session, conv_id: int) -> Conversation:
    with session.parley.store.transaction() as db:
        row = db.get(Conversation, conv_id)
        db.expunge(row)
        return row


def _audit(session, action: str) -> list[AuditEntry]:
    with session.parley.store.transaction() as db:
        rows = db.exec(select(AuditEntry).where(AuditEntry.action == action)).all()
        for row in rows:
            db.expunge(row)
        return rows


def _take_private(session, stack, conv, text: str) -> None:
    view = open_modal(session, stack, conv, action=ids.ACTION_TAKE_PRIVATE)
    assert view["callback_id"] == ids.CALLBACK_PRIVATE_MODAL
    response = session.submit_view(view, text_values(text))
    assert response.status_code == 200 and "errors" not in (response.text or "")


# --- take it private ---------------------------------------------------------------------------------

def test_take_private_on_x_sends_the_dm_then_the_public_notice(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley)
    [tweet_id] = list(stack.x.tweets)
    customer_id = stack.x.tweets[tweet_id].author_id
    _take_private(session, stack, conv, "Could you send us your order number?")
    wait_for(lambda: len(stack.x.created_tweets) == 1, what="the public notice")
    assert [(d["participant_id"], d["text"]) for d in stack.x.sent_dms] == [
        (customer_id, "Could you send us your order number?")]
    assert stack.x.created_tweets[0]["in_reply_to_tweet_id"] == tweet_id
    assert "DM" in stack.x.created_tweets[0]["text"]
    assert f"<@{AGENT}> replied privately" in receipt_in_thread(session, stack, conv, "✅")
    settle(session)
    assert len(stack.x.sent_dms) == 1 and len(stack.x.created_tweets) == 1


def test_take_private_on_a_facebook_comment_sends_one_private_reply(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_facebook_comment(stack, session.parley)
    with session.parley.store.transaction() as db:
        [comment_id] = db.exec(select(Message.external_id).where(Message.conversation_id == conv.id)).all()
    _take_private(session, stack, conv, "Hi Fox, we've looked into your refund.")
    wait_for(lambda: stack.graph.private_replies, what="the private reply")
    assert [(r["comment_id"], r["text"]) for r in stack.graph.private_replies] == [
        (comment_id, "Hi Fox, we've looked into your refund.")]
    receipt_in_thread(session, stack, conv, "✅")
    # Facebook allows one private reply per comment: the second is refused in the modal, nothing sent
    view = open_modal(session, stack, conv, action=ids.ACTION_TAKE_PRIVATE)
    refused = session.submit_view(view, text_values("One more thing"))
    assert refused.json()["response_action"] == "errors"
    assert "only one private reply" in refused.json()["errors"][ids.modal_text_block(0)]
    settle(session)
    assert len(stack.graph.private_replies) == 1 and stack.graph.comment_replies == []


def test_take_private_on_messenger_answers_in_messenger(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_messenger(stack, session.parley)
    _take_private(session, stack, conv, "Hola Ana, tu pedido sale hoy.")
    wait_for(lambda: stack.graph.sent_messages, what="the Messenger reply")
    assert [m["text"] for m in stack.graph.sent_messages] == ["Hola Ana, tu pedido sale hoy."]
    assert stack.graph.sent_messages[0]["tag"] in (None, "")  # inside 24 hours: no HUMAN_AGENT tag
    receipt_in_thread(session, stack, conv, "✅")


# --- case state --------------------------------------------------------------------------------------

def test_assign_to_me_assigns_once_and_updates_the_card(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley)
    assert session.click(ids.ACTION_ASSIGN_ME, str(conv.id)).status_code == 200
    card_shows(session, stack, conv, f"👤 <@{AGENT}>")
    assert _conversation(session, conv.id).assignee == AGENT
    assert session.click(ids.ACTION_ASSIGN_ME, str(conv.id)).status_code == 200  # a double click
    [reply] = session.responses(1)
    assert reply["response_type"] == "ephemeral" and "already assigned to you" in reply["text"]
    assert len(_audit(session, "assign")) == 1


def test_resolve_then_reopen(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley)
    assert session.click(ids.ACTION_RESOLVE, str(conv.id)).status_code == 200
    card_shows(session, stack, conv, ids.ACTION_REOPEN, absent=(ids.ACTION_RESOLVE,))
    assert _conversation(session, conv.id).status == Status.RESOLVED
    assert session.click(ids.ACTION_REOPEN, str(conv.id)).status_code == 200
    card_shows(session, stack, conv, ids.ACTION_RESOLVE, absent=(ids.ACTION_REOPEN,))
    assert _conversation(session, conv.id).status == Status.OPEN
    assert [a.actor for a in _audit(session, "resolve") + _audit(session, "reopen")] == [AGENT, AGENT]


def test_snooze_select_snoozes_the_case(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley)
    before = datetime.now(UTC)
    response = session.click(ids.ACTION_SNOOZE, "", selected_value=ids.snooze_option_value(conv.id, ids.SNOOZE_2H))
    assert response.status_code == 200
    card_shows(session, stack, conv, "snoozed until")
    row = _conversation(session, conv.id)
    assert row.status == Status.SNOOZED
    assert before + timedelta(hours=2) <= row.snoozed_until <= datetime.now(UTC) + timedelta(hours=2)


# --- retry -------------------------------------------------------------------------------------------

def _retry_buttons(stack, conv) -> list[str]:
    """The values of the Retry buttons on the receipts in the case's thread."""
    return [e["value"] for m in stack.slack.thread(CHANNEL, conv.slack_ts)[1:] for b in m.blocks
            if b.get("block_id") == ids.BLOCK_RECEIPT_ACTIONS for e in b["elements"]
            if e["action_id"] == ids.ACTION_RETRY_SEND]


def test_retry_after_an_outage_sends_once(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley)
    stack.x.error_next(r"^/2/tweets$", 503)
    view = open_modal(session, stack, conv)
    session.submit_view(view, text_values("We're looking into it."))
    assert "try again" in receipt_in_thread(session, stack, conv, "❌")
    [failed_id] = _retry_buttons(stack, conv)
    assert stack.x.created_tweets == []
    assert session.click(ids.ACTION_RETRY_SEND, failed_id).status_code == 200
    wait_for(lambda: len(stack.x.created_tweets) == 1, what="the retried tweet")
    assert stack.x.created_tweets[0]["text"].endswith("We're looking into it.")
    receipt_in_thread(session, stack, conv, "✅")
    assert session.click(ids.ACTION_RETRY_SEND, failed_id).status_code == 200  # a second click
    [reply] = session.responses(1)
    assert "sent again already" in reply["text"]
    settle(session)
    assert len(stack.x.created_tweets) == 1
    assert [m.delivery_status for m in outbound(session)] == [DeliveryStatus.FAILED, DeliveryStatus.SENT]


def test_retry_of_an_unknown_outcome_asks_to_check_first(stack, serve):  # noqa: F811
    session = serve()
    parley = session.parley
    conv = mirror_x_mention(stack, parley)
    with parley.store.transaction() as db:  # a crash left this reply mid-send, long ago
        message = parley.sender.queue_reply(db, db.get(Conversation, conv.id), agent_id=AGENT, text="On it!",
                                            mode="public", idempotency_key="crashed")
        db.flush()
        db.execute(update(Message).where(Message.id == message.id).values(
            delivery_status=DeliveryStatus.SENDING, send_started_at=datetime.now(UTC) - timedelta(hours=1)))
        message_id = message.id
    parley.sender.deliver(message_id)
    assert "Outcome unknown" in receipt_in_thread(session, stack, conv, "❌")
    assert _retry_buttons(stack, conv) == [str(message_id)]
    assert session.click(ids.ACTION_RETRY_SEND, str(message_id)).status_code == 200
    [reply] = session.responses(1)
    assert reply["response_type"] == "ephemeral" and "may already have been posted" in reply["text"]
    settle(session)
    assert stack.x.created_tweets == []
    with parley.store.transaction() as db:
        assert db.exec(select(func.count()).select_from(Message).where(Message.send_key.like("retry:%"))).one() == 0


def test_forged_click_is_refused_and_changes_nothing(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley)
    assert session.click(ids.ACTION_RESOLVE, str(conv.id), secret="not-" + SIGNING_SECRET).status_code == 401
    assert session.click(ids.ACTION_RESOLVE, str(conv.id), timestamp=1_000_000_000).status_code == 401
    assert _conversation(session, conv.id).status == Status.OPEN and _audit(session, "resolve") == []
