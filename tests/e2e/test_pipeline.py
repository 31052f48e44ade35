"""Mention/comment/DM -> stored once -> one Slack card; follow-ups -> same thread. Real tweepy,
facebook-sdk and slack_sdk clients against the emulators, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.store.models import Conversation, Cursor, Message
from tests.e2e.conftest import CHANNEL, count, run_until, undelivered

pytestmark = pytest.mark.e2e


def _cards(stack):
    return [p for p in stack.slack.posts(CHANNEL) if p.thread_ts is None]


def test_mention_is_stored_and_mirrored_once(stack, make_parley):
    parley = make_parley()
    ana = stack.x.add_user("ana_dev", "Ana Díaz", followers=15300, verified=True)
    tweet = stack.x.add_tweet(ana, "@acme my deploys fail with error 502 since this morning", lang="en")

    run_until(parley, lambda: undelivered(parley) == 0 and count(parley, Message) == 1)
    parley.poll_all()  # the same mention fetched again
    parley.outbox.drain()

    cards = _cards(stack)
    assert len(cards) == 1
    assert "#1" in cards[0].text and "error 502" in cards[0].text
    assert cards[0].metadata["event_payload"]["key"]
    with parley.store.transaction() as session:
        message = session.exec(select(Message)).one()
        conversation = session.exec(select(Conversation)).one()
    assert message.external_id == tweet
    assert conversation.slack_ts == cards[0].ts and conversation.channel == CHANNEL
    assert conversation.complaint and conversation.priority in ("high", "urgent")


def test_followup_lands_in_the_same_thread(stack, make_parley):
    parley = make_parley()
    ana = stack.x.add_user("ana_dev", "Ana Díaz")
    first = stack.x.add_tweet(ana, "@acme is the eu region down?")
    run_until(parley, lambda: len(_cards(stack)) == 1)
    stack.x.add_tweet(ana, "still down, 30 minutes now", in_reply_to=first)
    other = stack.x.add_tweet(ana, "@acme unrelated: do you support IPv6?")  # a new topic: a new case
    run_until(parley, lambda: count(parley, Message) == 3 and undelivered(parley) == 0)

    cards = _cards(stack)
    assert len(cards) == 2
    thread = stack.slack.thread(CHANNEL, cards[0].ts)
    assert [m.text for m in thread[1:]] and "still down" in thread[1].text
    assert all("IPv6" not in m.text for m in thread)
    with parley.store.transaction() as session:
        assert session.exec(select(Message).where(Message.external_id == other)).one()


def test_facebook_comment_reply_and_messenger_thread(stack, make_parley):
    parley = make_parley()
    post = stack.graph.add_post("Our new plan is live!")
    comment = stack.graph.add_comment(post, "Marta Ruiz", "No funciona el pago con tarjeta, ¿qué pasa?")
    stack.graph.add_messenger_message("5550001", "Leo Park", "Hi, can I change my invoice address?")
    run_until(parley, lambda: len(_cards(stack)) == 2 and undelivered(parley) == 0)
    stack.graph.add_comment(comment, "Marta Ruiz", "Sigue sin funcionar")
    stack.graph.add_messenger_message("5550001", "Leo Park", "It's for the March invoice")
    run_until(parley, lambda: count(parley, Message) == 4 and undelivered(parley) == 0)

    cards = _cards(stack)
    assert len(cards) == 2
    for card in cards:
        assert len(stack.slack.thread(CHANNEL, card.ts)) == 2  # parent + the follow-up
    with parley.store.transaction() as session:
        languages = {c.language for c in session.exec(select(Conversation)).all()}
    assert languages == {"es", "en"}


def test_crash_mid_batch_rereads_without_loss_or_duplicates(stack, make_parley, monkeypatch):
    parley = make_parley()
    x = next(c for c in parley.connectors if c.platform == "x")
    x.page_size = 5
    users = [stack.x.add_user(f"user{i}", f"User {i}") for i in range(12)]
    for i, user in enumerate(users):
        stack.x.add_tweet(user, f"@acme question number {i}")

    real_ingest = parley.ingestor.ingest
    calls = {"n": 0}

    def crash_on_second_batch(batch, **kwargs):
        calls["n"] += bool(batch.messages)  # the stream's starting point comes first, on its own
        if calls["n"] == 2:
            raise RuntimeError("process died mid-batch")
        return real_ingest(batch, **kwargs)

    monkeypatch.setattr(parley.ingestor, "ingest", crash_on_second_batch)
    parley.poll_all()
    with parley.store.transaction() as session:
        cursor = session.get(Cursor, "x:mentions")
        assert cursor is not None and cursor.value.startswith("t:")  # still the starting point: not advanced
    stored_before_restart = count(parley, Message)
    assert 0 < stored_before_restart < 12

    monkeypatch.setattr(parley.ingestor, "ingest", real_ingest)
    restarted = make_parley()
    restarted.connectors[0].page_size = 5
    run_until(restarted, lambda: count(restarted, Message) == 12 and undelivered(restarted) == 0)
    parley.outbox.drain()
    texts = sorted(c.text for c in _cards(stack))
    assert len(texts) == 12 and len(set(texts)) == 12


def test_rate_limit_storms_from_slack_and_x_deliver_everything_once(stack, make_parley):
    parley = make_parley()
    users = [stack.x.add_user(f"storm{i}", f"Storm {i}") for i in range(8)]
    for i, user in enumerate(users):
        stack.x.add_tweet(user, f"@acme storm message {i}")
    stack.x.rate_limit_next(r"/mentions", times=1, reset_in_seconds=1)
    stack.slack.fail_next(r"chat\.postMessage", 429, times=6, headers={"Retry-After": "1"},
                          body={"ok": False, "error": "ratelimited"})

    run_until(parley, lambda: len(_cards(stack)) == 8 and undelivered(parley) == 0, timeout=60)
    parley.poll_all()
    parley.outbox.drain()

    keys = [c.metadata["event_payload"]["key"] for c in _cards(stack)]
    assert len(keys) == 8 and len(set(keys)) == 8
    assert len(stack.slack.calls_to(r"chat\.postMessage")) >= 8 + 6  # the storm really happened
    assert len(stack.x.calls_to(r"/mentions")) >= 2


def test_search_hit_and_mention_of_the_same_tweet_is_one_message(stack, make_parley):
    parley = make_parley(X_SEARCH_QUERIES="acme: acme -is:retweet; deploys: deploys")
    ana = stack.x.add_user("ana_dev", "Ana Díaz")
    stack.x.add_tweet(ana, "@acme deploys are slow today")
    run_until(parley, lambda: undelivered(parley) == 0 and count(parley, Message) == 1)
    parley.poll_all()
    assert len(_cards(stack)) == 1
    with parley.store.transaction() as session:
        conversation = session.exec(select(Conversation)).one()
    assert conversation.kind == "mention"
    assert set(conversation.query_names.split(",")) == {"acme", "deploys"}
