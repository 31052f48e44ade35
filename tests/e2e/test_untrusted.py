"""Untrusted customer data and hostile staff input through the real HTTP endpoint (issue 9): nothing
public is built from a display name, an invisible reply is refused, on SQLite and PostgreSQL. The
emulators record what reached X and Facebook."""

from __future__ import annotations

import json
import logging
import re
import threading
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot import ids
from bot.ids import BLOCK_CARD_LINK as CARD_LINK
from bot.store.models import Message
from commands import reply as reply_commands
from commands import reply_modal
from commands.social import SUBCOMMANDS
from connectors.base import Author, Batch, InboundMessage, Kind, Platform
from sandbox.demo.seed import signed
from sandbox.emulators.stack import FACEBOOK_APP_SECRET
from tests.e2e.conftest import count, run_until
from tests.e2e.slack_requests import (  # noqa: F401  (serve is a fixture)
    _mirrored,
    mirror_facebook_comment,
    mirror_x_mention,
    serve,
    wait_for,
)

pytestmark = pytest.mark.e2e

HOSTILE_NAMES = ["@acme_ceo is a fraud", "https://evil.example/free-money"]
INVISIBLE = ["\u200b", "\u2800", "\u3164", "\u2060", "\u200b\u2060 \u2800\ufe0f\u3164"]


def ask(slack, text: str, n: int) -> str:
    assert slack.command(text).status_code == 200
    answer = slack.responses(n)[n - 1]
    assert answer["response_type"] == "ephemeral"
    return answer["text"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_display_name_never_reaches_the_public_dm_notice(stack, serve, name):  # noqa: F811
    slack = serve()
    conv = mirror_x_mention(stack, slack.parley, username="real_dana", name=name)

    ask(slack, f"private #{conv.ref} Could you DM us your order number?", 1)
    wait_for(lambda: len(stack.x.created_tweets) == 1, what="the public notice")

    [nudge] = stack.x.created_tweets
    assert nudge["text"].endswith("Hi @real_dana, we've sent you a DM 📩")
    for tweet in stack.x.created_tweets:
        assert "acme_ceo" not in tweet["text"] and "evil.example" not in tweet["text"]
        assert "fraud" not in tweet["text"]


@pytest.mark.parametrize("blank", INVISIBLE)
@pytest.mark.parametrize("command", ["reply", "private"])
def test_an_invisible_reply_on_x_is_refused_and_nothing_is_sent(stack, serve, blank, command):  # noqa: F811
    slack = serve()
    conv = mirror_x_mention(stack, slack.parley)

    said = ask(slack, f"{command} #{conv.ref} {blank}", 1)

    assert "invisible characters" in said
    assert stack.x.created_tweets == [] and stack.x.sent_dms == []


@pytest.mark.parametrize("blank", INVISIBLE)
def test_an_invisible_reply_on_facebook_is_refused_and_nothing_is_sent(stack, serve, blank):  # noqa: F811
    slack = serve()
    conv = mirror_facebook_comment(stack, slack.parley)

    said = ask(slack, f"reply #{conv.ref} {blank}", 1)

    assert "invisible characters" in said
    assert stack.graph.comment_replies == [] and stack.graph.private_replies == []


# --- card links ----------------------------------------------------------------------------------
SHARED = "https://evil.example/free-money"


def _card_link(stack, conversation) -> str:
    """The "Open on …" line of the case's card as Parley posted it."""
    posted = [c.args() for c in stack.slack.calls_to(r"chat\.postMessage")]
    [card] = [args for args in posted if CARD_LINK in json.dumps(args.get("blocks") or args.get("attachments"))
              and args.get("thread_ts") is None]
    blocks = card.get("blocks") or card["attachments"][0]["blocks"]
    return next(b for b in blocks if b.get("block_id") == CARD_LINK)["elements"][0]["text"]


def test_a_polled_facebook_link_share_links_to_the_post_not_the_shared_url(stack, serve):  # noqa: F811
    slack = serve()
    post_id = stack.graph.add_post("Read this about you", by=(stack.graph.user("Ana Ruiz"), "Ana Ruiz"),
                                   link=SHARED)
    conv = _mirrored(slack.parley, "facebook", post_id)

    link = _card_link(stack, conv)
    assert link == f"<https://www.facebook.com/{stack.graph.page_id}/posts/{post_id.split('_')[1]}|Open on Facebook>"
    assert "evil.example" not in link


def test_a_facebook_link_share_webhook_links_to_the_post_not_the_shared_url(stack, serve):  # noqa: F811
    slack = serve()
    parley = slack.parley
    post_id = stack.graph.add_post("Read this about you", by=(stack.graph.user("Ana Ruiz"), "Ana Ruiz"),
                                   link=SHARED)
    body, signature = signed(stack.graph.feed_webhook(post_id), FACEBOOK_APP_SECRET)
    response = requests.post(f"{slack.base_url}/webhooks/facebook", data=body, timeout=10, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": signature})
    assert response.status_code == 200
    wait_for(lambda: count(parley, Message) == 1, what="the stored link share")
    with parley.store.transaction() as session:
        stored = session.exec(select(Message)).one()
    assert stored.url == f"https://www.facebook.com/{stack.graph.page_id}/posts/{post_id.split('_')[1]}"
    run_until(parley, lambda: bool(stack.slack.calls_to(r"chat\.postMessage")))  # the card, from the webhook's row

    assert "evil.example" not in _card_link(stack, stored)


# --- every agent gets an answer ------------------------------------------------------------------
def _error_id(text: str) -> str:
    match = re.search(r"error id `(E-[0-9A-F]{8})`", text)
    assert match, text
    return match.group(1)


def _logged_with_traceback(caplog, error_id: str) -> None:
    [record] = [r for r in caplog.records if error_id in r.getMessage()]
    assert record.exc_info is not None and record.levelno == logging.ERROR


def test_an_unexpected_error_in_a_subcommand_gets_an_answer_with_an_error_id_in_the_log(stack, serve,  # noqa: F811
        monkeypatch, caplog):
    def boom(parley, invocation, respond):
        raise RuntimeError("injected")

    monkeypatch.setitem(SUBCOMMANDS, "queue", replace(SUBCOMMANDS["queue"], run=boom))
    slack = serve()

    said = ask(slack, "queue", 1)

    assert "Something went wrong with `/social queue`" in said
    _logged_with_traceback(caplog, _error_id(said))


def test_an_unexpected_error_behind_a_button_gets_an_ephemeral_answer(stack, serve, monkeypatch, caplog):  # noqa: F811
    def boom(*args, **kw):
        raise RuntimeError("injected")

    monkeypatch.setattr(reply_commands, "open_reply_modal", boom)
    slack = serve()
    conv = mirror_x_mention(stack, slack.parley)

    assert slack.click(ids.ACTION_REPLY, str(conv.id)).status_code == 200

    [answer] = slack.responses(1)
    assert answer["response_type"] == "ephemeral" and "that button" in answer["text"]
    _logged_with_traceback(caplog, _error_id(answer["text"]))


def test_an_unexpected_error_when_a_modal_is_submitted_shows_what_failed_in_the_modal(stack, serve,  # noqa: F811
        monkeypatch, caplog):
    def boom(*args, **kw):
        raise RuntimeError("injected")

    slack = serve()
    conv = mirror_x_mention(stack, slack.parley)
    assert slack.click(ids.ACTION_REPLY, str(conv.id)).status_code == 200
    wait_for(lambda: stack.slack.calls_to(r"views\.open"), what="views.open")
    view = stack.slack.calls_to(r"views\.open")[-1].args()["view"]
    view = json.loads(view) if isinstance(view, str) else view
    monkeypatch.setattr(reply_modal, "store_reply", boom)

    response = slack.submit_view(view, {ids.modal_text_block(0): {ids.ACTION_MODAL_TEXT: {
        "type": "plain_text_input", "value": "So sorry"}}})

    assert response.status_code == 200
    shown = response.json()
    assert shown["response_action"] == "update"
    _logged_with_traceback(caplog, _error_id(json.dumps(shown["view"])))
    assert stack.x.created_tweets == []


@pytest.mark.parametrize(("command", "words"), [
    ("snooze #{ref} 0m", "at least a minute"),
    ("snooze #{ref} 99999999999999999999m", "at most 90 days"),
    ("snooze #{ref} 1e5m", "not a snooze time"),
    ("find " + " ".join(["refund"] * 1000), "at most 20 words"),
    ("find " + "x" * 300, "200 characters"),
    ("note #99999999999 hello", "not a conversation reference"),
])
def test_malformed_commands_get_a_specific_message(stack, serve, command, words, caplog):  # noqa: F811
    slack = serve()
    conv = mirror_x_mention(stack, slack.parley)

    said = ask(slack, command.format(ref=conv.ref), 1)

    assert words in said
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("fault", ["database or disk is full", "attempt to write a readonly database",
                                   "database is locked"])
@pytest.mark.parametrize("command", ["note #{ref} Refund approved", "reply #{ref} So sorry"])
def test_reply_or_note_while_the_database_fails_gets_could_not_store(stack, serve,  # noqa: F811
        monkeypatch, caplog, fault, command):
    slack = serve()
    conv = mirror_x_mention(stack, slack.parley)

    @contextmanager
    def failing(**_options):
        raise OperationalError("INSERT INTO messages …", {}, Exception(fault))
        yield

    monkeypatch.setattr(slack.parley.store, "transaction", failing)
    monkeypatch.setattr(slack.parley.store, "write", failing)  # a reply is stored through this one
    said = ask(slack, command.format(ref=conv.ref), 1)

    assert "could not store or read" in said and "try again" in said
    _logged_with_traceback(caplog, _error_id(said))
    assert stack.x.created_tweets == []


def test_a_note_during_the_ingest_of_maximum_length_posts_is_stored_and_answered(stack, serve):  # noqa: F811
    slack = serve()
    conv = mirror_x_mention(stack, slack.parley)
    text = ("My order never arrived and nobody answers my messages. " * 1200)[:63_206]
    posts = [InboundMessage(platform=Platform.FACEBOOK, kind=Kind.VISITOR_POST, external_id=f"{n}_1",
                            thread_key=f"{n}_1", text=text, author=Author(f"9{n}", "", f"V {n}"),
                            created_at=datetime.now(UTC)) for n in range(6)]
    ingest = threading.Thread(target=lambda: slack.parley.ingestor.ingest(Batch(stream="facebook:feed",
                                                                               messages=posts)))
    ingest.start()
    said = ask(slack, f"note #{conv.ref} Refund approved", 1)
    ingest.join(timeout=60)

    assert said.startswith(f"Noted on #{conv.ref}")
    assert count(slack.parley, Message) == 1 + 6 + 1  # the mention, six posts, the note


# --- escaped exactly once ------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["reply", "private"])
def test_a_name_with_ampersand_or_angle_brackets_is_escaped_once_in_the_acknowledgement(stack, serve,  # noqa: F811
        command):
    slack = serve()
    conv = mirror_facebook_comment(stack, slack.parley, name="Ben & Jerry <3")

    said = ask(slack, f"{command} #{conv.ref} Thanks &amp; sorry", 1)

    assert "Ben &amp; Jerry &lt;3" in said
    assert "&amp;amp;" not in said and "&amp;lt;" not in said
