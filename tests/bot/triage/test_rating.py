"""Which customer messages are an answer to the satisfaction question (bot/triage/rating.py)."""

from __future__ import annotations

import pytest

from bot.triage import rating


@pytest.mark.parametrize(("text", "score"), [
    ("4", 4), (" 5 ", 5), ("4/5", 4), ("3 out of 5", 3), ("4 stars", 4), ("5!", 5), ("1 😞", 1), ("5 😍", 5),
    ("⭐⭐⭐", 3), ("⭐️⭐️", 2), ("😐", 3), ("🙂", 4),
])
def test_a_message_that_is_only_a_rating(text: str, score: int) -> None:
    assert rating.from_text(text) == score


@pytest.mark.parametrize("text", ["4 days and still no refund", "thanks!", "6", "10", "0", "😍😍", "⭐⭐⭐⭐⭐⭐",
                                  "", "5 😍 but the courier was late"])
def test_anything_else_is_no_answer(text: str) -> None:
    assert rating.from_text(text) is None


def test_a_tapped_button_counts_by_its_payload_before_its_text() -> None:
    assert rating.score_of("whatever the title says", "CSAT:2") == 2
    assert rating.score_of("4", "SOMETHING_ELSE") == 4  # not our payload: the text decides
    assert rating.from_payload("CSAT:9") is None


def test_the_buttons_fit_messenger_quick_replies() -> None:
    # At most 13 quick replies, titles of at most 20 characters, payloads of at most 1000
    # (https://developers.facebook.com/docs/messenger-platform/reference/buttons/quick-replies).
    assert len(rating.CHOICES) == 5 <= 13
    assert all(len(title) <= 20 and len(payload) <= 1000 for title, payload in rating.CHOICES)
    # A polled conversation shows the tapped title as the message: it reads as the same score.
    assert [rating.from_text(title) for title, _ in rating.CHOICES] == [1, 2, 3, 4, 5]
