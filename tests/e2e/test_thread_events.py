"""Slack `message` events through the real HTTP endpoint: what people write in a case's thread is an
internal note (stored once, sent nowhere); every other message event still gets a 200."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from bot.store.models import Claim, Direction, Message
from sandbox.emulators.slack_api import SlackEmulator
from sandbox.emulators.stack import SIGNING_SECRET
from tests.e2e.conftest import CHANNEL
from tests.e2e.slack_requests import AGENT, mirror_x_mention, serve  # noqa: F401
from tests.e2e.test_reply_modal import settle

pytestmark = pytest.mark.e2e


def _notes(session) -> list[tuple[str, str, int]]:
    with session.parley.store.transaction() as db:
        rows = db.exec(select(Message).where(Message.direction == Direction.NOTE).order_by(Message.id)).all()
        return [(m.author_id, m.text, m.conversation_id) for m in rows]


def _reply(thread_ts: str, text: str, *, user: str = AGENT, ts: str | None = None, **extra: object) -> dict:
    return {"type": "message", "channel": CHANNEL, "channel_type": "channel", "user": user, "text": text,
            "ts": ts or f"{time.time():.6f}", "thread_ts": thread_ts, **extra}


def _nothing_sent_anywhere(stack, posts_before: int) -> None:
    assert stack.x.created_tweets == [] and stack.x.sent_dms == []
    assert stack.graph.comment_replies == [] and stack.graph.private_replies == []
    assert stack.graph.sent_messages == []
    assert len(stack.slack.posts()) == posts_before  # Parley did not echo the note either


def test_a_thread_reply_is_a_note_stored_once_and_sent_nowhere(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley)
    posts = len(stack.slack.posts())
    event = _reply(conv.slack_ts, "Customer called too, refund is approved")
    assert session.event(event, event_id="Ev0NOTE1").status_code == 200
    assert _notes(session) == [(AGENT, "Customer called too, refund is approved", conv.id)]
    # Slack retries the delivery (same event id), then sends the same message under a new id
    assert session.event(event, event_id="Ev0NOTE1", retry_num=1).status_code == 200
    assert session.event(event, event_id="Ev0NOTE1", retry_num=2).status_code == 200
    assert session.event(event, event_id="Ev0NOTE2").status_code == 200
    assert len(_notes(session)) == 1
    with session.parley.store.transaction() as db:
        assert db.get(Claim, "slack-event:Ev0NOTE1") is not None
    session.parley.outbox.drain()
    settle(session)
    _nothing_sent_anywhere(stack, posts)


def test_events_that_are_not_notes_get_200_and_are_ignored(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley)
    posts = len(stack.slack.posts())
    ignored = {
        "bot": _reply(conv.slack_ts, "↪ receipt", user=SlackEmulator.BOT_USER_ID, bot_id=SlackEmulator.BOT_ID),
        "other bot": _reply(conv.slack_ts, "deploy done", user="U0CIBOT", bot_id="B0CIBOT"),
        "bot_message": _reply(conv.slack_ts, "webhook says hi", subtype="bot_message", bot_id="B0HOOK"),
        "edit": {"type": "message", "subtype": "message_changed", "channel": CHANNEL, "ts": f"{time.time():.6f}",
                 "message": _reply(conv.slack_ts, "edited text"), "previous_message": _reply(conv.slack_ts, "old")},
        "delete": {"type": "message", "subtype": "message_deleted", "channel": CHANNEL,
                   "ts": f"{time.time():.6f}", "deleted_ts": "1.000001"},
        "join": {"type": "message", "subtype": "channel_join", "channel": CHANNEL, "user": "U0NEW",
                 "text": "<@U0NEW> has joined the channel", "ts": f"{time.time():.6f}"},
        "top level": {"type": "message", "channel": CHANNEL, "user": AGENT, "text": "lunch?",
                      "ts": f"{time.time():.6f}"},
        "other thread": _reply("1700000000.000100", "not a case"),
    }
    for n, (what, event) in enumerate(ignored.items()):
        response = session.event(event, event_id=f"Ev0IGN{n}")
        assert response.status_code == 200, what
    assert _notes(session) == []
    # the same endpoint does store a note, so the empty list above is not for want of wiring
    assert session.event(_reply(conv.slack_ts, "real note"), event_id="Ev0REAL").status_code == 200
    assert [n[1] for n in _notes(session)] == ["real note"]
    settle(session)
    _nothing_sent_anywhere(stack, posts)


def test_a_forged_event_is_refused_and_stores_nothing(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley)
    event = _reply(conv.slack_ts, "forged note")
    assert session.event(event, event_id="Ev0FORGED", secret="not-" + SIGNING_SECRET).status_code == 401
    assert session.event(event, event_id="Ev0STALE", timestamp=time.time() - 3600).status_code == 401
    assert _notes(session) == []
