"""`/social queue|mine|find|customer` as signed requests through the HTTP endpoint, on SQLite and
PostgreSQL: which conversations each lists, and in what order."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from bot import ids
from tests.e2e.conftest import CHANNEL
from tests.e2e.slack_requests import (  # noqa: F401  (serve is a fixture)
    mirror_facebook_comment,
    mirror_x_mention,
    serve,
)

pytestmark = pytest.mark.e2e

_REF = re.compile(r"\*#(\d+)\*")


def listed(answer: dict) -> list[int]:
    """The #N of each row of a list answer, in the order shown."""
    rows = [b["text"]["text"] for b in answer["blocks"] if b.get("block_id", "").startswith("parley.list.rows")]
    return [int(n) for n in _REF.findall("\n".join(rows))]


class Asker:
    """Sends `/social …` and returns the matching ephemeral answer."""

    def __init__(self, slack) -> None:
        self.slack, self.n = slack, 0

    def __call__(self, text: str, **kw) -> dict:
        assert self.slack.command(text, **kw).status_code == 200
        self.n += 1
        answer = self.slack.responses(self.n)[self.n - 1]
        assert answer["response_type"] == "ephemeral"
        return answer


def test_queue_lists_open_cases_oldest_wait_first_and_mine_lists_my_unresolved_ones(stack, serve):  # noqa: F811
    slack = serve()
    parley = slack.parley
    ask = Asker(slack)
    # Polled oldest first (the mentions timeline is read forwards); refs follow.
    walter = mirror_x_mention(stack, parley, "@acme where is my refund for order 100_5?", username="walter",
                              name="Walter Skinner", age=timedelta(minutes=50))
    kim = mirror_x_mention(stack, parley, "@acme the app crashes on login", username="kim", name="Kim",
                           age=timedelta(minutes=20))
    dana = mirror_x_mention(stack, parley, age=timedelta(minutes=5))
    sleepy = mirror_x_mention(stack, parley, "@acme any news?", username="sleepy", name="Sleepy",
                              age=timedelta(minutes=4))
    done = mirror_x_mention(stack, parley, "@acme thanks, all good", username="happy", name="Happy",
                            age=timedelta(minutes=3))

    ask(f"snooze #{sleepy.ref} 2h")
    ask(f"resolve #{done.ref}")
    ask(f"resolve #{walter.ref}")
    ask(f"reopen #{walter.ref}")  # reopened by staff: it waits on us from now, so it goes last
    queue = ask("queue")

    assert listed(queue) == [kim.ref, dana.ref, walter.ref]
    assert "1 snoozed not shown" in json.dumps(queue["blocks"])
    assert "waiting" in json.dumps(queue["blocks"])  # the age of each wait

    ask(f"assign #{kim.ref} me")
    ask(f"assign #{sleepy.ref} me")
    ask(f"assign #{done.ref} me")  # resolved: not "mine" any more
    ask(f"assign #{dana.ref} <@U0OTHER|other>")
    mine = ask("mine")
    theirs = ask("mine", user="U0OTHER")
    nobody = ask("mine", user="U0NOBODY")

    assert listed(mine) == [kim.ref, sleepy.ref]
    assert listed(theirs) == [dana.ref]
    assert listed(nobody) == [] and "Nothing is assigned to you" in json.dumps(nobody["blocks"])


def test_find_searches_text_and_handles_case_insensitively_with_literal_wildcards(stack, serve):  # noqa: F811
    slack = serve()
    parley = slack.parley
    ask = Asker(slack)
    walter = mirror_x_mention(stack, parley, "@acme where is my REFUND for order 100_5?", username="walter",
                              name="Walter Skinner", age=timedelta(minutes=50))
    kim = mirror_x_mention(stack, parley, "@acme the app crashes on login", username="kim", name="Kim",
                           age=timedelta(minutes=20))
    dana = mirror_x_mention(stack, parley, age=timedelta(minutes=5))
    ask(f"note #{kim.ref} Escalated to the mobile team")

    assert listed(ask("find refund")) == [walter.ref]
    assert listed(ask("find Order")) == [dana.ref, walter.ref]  # newest first
    assert listed(ask("find order dana")) == [dana.ref]  # every word must match
    assert listed(ask("find @walter")) == [walter.ref]
    assert listed(ask("find skinner")) == [walter.ref]  # the customer's name
    assert listed(ask("find mobile team")) == [kim.ref]  # notes are searched too
    assert listed(ask("find 100_5")) == [walter.ref]
    assert listed(ask("find r_fund")) == []  # "_" is a character, not a wildcard
    nothing = ask("find %")
    assert listed(nothing) == [] and "No conversation mentions" in json.dumps(nothing["blocks"])
    assert "Find what?" in ask("find")["text"]


def test_customer_shows_one_persons_history_across_platforms(stack, serve):  # noqa: F811
    slack = serve()
    parley = slack.parley
    ask = Asker(slack)
    on_x = mirror_x_mention(stack, parley, username="dana", name="Dana Scully")
    on_facebook = mirror_facebook_comment(stack, parley, "Still no refund", name="Dana Scully")
    other = mirror_x_mention(stack, parley, "@acme hello", username="walter", name="Walter Skinner")

    by_handle = ask("customer @dana")
    by_name = ask("customer dana scully")
    unknown = ask("customer @nobody")
    missing = ask("customer")

    assert sorted(listed(by_handle)) == sorted([on_x.ref, on_facebook.ref])
    assert other.ref not in listed(by_handle)
    head = json.dumps(by_handle["blocks"], ensure_ascii=False)
    assert "@dana" in head and "Facebook" in head
    assert sorted(listed(by_name)) == sorted([on_x.ref, on_facebook.ref])
    # each account with its own profile; the cross-network match is said to be by name only
    assert "Dana Scully (@dana) on X — 1 case · also open: #" in head and "120 followers" in head
    assert "matched by display name only" in head
    assert "No customer is called `@nobody`" in unknown["text"] and "/social find nobody" in unknown["text"]
    assert "Which customer?" in missing["text"]


def test_the_card_shows_the_customers_profile(stack, serve):  # noqa: F811
    slack = serve()
    first = mirror_x_mention(stack, slack.parley, "@acme my order is late", username="dana")
    second = mirror_x_mention(stack, slack.parley, "@acme and the app crashes", username="dana")

    def profile_of(conversation) -> str:
        [card] = stack.slack.thread(CHANNEL, conversation.slack_ts)[:1]
        [block] = [b for b in card.blocks if b.get("block_id") == ids.BLOCK_CARD_PROFILE]
        return block["elements"][0]["text"]

    assert profile_of(first).startswith("🧾 first case on X")
    assert profile_of(second).startswith(f"🧾 1 earlier case on X · also open: #{first.ref} · tone ")
    assert profile_of(second).endswith("· 120 followers")
