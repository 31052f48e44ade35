"""Hiding a customer's comment from Slack, end to end: the card's button through Bolt (signed requests
to the real HTTP endpoint) and `/social hide`, against the Graph and Slack emulators."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot import ids
from bot.store.models import AuditEntry, Conversation, Message
from tests.e2e.conftest import CHANNEL, count, run_until, undelivered
from tests.e2e.slack_requests import AGENT, mirror_facebook_comment, serve, wait_for  # noqa: F401
from tests.e2e.test_reply_modal import card_now, card_shows, thread_texts

pytestmark = pytest.mark.e2e

INTERN = "U0INTERN"  # in the workspace, not in PARLEY_AGENTS


def _hides(parley) -> list[tuple[str, str, str | None]]:
    with parley.store.transaction() as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == "hide").order_by(AuditEntry.id)).all()
        return [(r.actor, r.outcome, r.external_id) for r in rows]


def _card(stack, case: Conversation) -> str:
    """The card's current state (the thread's parent) as text."""
    parent = stack.slack.thread(CHANNEL, case.slack_ts)[0]
    return json.dumps(parent.blocks, ensure_ascii=False) + parent.text


def _instagram_case(stack, parley) -> tuple[Conversation, str, str, str]:
    now = datetime.now(UTC)
    media = stack.graph.add_instagram_media("New drop", created_at=now - timedelta(hours=2))
    top = stack.graph.add_instagram_comment(media, "troll.99", "buy followers at spam.example",
                                            created_at=now - timedelta(minutes=30))
    again = stack.graph.add_instagram_comment(top, "troll.99", "cheap followers!!",
                                              created_at=now - timedelta(minutes=20))
    other = stack.graph.add_instagram_media("My @acme boots", by="sam.t", created_at=now - timedelta(minutes=5))
    run_until(parley, lambda: count(parley, Message) == 3 and undelivered(parley) == 0)
    with parley.store.transaction() as session:
        message = session.exec(select(Message).where(Message.external_id == top)).one()
        case = session.get_one(Conversation, message.conversation_id)
        session.expunge(case)
    return case, top, again, other


def test_hide_comment_button_hides_on_instagram_with_receipt_audit_and_card(stack, serve):  # noqa: F811
    session = serve(PARLEY_AGENTS=AGENT)
    parley = session.parley
    case, top, again, other = _instagram_case(stack, parley)
    assert ids.ACTION_HIDE in _card(stack, case) and "Hide the comment?" in _card(stack, case)

    assert session.click(ids.ACTION_HIDE, str(case.id), user=INTERN).status_code == 200
    [refused] = session.responses(1)
    assert refused["response_type"] == "ephemeral" and "PARLEY_AGENTS" in refused["text"]
    assert stack.graph.instagram.hidden == [] and not stack.graph.calls_to(rf".*/{top}$")
    assert _hides(parley) == [(INTERN, "refused", None)]

    assert session.click(ids.ACTION_HIDE, str(case.id)).status_code == 200
    wait_for(lambda: len(stack.graph.instagram.hidden) == 2, what="both comments hidden")
    assert stack.graph.instagram.hidden == [top, again]
    assert all(stack.graph.instagram.comments[c].hidden for c in (top, again))
    card_shows(session, stack, case, "🙈 2 comments hidden on Instagram by", f"<@{AGENT}>", absent=(ids.ACTION_HIDE,))
    wait_for(lambda: any("🙈" in t and "✅" in t for t in thread_texts(session, stack, case)), what="the receipt")
    [receipt] = [t for t in thread_texts(session, stack, case) if "🙈" in t]
    assert f"<@{AGENT}> hid the customer's 2 comments on Instagram ✅" in receipt
    assert _hides(parley)[1:] == [(AGENT, "ok", top), (AGENT, "ok", again)]

    assert session.click(ids.ACTION_HIDE, str(case.id)).status_code == 200  # a second click: nothing left
    assert "no visible comment left" in session.responses(2)[1]["text"]
    assert stack.graph.instagram.hidden == [top, again] and len(_hides(parley)) == 3

    # An @mention on someone else's post is not ours to hide: no button, and the command refuses.
    with parley.store.transaction() as db:
        mention = db.get_one(Conversation, db.exec(select(Message).where(Message.external_id == other)).one()
                             .conversation_id)
        db.expunge(mention)
    assert "Reply" in _card(stack, mention) and ids.ACTION_HIDE not in _card(stack, mention)
    assert session.command(f"hide #{mention.ref}").status_code == 200
    assert "Only comments on the brand's own posts can be hidden" in session.responses(3)[2]["text"]
    assert stack.graph.instagram.hidden == [top, again]


def test_social_hide_on_a_facebook_comment_and_a_refusal_by_graph(stack, serve):  # noqa: F811
    session = serve()
    parley = session.parley
    conv = mirror_facebook_comment(stack, parley, "Scam! Visit spam.example")
    [comment] = [c for c in stack.graph.comments if c not in stack.graph.feed.hidden]
    stack.graph.token.scopes.discard("pages_manage_engagement")
    assert session.command(f"hide #{conv.ref}").status_code == 200
    [refused] = session.responses(1)
    assert "refused to hide" in refused["text"] and "permission" in refused["text"]
    assert stack.graph.feed.hidden == [] and _hides(parley) == [(AGENT, "failed", None)]
    wait_for(lambda: any("❌" in t and "🙈" in t for t in thread_texts(session, stack, conv)), what="the ❌ receipt")

    stack.graph.token.scopes.add("pages_manage_engagement")
    assert session.command(f"hide #{conv.ref}").status_code == 200
    assert "Hid the comment" in session.responses(2)[1]["text"]
    assert stack.graph.feed.hidden == [comment] and stack.graph.comments[comment].hidden
    assert ids.ACTION_HIDE in card_now(stack, conv)  # after the refusal: still to do
    card_shows(session, stack, conv, "🙈 Comment hidden on Facebook", absent=(ids.ACTION_HIDE,))
