"""CSAT wording: the thread line when a customer rates us, and the card's score line. Pure."""

from __future__ import annotations

from bot.cards.mrkdwn import clip
from bot.store.models import Conversation


def stars(score: int) -> str:
    return "⭐" * max(0, min(score, 5))


def rating_line(score: int, who: str, *, handle_prefix: str = "@") -> str:
    """"⭐ 4/5 from @ana": the thread line for a customer's answer (`who` is customer data: escaped)."""
    name = clip(who, 60) if who else "the customer"  # clip escapes
    return f"⭐ {score}/5 from {handle_prefix if who else ''}{name}"


def card_line(conversation: Conversation) -> str | None:
    """The card's CSAT line: the score given, or that the question is waiting; None if never asked."""
    if conversation.csat_score is not None:
        return f"Customer rating {stars(conversation.csat_score)} {conversation.csat_score}/5"
    if conversation.csat_asked_at is not None:
        return "Customer rating asked · no answer yet"
    return None
