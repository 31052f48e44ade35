"""One poisoned item never stops a stream: lone surrogates, NUL and 10 MB texts from X and Facebook
(real tweepy / facebook-sdk clients against the emulators) are cleaned and stored with the rest, the
cursor moves on, and no log line carries the customer's text. On SQLite and PostgreSQL."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from app import build
from bot.cli import main
from bot.inbound import rows as ingest_rows
from bot.store import quarantine
from bot.store.models import Cursor, Message
from connectors.base import Platform
from connectors.text import MAX_TEXT
from tests.e2e.conftest import CHANNEL, count, run_until, stack_env, undelivered

pytestmark = pytest.mark.e2e

SECRET = "zq-private-words"


def _texts(parley) -> list[str]:
    with parley.store.transaction() as session:
        return [m.text for m in session.exec(select(Message).order_by(Message.id)).all()]


def _cursor(parley, stream: str) -> str | None:
    with parley.store.transaction() as session:
        row = session.get(Cursor, stream)
        return row.value if row else None


def _assert_no_customer_text_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Parley's own lines at any level, and anyone's warnings and errors (libraries' DEBUG lines,
    e.g. tweepy's response bodies, are off in `parley run`'s logging)."""
    ours = ("bot", "parley", "connectors", "app", "commands")
    leaks = [r for r in caplog.records
             if (r.name.split(".")[0] in ours or r.levelno >= logging.WARNING)
             and (SECRET in r.getMessage() or SECRET in (r.exc_text or ""))]
    assert not leaks


def test_lone_surrogate_and_nul_in_x_mentions(stack, make_parley, caplog):
    caplog.set_level(logging.DEBUG)
    parley = make_parley()
    ana = stack.x.add_user("ana_dev", "Ana \ud83d Díaz")
    stack.x.add_tweet(ana, "@acme first fine one")
    stack.x.add_tweet(ana, f"@acme half an emoji \ud83d {SECRET}")
    stack.x.add_tweet(ana, f"@acme a NUL \x00 and a bell \x07 {SECRET}")
    stack.x.add_tweet(ana, "@acme last fine one")

    parley.poll_all()
    parley.poll_all()

    texts = _texts(parley)
    assert len(texts) == 4
    assert any("half an emoji \ufffd" in t for t in texts)
    assert any("a NUL  and a bell  " in t for t in texts)
    assert _cursor(parley, "x:mentions") is not None
    _assert_no_customer_text_logged(caplog)


def test_lone_surrogate_in_facebook_comment_and_huge_messenger_text(stack, make_parley, caplog):
    caplog.set_level(logging.DEBUG)
    parley = make_parley()
    post = stack.graph.add_post("Our new plan is live!")
    stack.graph.add_comment(post, "Marta Ruiz", "fine comment")
    stack.graph.add_comment(post, "Leo \udc00", f"broken \ud83d comment {SECRET}")
    stack.graph.add_messenger_message("5550001", "Big Sender", SECRET + "x" * (10 * 1024 * 1024))
    stack.graph.add_messenger_message("5550002", "Small Sender", "hello there")

    parley.poll_all()

    texts = _texts(parley)
    assert len(texts) == 4
    assert any(t.startswith("broken \ufffd comment") for t in texts)
    huge = next(t for t in texts if t.startswith(SECRET))
    assert len(huge) == MAX_TEXT[Platform.FACEBOOK]
    assert count(parley, Message) == 4
    _assert_no_customer_text_logged(caplog)


def test_a_message_that_cannot_be_stored_is_quarantined_then_retried(
        stack, make_parley, database_url, monkeypatch, caplog, capsys):
    parley = make_parley()
    ana = stack.x.add_user("ana_dev", "Ana Díaz")
    stack.x.add_tweet(ana, "@acme first")
    poisoned = stack.x.add_tweet(ana, f"@acme cannot be stored {SECRET}")
    stack.x.add_tweet(ana, "@acme third")
    real_add = ingest_rows.add_message

    def failing_add(session, conversation, record, triage, now):
        if record.external_id == poisoned:
            raise ValueError(f"forced storage failure for {record.text}")
        return real_add(session, conversation, record, triage, now)

    monkeypatch.setattr(ingest_rows, "add_message", failing_add)
    caplog.set_level(logging.INFO)
    parley.poll_all()
    parley.poll_all()

    assert count(parley, Message) == 2
    assert _cursor(parley, "x:mentions") is not None  # the stream moved on past the poisoned item
    rows = quarantine.pending(parley.store)
    assert [(r.external_id, r.error, r.stream) for r in rows] == [(poisoned, "ValueError", "x:mentions")]
    reports = [r for r in caplog.records if r.name == "bot.store.quarantine"]
    assert len(reports) == 1 and poisoned in reports[0].getMessage()
    _assert_no_customer_text_logged(caplog)

    for name, value in stack_env(stack, database_url).items():
        monkeypatch.setenv(name, value)
    assert main(["quarantine", "list"], build=build) == 0
    listed = capsys.readouterr().out
    assert poisoned in listed and SECRET not in listed
    assert main(["quarantine", "retry", "--all"], build=build) == 1  # still broken: stays quarantined
    assert quarantine.pending(parley.store)[0].attempts == 2

    monkeypatch.setattr(ingest_rows, "add_message", real_add)  # fixed
    assert main(["quarantine", "retry", str(rows[0].id)], build=build) == 0
    assert main(["quarantine", "retry", str(rows[0].id)], build=build) == 0  # twice: stored once
    assert count(parley, Message) == 3 and quarantine.pending(parley.store) == []
    run_until(parley, lambda: undelivered(parley) == 0)
    cards = [p for p in stack.slack.posts(CHANNEL) if p.thread_ts is None or SECRET in p.text]
    assert sum(SECRET in c.text for c in cards) == 1
