"""CSAT end to end: the real app (facebook-sdk, tweepy, slack_sdk, Bolt) against the emulators.

Resolving a Messenger conversation asks once with quick replies and the tapped answer arrives by the
signed webhook; resolving an X DM asks once in text and the answer is polled. Each answer is stored,
shown in the thread and on the card and counted by `/social stats`; a public case is never asked,
nor a private one whose messaging window has closed, nor one asked before.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlmodel import select

from bot.store.models import AuditEntry, Conversation, Direction, Message, Status
from bot.triage.rating import CHOICES, QUESTION
from sandbox.demo.seed import signed
from sandbox.emulators.stack import FACEBOOK_APP_SECRET
from tests.e2e.conftest import CHANNEL, run_until
from tests.e2e.slack_requests import (  # noqa: F401  (serve is a fixture)
    mirror_facebook_comment,
    mirror_messenger,
    mirror_x_mention,
    serve,
    wait_for,
)

pytestmark = pytest.mark.e2e
CSAT_ON = {"PARLEY_CSAT": "messenger,x:dm", "X_DM_INTERVAL": "1s", "X_DM_REQUESTS": "1000"}


def state(parley, ref: int) -> Conversation:
    with parley.store.transaction() as session:
        return session.get_one(Conversation, ref)


def thread_text(stack, conversation) -> str:
    return "\n".join(m.text + json.dumps(m.blocks, ensure_ascii=False)
                     for m in stack.slack.thread(CHANNEL, conversation.slack_ts)[1:])


def card_now(stack, conversation) -> str:
    updates = [c.args() for c in stack.slack.calls_to(r"chat\.update")
               if str(c.args().get("ts")) == conversation.slack_ts]
    return json.dumps(updates[-1], ensure_ascii=False) if updates else ""


def command(slack, text: str, n: int) -> str:
    assert slack.command(text).status_code == 200
    return json.dumps(slack.responses(n)[n - 1], ensure_ascii=False)


def surveys(parley) -> list[Message]:
    with parley.store.transaction() as session:
        return list(session.exec(select(Message).where(Message.direction == Direction.OUTBOUND,
                                                       Message.author_id == "parley")).all())


def post_webhook(base_url: str, payload: dict) -> requests.Response:
    body, signature = signed(payload, FACEBOOK_APP_SECRET)
    return requests.post(f"{base_url}/webhooks/facebook", data=body, timeout=5,
                         headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})


def test_messenger_asks_once_with_quick_replies_and_the_tapped_answer_is_stored_shown_and_counted(stack, serve):  # noqa: F811
    slack = serve(**CSAT_ON)
    parley = slack.parley
    conv = mirror_messenger(stack, parley)
    psid = stack.graph.user("Ana Ruiz")

    command(slack, f"resolve #{conv.ref}", 1)
    wait_for(lambda: len(stack.graph.sent_messages) == 1, what="the satisfaction question")
    [asked] = stack.graph.sent_messages
    assert (asked["psid"], asked["text"], asked["messaging_type"], asked["tag"]) == (psid, QUESTION, "RESPONSE", None)
    assert [(q["title"], q["payload"]) for q in asked["quick_replies"]] == list(CHOICES)
    run_until(parley, lambda: "Parley asked the customer for a rating" in thread_text(stack, conv))
    asked_state = state(parley, conv.ref)
    assert asked_state.csat_asked_at is not None
    assert asked_state.first_response_at is None  # the question is no staff reply

    tapped = stack.graph.tap_quick_reply(psid, 3)  # "4 🙂", payload CSAT:4
    assert post_webhook(slack.base_url, tapped).status_code == 200
    run_until(parley, lambda: "⭐ 4/5 from" in thread_text(stack, conv) and "4/5" in card_now(stack, conv))
    rated = state(parley, conv.ref)
    assert (rated.csat_score, rated.status) == (4, Status.RESOLVED)  # the answer does not reopen the case
    # The poll reads the same message ("4 🙂"): it is stored once, and answered once in the thread.
    assert sum("⭐ 4/5 from Ana Ruiz" in m.text for m in stack.slack.thread(CHANNEL, conv.slack_ts)) == 1

    # Reopened and resolved again: never asked twice.
    command(slack, f"reopen #{conv.ref}", 2)
    command(slack, f"resolve #{conv.ref}", 3)
    parley.sender.deliver_pending()
    assert len(stack.graph.sent_messages) == 1 and len(surveys(parley)) == 1

    shown = command(slack, "stats 7d", 4)
    assert "⭐ 4.0/5 · 1 answer · 100% answered" in shown
    with parley.store.transaction() as session:
        actions = session.exec(select(AuditEntry.action).where(AuditEntry.conversation_id == conv.ref)).all()
    assert actions.count("csat_answer") == 1


def test_an_x_dm_is_asked_in_text_and_the_polled_answer_is_stored(stack, serve):  # noqa: F811
    slack = serve(**CSAT_ON)
    parley = slack.parley
    mia = stack.x.add_user("mia", "Mia Wong", followers=40)
    first = stack.x.add_dm(mia, "My parcel never came", created_at=datetime.now(UTC) - timedelta(minutes=5))
    run_until(parley, lambda: _conversation_of(parley, first) is not None)
    conv = _conversation_of(parley, first)

    command(slack, f"resolve #{conv.ref}", 1)
    wait_for(lambda: len(stack.x.sent_dms) == 1, what="the satisfaction question")
    assert stack.x.sent_dms[0]["participant_id"] == mia and stack.x.sent_dms[0]["text"] == QUESTION
    wait_for(lambda: state(parley, conv.ref).csat_asked_at is not None, what="the question settled")

    stack.x.add_dm(mia, "5", created_at=datetime.now(UTC))
    run_until(parley, lambda: "⭐ 5/5 from @mia" in thread_text(stack, conv))
    rated = state(parley, conv.ref)
    assert (rated.csat_score, rated.status) == (5, Status.RESOLVED)
    assert "5/5" in card_now(stack, conv)
    assert "⭐ 5.0/5 · 1 answer · 100% answered" in command(slack, "stats 7d", 2)


def test_public_threads_are_never_asked(stack, serve):  # noqa: F811
    slack = serve(PARLEY_CSAT="messenger,dm")
    mention = mirror_x_mention(stack, slack.parley)
    comment = mirror_facebook_comment(stack, slack.parley)

    command(slack, f"resolve #{mention.ref}", 1)
    command(slack, f"resolve #{comment.ref}", 2)
    slack.parley.sender.deliver_pending()

    assert surveys(slack.parley) == []
    assert stack.x.sent_dms == [] and stack.graph.sent_messages == [] and stack.graph.private_replies == []


def test_a_conversation_whose_messaging_window_has_closed_is_not_asked(stack, serve):  # noqa: F811
    slack = serve(**CSAT_ON)
    conv = mirror_messenger(stack, slack.parley)
    # The customer last wrote 25 hours ago: past Messenger's 24-hour window (a survey is never
    # sent as a HUMAN_AGENT reply).
    with slack.parley.store.transaction() as session:
        message = session.exec(select(Message).where(Message.conversation_id == conv.id)).one()
        message.created_at = datetime.now(UTC) - timedelta(hours=25)
        conversation = session.get_one(Conversation, conv.id)
        conversation.last_customer_message_at = message.created_at
        session.add_all([message, conversation])

    command(slack, f"resolve #{conv.ref}", 1)
    slack.parley.sender.deliver_pending()

    assert state(slack.parley, conv.ref).status == Status.RESOLVED
    assert surveys(slack.parley) == [] and stack.graph.sent_messages == []


def _conversation_of(parley, external_id: str) -> Conversation | None:
    with parley.store.transaction() as session:
        message = session.exec(select(Message).where(Message.external_id == external_id)).first()
        conversation = session.get(Conversation, message.conversation_id) if message else None
        return conversation if conversation is not None and conversation.slack_ts else None


def test_a_case_reopened_before_its_question_went_out_is_not_asked(stack, serve):  # noqa: F811
    slack = serve(**CSAT_ON)
    parley = slack.parley
    conv = mirror_messenger(stack, parley)
    # Resolved and reopened in one transaction through the Sender (no command to send it after the
    # commit): the question is queued, and then the case is open again when it comes to be sent.
    with parley.store.transaction() as session:
        conversation = session.get_one(Conversation, conv.ref)
        assert parley.sender.resolve(session, conversation, actor="U0AGENT")
        assert parley.sender.reopen(session, conversation, actor="U0AGENT")

    parley.sender.deliver_pending()

    [question] = surveys(parley)
    assert question.delivery_status == "failed" and "reopened" in (question.delivery_error or "")
    assert stack.graph.sent_messages == [] and state(parley, conv.ref).csat_asked_at is None
