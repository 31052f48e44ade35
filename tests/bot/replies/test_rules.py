"""The platform-neutral reply rules: checks every network shares, before its own `Rules.plan`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.replies.rules import Mode, ReplyRefused, plan_reply, visible
from connectors.base import Heard
from connectors.facebook.rules import RULES as FACEBOOK
from connectors.x.rules import RULES as X

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
BLANKS = ["\u200b", "\u2800", "\u3164", "\u2060", "\ufeff", "\u00a0\u3000", "\ufe0f\ufe0e", "\u034f",
          "\u115f\u1160\uffa0", "\u200b \u2060\n\t\u2800"]


@pytest.mark.parametrize("blank", BLANKS)
def test_text_of_invisible_and_blank_characters_is_not_visible(blank: str) -> None:
    assert not visible(blank)


@pytest.mark.parametrize("text", ["ok", "\u200bok", "👍", "\u2800.", "日本", "❤️"])
def test_text_with_anything_to_see_is_visible(text: str) -> None:
    assert visible(text)


@pytest.mark.parametrize("rules", [X, FACEBOOK], ids=["x", "facebook"])
@pytest.mark.parametrize("mode", [Mode.PUBLIC, Mode.PRIVATE])
@pytest.mark.parametrize("blank", BLANKS)
def test_an_invisible_reply_is_refused_on_every_network(rules, mode, blank: str) -> None:
    kind = "mention" if rules is X else "comment"
    with pytest.raises(ReplyRefused, match="There is nothing to send"):
        plan_reply(rules=rules, conversation_kind=kind, thread_key="1", mode=mode, text=f"{blank}",
                   heard=[Heard(kind, "1", NOW)], now=NOW)
