"""X's 2026 reply rule through signed Slack requests: a post found by a search that neither mentions
nor quotes the brand gets no public reply (no X call; the explanation offers a DM or the x.com
link), taking it private sends the DM alone, and an Enterprise plan (`X_ENTERPRISE`) may reply."""

from __future__ import annotations

import json

import pytest

from bot import ids
from tests.e2e.conftest import CHANNEL
from tests.e2e.slack_requests import mirror_x_mention, serve, wait_for  # noqa: F401  (serve is a fixture)
from tests.e2e.test_reply_modal import open_modal, opened_views, outbound, settle, text_values, view_action
from tests.e2e.test_social_conversation import ask, inbound_id

pytestmark = pytest.mark.e2e

QUERIES = "kettles: kettle -is:retweet"


def mirror_search_hit(stack, parley, text: str = "my new kettle leaks everywhere"):
    """A post the kettles search finds: no @mention of the brand, no quote of its posts."""
    return mirror_x_mention(stack, parley, text)


def test_reply_to_a_search_hit_is_refused_before_any_x_call(stack, serve):  # noqa: F811
    slack = serve(X_SEARCH_QUERIES=QUERIES)
    conv = mirror_search_hit(stack, slack.parley)
    tweet = inbound_id(slack.parley, conv)
    before = len(stack.x.calls_to(r"/2/tweets$"))

    said = ask(slack, f"reply #{conv.ref} So sorry, we'll replace it", 1)

    assert "only lets this app reply publicly to posts that mention the brand" in said
    assert "Take it private" in said and f"https://x.com/intent/post?in_reply_to={tweet}" in said
    assert len(stack.x.calls_to(r"/2/tweets$")) == before  # no POST /2/tweets at all
    settle(slack)
    assert stack.x.created_tweets == [] and stack.x.sent_dms == [] and outbound(slack) == []


def test_the_modal_says_so_and_refuses_a_public_reply_to_a_search_hit(stack, serve):  # noqa: F811
    slack = serve(X_SEARCH_QUERIES=QUERIES)
    conv = mirror_search_hit(stack, slack.parley)

    view = open_modal(slack, stack, conv)
    assert "X won't take a public reply here" in json.dumps(view["blocks"], ensure_ascii=False)
    body = slack.submit_view(view, text_values("So sorry, we'll replace it")).json()

    assert body["response_action"] == "errors"
    assert "Take it private" in json.dumps(body["errors"], ensure_ascii=False)
    settle(slack)
    assert stack.x.created_tweets == [] and stack.x.sent_dms == []


def test_taking_a_search_hit_private_sends_the_dm_without_a_public_notice(stack, serve):  # noqa: F811
    slack = serve(X_SEARCH_QUERIES=QUERIES)
    conv = mirror_search_hit(stack, slack.parley)

    ask(slack, f"private #{conv.ref} Could you DM us your order number?", 1)
    wait_for(lambda: len(stack.x.sent_dms) == 1, what="the DM")
    settle(slack)

    assert [d["text"] for d in stack.x.sent_dms] == ["Could you DM us your order number?"]
    assert stack.x.created_tweets == []  # the "we've sent you a DM" notice is a reply too: X would refuse it


def test_an_enterprise_account_replies_to_a_search_hit(stack, serve):  # noqa: F811
    stack.x.tweet_endpoints.enterprise = True
    slack = serve(X_SEARCH_QUERIES=QUERIES, X_ENTERPRISE="true")
    conv = mirror_search_hit(stack, slack.parley)

    ask(slack, f"reply #{conv.ref} So sorry, we'll replace it", 1)
    wait_for(lambda: len(stack.x.created_tweets) == 1, what="the reply")

    assert stack.x.created_tweets[0]["in_reply_to_tweet_id"] == inbound_id(slack.parley, conv)


def test_the_modal_warns_while_typing_a_reply_with_a_link(stack, serve):  # noqa: F811
    session = serve()
    conv = mirror_x_mention(stack, session.parley)
    view = open_modal(session, stack, conv)
    view_action(session, view, {"action_id": ids.ACTION_MODAL_TEXT, "block_id": ids.BLOCK_MODAL_TEXT,
                                "type": "plain_text_input", "value": "Track it here: https://acme.example/t/1"})
    wait_for(lambda: opened_views(stack, "views.update"), what="views.update")
    [count] = [b for b in opened_views(stack, "views.update")[-1]["blocks"]
               if b.get("block_id") == ids.BLOCK_MODAL_COUNT]
    assert "X bills a post with a URL about 13 times a plain one" in json.dumps(count, ensure_ascii=False)


def test_a_refused_dm_to_a_search_hit_offers_no_public_reply(stack, serve):  # noqa: F811
    slack = serve(X_SEARCH_QUERIES=QUERIES)
    conv = mirror_search_hit(stack, slack.parley)
    carol = next(uid for uid, u in stack.x.users.items() if u.username == "dana")
    stack.x.set_accepts_dms(carol, False)

    ask(slack, f"private #{conv.ref} Could you DM us your order number?", 1)
    wait_for(lambda: [m.delivery_status for m in outbound(slack)] == ["failed"], what="the failed DM")
    settle(slack)

    [dm] = outbound(slack)
    assert "doesn't accept DMs" in (dm.delivery_error or "") and "reply publicly" not in (dm.delivery_error or "")
    assert stack.x.created_tweets == [] and stack.x.sent_dms == []


def _notice(stack, conversation) -> str | None:
    [card] = stack.slack.thread(CHANNEL, conversation.slack_ts)[:1]
    found = [b["elements"][0]["text"] for b in card.blocks if b.get("block_id") == ids.BLOCK_CARD_NOTICE]
    return found[0] if found else None


def test_a_search_hits_card_says_no_public_reply_is_possible_and_what_to_do(stack, serve):  # noqa: F811
    slack = serve(X_SEARCH_QUERIES=QUERIES)
    hit = mirror_search_hit(stack, slack.parley)
    mention = mirror_x_mention(stack, slack.parley, "@acme my kettle leaks", username="erin")

    notice = _notice(stack, hit)
    assert notice is not None and notice.startswith("⛔ No public reply possible: on a self-serve API plan X")
    assert "Take it private" in notice and "reply by hand on x.com" in notice
    assert _notice(stack, mention) is None  # X allows the public reply there


def test_no_card_notice_on_an_enterprise_plan(stack, serve):  # noqa: F811
    slack = serve(X_SEARCH_QUERIES=QUERIES, X_ENTERPRISE="true")
    assert _notice(stack, mirror_search_hit(stack, slack.parley)) is None
