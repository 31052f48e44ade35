"""CSAT wording on the card and in the thread (bot/cards/csat.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.cards.csat import card_line, rating_line
from bot.store.models import Conversation

T = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def test_the_thread_line_names_the_customer_escaped():
    assert rating_line(4, "ana") == "⭐ 4/5 from @ana"
    assert rating_line(2, "Ana <Ruiz>", handle_prefix="") == "⭐ 2/5 from Ana &lt;Ruiz&gt;"


def test_the_card_line_shows_the_score_or_that_it_waits():
    conversation = Conversation(platform="facebook", kind="messenger", thread_key="1", customer_id=1, channel="C1")
    assert card_line(conversation) is None  # never asked: no line
    conversation.csat_asked_at = T
    assert card_line(conversation) == "Customer rating asked · no answer yet"
    conversation.csat_score, conversation.csat_at = 4, T
    assert card_line(conversation) == "Customer rating ⭐⭐⭐⭐ 4/5"
