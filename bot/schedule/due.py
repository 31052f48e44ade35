"""Which reminders are due for one conversation at `now`: pure, no database, no Slack.

SLA thresholds come from the clock (bot/sla/): warning → breach → escalation. Each is keyed once per
conversation and waiting period; a conversation found past several at once (after downtime) is due
only its highest, and the lower ones are claimed silently so no stale warning follows.

Platform windows are a network's reply deadlines on an unanswered conversation, declared by its
connector (`Rules.windows`, e.g. Messenger's 24 hours and 7 days in connectors/facebook/rules.py).
A reminder is due once per window, when less than its lead time remains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.sla import SlaState, SlaStatus
from connectors.base import Window
from connectors.registry import shipped_rules

__all__ = ["BREACH", "ESCALATION", "THRESHOLDS", "WARNING", "Due", "Window", "sla_due", "sla_key", "window_due",
           "window_key", "windows_for"]

WARNING, BREACH, ESCALATION = "warning", "breach", "escalation"
THRESHOLDS = (WARNING, BREACH, ESCALATION)  # lowest first
_LEVEL = {SlaState.WARNING: 1, SlaState.BREACHED: 2, SlaState.ESCALATED: 3}


@dataclass(frozen=True)
class Due:
    """A reminder due for one conversation: `what` is a threshold or a window name, `key` the claim
    that makes it fire once, `silent` lower thresholds to claim without a message."""

    conversation_id: int
    channel: str
    what: str
    key: str
    silent: tuple[str, ...] = ()
    window: Window | None = None
    closes_at: datetime | None = None


def sla_key(conversation_id: int, threshold: str, period: str) -> str:
    return f"sla:{conversation_id}:{threshold}:{period}"


def window_key(conversation_id: int, window: Window, closes_at: datetime) -> str:
    # Keyed by when it closes, i.e. by the customer message it is measured from: a follow-up opens a
    # new window (and a new reminder); an answered-then-reopened case always has a new message.
    return f"window:{conversation_id}:{window.name}:{int(closes_at.timestamp())}"


def sla_due(conversation_id: int, channel: str, status: SlaStatus) -> Due | None:
    """The highest SLA threshold this running clock has crossed, or None (not running, or OK)."""
    level = _LEVEL.get(status.state, 0)
    if level == 0 or status.period is None:
        return None
    crossed = [sla_key(conversation_id, t, status.period) for t in THRESHOLDS[:level]]
    return Due(conversation_id, channel, THRESHOLDS[level - 1], crossed[-1], silent=tuple(crossed[:-1]))


def windows_for(platform: str, kind: str) -> tuple[Window, ...]:
    """The reply windows a shipped network declares for this kind of conversation (none if unknown)."""
    rules = shipped_rules(platform)
    return rules.windows_for(kind) if rules is not None else ()


WindowLookup = Callable[[str, str], tuple[Window, ...]]


def window_due(conversation_id: int, channel: str, platform: str, kind: str, customer_wrote_at: datetime,
               now: datetime, leads: Mapping[str, timedelta] | None = None,
               windows: WindowLookup = windows_for) -> Due | None:
    """The window about to close (less than its lead left, not yet closed), or None. A window that
    closed unseen (downtime) is not announced: nothing can be done about it any more. `windows` looks
    up a network's windows (a registry's `rules(p).windows_for` for networks beyond the shipped ones)."""
    for window in windows(platform, kind):
        closes_at = customer_wrote_at + window.length
        lead = (leads or {}).get(window.name, window.lead)
        if closes_at - lead <= now < closes_at:
            return Due(conversation_id, channel, window.name, window_key(conversation_id, window, closes_at),
                       window=window, closes_at=closes_at)
    return None
