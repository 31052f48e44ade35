"""The buttons under a conversation card (their action ids are in bot/ids.py)."""

from __future__ import annotations

from bot import ids
from bot.cards.blocks import button
from bot.cards.moderation import hide_button
from bot.store.models import Status


def card_buttons(conversation_id: int, status: str, can_hide: bool, site: str) -> dict:
    """The card's actions block: reply, take private, assign, resolve or reopen, snooze, and hide
    where the network can hide this comment."""
    value = str(conversation_id)
    resolve = (
        button("Reopen", ids.ACTION_REOPEN, value)
        if status == Status.RESOLVED
        else button("Resolve", ids.ACTION_RESOLVE, value, "primary")
    )
    snooze = {
        "type": "static_select",
        "action_id": ids.ACTION_SNOOZE,
        "placeholder": {"type": "plain_text", "text": "Snooze…", "emoji": True},
        "options": [
            {
                "text": {"type": "plain_text", "text": label, "emoji": True},
                "value": ids.snooze_option_value(conversation_id, choice),
            }
            for choice, label in ids.SNOOZE_CHOICES
        ],
    }
    return {
        "type": "actions",
        "block_id": ids.BLOCK_CARD_ACTIONS,
        "elements": [
            button("Reply", ids.ACTION_REPLY, value),
            button("Take private", ids.ACTION_TAKE_PRIVATE, value),
            button("Assign to me", ids.ACTION_ASSIGN_ME, value),
            resolve,
            snooze,
            *([hide_button(value, site)] if can_hide else []),
        ],
    }
