"""When Parley asks for a satisfaction rating (bot/replies/survey.py): pure decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config_file import ConfigError
from bot.replies.survey import decide, parse_kinds
from connectors.facebook.rules import RULES as FACEBOOK
from connectors.instagram.rules import RULES as INSTAGRAM
from connectors.x.rules import RULES as X

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
ON = frozenset({"facebook:messenger", "x:dm", "facebook:comment"})


def ask(rules=FACEBOOK, kind="messenger", *, enabled=ON, asked=False, wrote=NOW - timedelta(hours=1)):
    return decide(enabled=enabled, rules=rules, kind=kind, already_asked=asked, customer_wrote_at=wrote, now=NOW)


def test_a_private_conversation_inside_its_window_is_asked() -> None:
    assert ask().ask
    assert ask(X, "dm", wrote=NOW - timedelta(days=20)).ask  # X DMs have no messaging window


def test_never_twice() -> None:
    assert ask(asked=True) == ask(asked=True) and not ask(asked=True).ask
    assert "once" in ask(asked=True).why


@pytest.mark.parametrize(("rules", "kind"), [(FACEBOOK, "comment"), (FACEBOOK, "visitor_post"), (X, "mention"),
                                             (X, "search_hit")])
def test_never_on_a_public_thread_even_when_listed(rules, kind) -> None:
    decision = ask(rules, kind, enabled=ON | {f"{rules.platform}:{kind}"})
    assert not decision.ask and "public" in decision.why


def test_never_outside_the_messaging_window() -> None:
    # Messenger's standard window is 24 hours; the 7-day HUMAN_AGENT window is for people's replies only.
    assert ask(wrote=NOW - timedelta(hours=23, minutes=59)).ask
    late = ask(wrote=NOW - timedelta(hours=24, minutes=1))
    assert not late.ask and "window" in late.why


def test_only_the_kinds_switched_on() -> None:
    assert not ask(enabled=frozenset()).ask
    assert ask(INSTAGRAM, "dm", enabled=frozenset({"instagram:dm"})).ask
    assert not ask(INSTAGRAM, "dm", enabled=frozenset({"x:dm"})).ask  # "x:dm" is X's DMs only
    assert not ask(INSTAGRAM, "dm", enabled=frozenset({"instagram:dm"}), wrote=NOW - timedelta(hours=25)).ask


def test_parley_csat_names_kinds_or_platform_kinds() -> None:
    assert parse_kinds("messenger, x:dm") == {"facebook:messenger", "x:dm"}
    assert parse_kinds("dm") == {"x:dm", "instagram:dm"}
    assert parse_kinds("") == parse_kinds("off") == frozenset()
    with pytest.raises(ConfigError, match="PARLEY_CSAT"):
        parse_kinds("comment")  # a public kind is not a private conversation kind
