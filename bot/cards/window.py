"""The reply-window line of a card: how long the network still lets us answer this case."""

from __future__ import annotations

from datetime import datetime

from bot.cards.blocks import utc as _utc
from bot.cards.mrkdwn import human_duration
from bot.store.models import Conversation, Status
from connectors.registry import shipped_rules


def window_label(conversation: Conversation, now: datetime) -> str | None:
    """The network's reply window still open on an unresolved case ("Instagram 24-hour messaging
    window: 5h left"), or the last one closed and what that means; None where the network declares
    none (its `Rules.windows`, measured from the customer's latest message as the reminders are)."""
    rules = shipped_rules(conversation.platform)
    wrote = _utc(conversation.last_customer_message_at)
    if rules is None or wrote is None or conversation.status == Status.RESOLVED:
        return None
    windows = rules.windows_for(conversation.kind)
    for window in windows:
        left = (wrote + window.length - _utc(now)).total_seconds()
        if left > 0:
            return f"⏳ {window.label}: {human_duration(left)} left"
    return f"⛔ {windows[-1].label} closed: {windows[-1].after}" if windows else None
