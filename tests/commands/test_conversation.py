"""What people type after `/social`: references, people, Slack markup, template names,
and the search words (snooze times: tests/commands/test_snooze.py) — pure functions, no Slack and no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.replies.templates import normalise_name
from bot.store.search import fts5_query, tokens, tsquery
from commands.case_state import parse_assignee
from commands.context import UserError, echo, slack_to_plain, split_ref

NOW = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)


@pytest.mark.parametrize(("args", "expected"), [
    ("#12 Thanks!", (12, "Thanks!")),
    ("12   two  words ", (12, "two  words")),
    ("#7", (7, "")),
    ("#3\nline one\nline two", (3, "line one\nline two")),
])
def test_split_ref_takes_the_reference_and_keeps_the_rest(args, expected):
    assert split_ref(args, "reply #N <text>") == expected


@pytest.mark.parametrize("args", ["", "twelve", "#", "#-1", "#12a hello"])
def test_split_ref_refuses_anything_but_a_reference(args):
    with pytest.raises(UserError, match="conversation reference like `#12`"):
        split_ref(args, "reply #N <text>")


@pytest.mark.parametrize(("token", "expected"), [
    ("me", "U0ME"), ("ME", "U0ME"), ("<@U0DANA|dana>", "U0DANA"), ("<@W0ENT>", "W0ENT"), ("U0BARE", "U0BARE"),
])
def test_parse_assignee_accepts_me_mentions_and_ids(token, expected):
    assert parse_assignee(token, "U0ME") == expected


@pytest.mark.parametrize("token", ["", "bob", "@bob", "<#C123|general>", "<!here>", "u0lower"])
def test_parse_assignee_refuses_what_is_not_a_person(token):
    with pytest.raises(UserError, match="`me`"):
        parse_assignee(token, "U0ME")


@pytest.mark.parametrize(("slack", "plain"), [
    ("Q&amp;A &lt;3 &gt;", "Q&A <3 >"),
    ("see <https://acme.com/help|acme.com/help> now", "see https://acme.com/help now"),
    ("<https://acme.com>", "https://acme.com"),
    ("<mailto:help@acme.com|help@acme.com>", "help@acme.com"),
    ("<@U123|dana> and <@U9>", "@dana and @U9"),
    ("<!here> <#C1|support> <!subteam^S1|@team>", "@here #support @team"),
    ("plain text, no markup", "plain text, no markup"),
])
def test_slack_to_plain_undoes_slack_markup(slack, plain):
    assert slack_to_plain(slack) == plain


def test_echo_shows_text_as_typed_without_forming_links():
    assert echo("<@U1|bob> &lt;b&gt;") == "@bob &lt;b&gt;"


@pytest.mark.parametrize(("name", "stored"), [("Thanks", "thanks"), (" late-2_x ", "late-2_x"), ("a" * 64, "a" * 64)])
def test_template_names_are_stored_lower_case(name, stored):
    assert normalise_name(name) == stored


@pytest.mark.parametrize("name", ["", "two words", "bad!", "a" * 65, "ñandú"])
def test_template_names_are_letters_digits_dash_underscore(name):
    with pytest.raises(ValueError, match="template name"):
        normalise_name(name)


def test_search_words_become_tokens_with_no_query_syntax_left():
    assert tokens("order#100_5") == ["order", "100", "5"]
    assert tokens("devolución") == ["devolución"]
    assert tokens('%_\\" OR * NEAR(:') == ["OR", "NEAR"]  # quoted below: words, never operators
    assert tokens("!!!") == []
    assert fts5_query(["OR", "x"]) == '"OR"* AND "x"*'
    assert tsquery(["OR", "x"]) == "'OR':* & 'x':*"
