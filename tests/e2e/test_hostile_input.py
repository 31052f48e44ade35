"""The hostile corpus (tests/data/hostile.py) heard through every real connector path — X mentions
and DMs (tweepy), Facebook comments and Messenger (facebook-sdk), the signed webhook — and mirrored
into the Slack emulator, on SQLite and PostgreSQL.

Asserted on what the emulators recorded: each message is stored exactly once (or quarantined and
listed), no Slack call carries a customer's mass mention, user/channel mention or mrkdwn link
unescaped, no card links to a customer-supplied URL, and nothing at all is written to X or
the Graph API (ingest only reads).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from itertools import cycle

import pytest
import requests
from sqlmodel import select

from bot.store import quarantine
from bot.store.models import Message
from sandbox.demo.seed import messenger_webhook, signed
from sandbox.emulators.stack import FACEBOOK_APP_SECRET, EmulatorStack
from tests.data.hostile import EVIL_HOST, MASS_MENTIONS, NAMES, TEXTS
from tests.e2e.conftest import run_until, undelivered
from tests.e2e.slack_requests import (  # noqa: F401  (serve is a fixture)
    mirror_facebook_comment,
    mirror_x_mention,
    serve,
    wait_for,
)

pytestmark = pytest.mark.e2e

# What only customer text could have put into a Slack call: Parley itself never mentions these.
CUSTOMER_ONLY = (*MASS_MENTIONS, "<!subteam^S0STAFF>", "<@W0BOSS", "<#C0SUPPORT>", "<@U0AGENT>")
# A clickable mrkdwn link or mailto built from customer text (`<https://evil.example|…>`).
CUSTOMER_LINK = re.compile(r"<(?:https?://[^>|]*" + re.escape(EVIL_HOST) + r"|mailto:)")
CARD_LINK = re.compile(r"<(https?://[^>|]+)\|(?:Open on|Read the rest on) ")


def marker(channel: str, name: str) -> str:
    """A plain ASCII tag put in front of each hostile text, to find it again in the store."""
    return f"[{channel}:{name}]"


def slack_writes(stack: EmulatorStack) -> list[str]:
    """Every Slack Web API call that shows something to people, as one JSON string each."""
    calls = stack.slack.calls_to(r"/api/(chat\.|views\.|files\.)")
    return [json.dumps(c.args(), ensure_ascii=False) for c in calls]


def platform_writes(stack: EmulatorStack) -> list[str]:
    """Every request that could change anything on X or Facebook (anything but a read)."""
    return [f"{c.method} {c.path}" for c in (*stack.x.calls, *stack.graph.calls) if c.method != "GET"]


def card_links(stack: EmulatorStack) -> list[str]:
    """The target of every "Open on …" / "Read the rest on …" link on a card Parley posted."""
    return [url for w in slack_writes(stack) for url in CARD_LINK.findall(w)]


def stored_markers(parley) -> list[str]:
    """The marker of every stored message and every quarantined one (a message may be either)."""
    with parley.store.transaction() as session:
        texts = list(session.exec(select(Message.text)).all())
    texts += [f"{row.payload}" for row in quarantine.pending(parley.store)]
    return [m for t in texts for m in re.findall(r"\[\w+:\w+\]", t)]


def seed_everywhere(stack: EmulatorStack) -> list[str]:
    """Every hostile text from a hostile name on X (mention, DM), Facebook (comment, Messenger)."""
    expected: list[str] = []
    names = cycle(NAMES.values())
    start = datetime.now(UTC) - timedelta(minutes=30)
    post = stack.graph.add_post("Our winter sale starts today", created_at=start - timedelta(hours=1))
    for i, (name, text) in enumerate(TEXTS.items()):
        at = start + timedelta(seconds=i)
        who = next(names)
        x_user = stack.x.add_user(f"hostile{i}", who)
        stack.x.add_tweet(x_user, f"@acme {marker('xm', name)} {text}", created_at=at)
        stack.x.add_dm(x_user, f"{marker('xd', name)} {text}", created_at=at)
        stack.graph.add_comment(post, (stack.graph.user(f"visitor {i}"), who),
                                f"{marker('fc', name)} {text}", created_at=at)
        stack.graph.add_messenger_message(f"77700{i:03d}", who, f"{marker('fm', name)} {text}", created_at=at)
        expected += [marker(channel, name) for channel in ("xm", "xd", "fc", "fm")]
    return expected


def assert_nothing_unsafe_in_slack(stack: EmulatorStack) -> None:
    writes = slack_writes(stack)
    assert writes, "nothing reached Slack: the test would prove nothing"
    for needle in CUSTOMER_ONLY:
        assert not [w for w in writes if needle in w], f"{needle} reached Slack unescaped"
    assert not [w for w in writes if CUSTOMER_LINK.search(w)], "a customer link reached Slack as a mrkdwn link"


def test_hostile_texts_and_names_are_stored_once_and_mirrored_safely(stack, make_parley):
    parley = make_parley()
    expected = seed_everywhere(stack)

    run_until(parley, lambda: len(stored_markers(parley)) >= len(expected) and undelivered(parley) == 0,
              timeout=120)
    parley.poll_all()  # another round hears nothing new
    parley.outbox.drain()

    assert sorted(stored_markers(parley)) == sorted(expected)  # each exactly once
    assert_nothing_unsafe_in_slack(stack)
    assert platform_writes(stack) == []


def test_hostile_messenger_texts_by_signed_webhook_and_poll_are_stored_once(stack, serve):  # noqa: F811
    session = serve()
    parley = session.parley
    expected: list[str] = []
    for i, (name, text) in enumerate(TEXTS.items()):
        psid, full = f"88800{i:03d}", f"{marker('wh', name)} {text}"
        mid = stack.graph.add_messenger_message(psid, next(iter(NAMES.values())), full)
        body, signature = signed(messenger_webhook(stack.graph.page_id, psid, mid, full, datetime.now(UTC)),
                                 FACEBOOK_APP_SECRET)
        response = requests.post(f"{session.base_url}/webhooks/facebook", data=body, timeout=10,
                                 headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
        assert response.status_code == 200, (name, response.status_code, response.text[:200])
        expected.append(marker("wh", name))

    run_until(parley, lambda: len(stored_markers(parley)) >= len(expected) and undelivered(parley) == 0,
              timeout=120)
    parley.poll_all()  # polling hears the same messages: still once each
    parley.outbox.drain()

    assert sorted(stored_markers(parley)) == sorted(expected)
    assert_nothing_unsafe_in_slack(stack)
    assert platform_writes(stack) == []


def test_a_visitor_link_share_card_links_to_facebook_not_the_customer_url(stack, serve):  # noqa: F811
    session = serve()
    visitor = stack.graph.user("Link Sharer")
    post_id = stack.graph.add_post("look at this https://evil.example/free-money", by=(visitor, "Link Sharer"))
    created = datetime.now(UTC)
    body, signature = signed({"object": "page", "entry": [{"id": stack.graph.page_id, "time": 0, "changes": [{
        "field": "feed", "value": {
            "item": "link", "verb": "add", "post_id": post_id, "from": {"id": visitor, "name": "Link Sharer"},
            "message": "look at this", "link": "https://evil.example/free-money",
            "created_time": int(created.timestamp())}}]}]}, FACEBOOK_APP_SECRET)
    response = requests.post(f"{session.base_url}/webhooks/facebook", data=body, timeout=10,
                             headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
    assert response.status_code == 200

    run_until(session.parley, lambda: bool(card_links(stack)))
    urls = card_links(stack)
    assert urls and all(re.match(r"https://(www\.)?facebook\.com/", u) for u in urls), urls


def test_a_hostile_display_name_never_reaches_the_public_dm_notice(stack, serve):  # noqa: F811
    session = serve()
    hostile = [NAMES["ceo_fraud"], NAMES["url"]]
    for i, name in enumerate(hostile, start=1):
        conv = mirror_x_mention(stack, session.parley, f"@acme help me {i}", username=f"victim{i}", name=name)
        assert session.command(f"private #{conv.ref} Could you DM us your order number?").status_code == 200
        wait_for(lambda i=i: len(stack.x.created_tweets) == i, what="the public DM notice")

    notices = [tweet["text"] for tweet in stack.x.created_tweets]
    assert len(stack.x.sent_dms) == len(hostile)
    assert not [n for n in notices if "@acme_ceo" in n or EVIL_HOST in n], notices


@pytest.mark.parametrize("invisible", [TEXTS["invisible_only"], "\u200b", "\u2800 \u3164", "\u2060\ufeff"])
def test_an_invisible_only_reply_is_refused_and_posts_nothing(stack, serve, invisible):  # noqa: F811
    session = serve()
    tweet_case = mirror_x_mention(stack, session.parley)
    comment_case = mirror_facebook_comment(stack, session.parley)

    assert session.command(f"reply #{tweet_case.ref} {invisible}").status_code == 200
    assert session.command(f"reply #{comment_case.ref} {invisible}").status_code == 200
    answers = session.responses(2)
    # A visible reply afterwards goes out: had the blank ones been sent, they would be before it.
    assert session.command(f"reply #{tweet_case.ref} A visible answer").status_code == 200
    assert session.command(f"reply #{comment_case.ref} A visible answer").status_code == 200
    wait_for(lambda: len(stack.x.created_tweets) >= 1 and len(stack.graph.comment_replies) >= 1,
             what="the visible replies")

    assert [t["text"].endswith("A visible answer") for t in stack.x.created_tweets] == [True]
    assert len(stack.graph.comment_replies) == 1
    # Each blank reply got its own answer, and it does not say a reply was sent.
    assert [a["response_type"] for a in answers] == ["ephemeral", "ephemeral"]
    assert not [a for a in answers if "public reply" in a["text"]], answers
