"""Untrusted customer data and hostile staff input through the real HTTP endpoint (issue 9): nothing
public is built from a display name, an invisible reply is refused, on SQLite and PostgreSQL. The
emulators record what reached X and Facebook."""

from __future__ import annotations

import pytest

from tests.e2e.slack_requests import (  # noqa: F401  (serve is a fixture)
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
