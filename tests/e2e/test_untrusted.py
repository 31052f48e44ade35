"""Untrusted customer data and hostile staff input through the real HTTP endpoint (issue 9): nothing
public is built from a display name, an invisible reply is refused, on SQLite and PostgreSQL. The
emulators record what reached X and Facebook."""

from __future__ import annotations

import json

import pytest
import requests
from sqlmodel import select

from bot.ids import BLOCK_CARD_LINK as CARD_LINK
from bot.store.models import Message
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
