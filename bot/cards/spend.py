"""The managers' warning that a network's spend reached a budget threshold (bot/schedule/spend_watch.py).

Every word about the network (its name, what stopped, the setting to raise) comes from its `Usage`
(connectors/usage.py), so this builder names no network.
"""

from __future__ import annotations

from bot import ids
from bot.cards.blocks import SlackMessage, context, section
from bot.cards.mrkdwn import escape
from connectors.usage import Threshold, Usage


def spend_warning(usage: Usage, threshold: Threshold) -> SlackMessage:
    """"⚠️ X spend reached 80% of the monthly X budget", what was spent, what has stopped or stops
    next, and what to do."""
    mark = "🛑" if usage.stopped else "⚠️"
    head = f"{mark} {usage.network} spend reached {threshold.words}."
    spent = f"Spent {usage.summary()}."
    if usage.stopped:
        still = ", ".join(usage.reading) or "nothing"
        state = f"Stopped now: {', '.join(usage.stopped)}. Still read: {still}. {usage.ahead}"
    else:
        state = f"Nothing has stopped yet. {usage.ahead}"
    fix = f"What to do: {usage.fix}." if usage.fix else ""
    base = ids.BLOCK_SPEND_WARNING
    blocks = [section(f"{base}.head", f"*{escape(head)}*\n{escape(spent)}"),
              context(f"{base}.next", escape(state))]
    if usage.fix:
        blocks.append(section(f"{base}.fix", f"*What to do:* {escape(usage.fix)}."))
    text = " ".join(part for part in (head, spent, state, fix) if part)
    return SlackMessage(text=text, blocks=blocks)
