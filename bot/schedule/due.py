"""Which reminders are due for one conversation at `now`: pure, no database, no Slack.

SLA thresholds come from the clock (bot/sla/): warning → breach → escalation. Each is keyed once per
conversation and waiting period; a conversation found past several at once (after downtime) is due
only its highest, and the lower ones are claimed silently so no stale warning follows.

Platform windows are Facebook's reply deadlines on an unanswered conversation:
- Messenger: the standard 24-hour window after the customer's last message; after it only replies
  tagged HUMAN_AGENT, up to 7 days; after that nothing until the customer writes again.
- A Facebook comment or visitor post: a private reply (Messenger) within 7 days of the comment.
A reminder is due once per window, when less than its lead time remains.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.replies.rules import HUMAN_AGENT_WINDOW, MESSENGER_WINDOW, PRIVATE_REPLY_WINDOW
from bot.sla import SlaState, SlaStatus
from connectors.base import Kind, Platform

WARNING, BREACH, ESCALATION = "warning", "breach", "escalation"
THRESHOLDS = (WARNING, BREACH, ESCALATION)  # lowest first
_LEVEL = {SlaState.WARNING: 1, SlaState.BREACHED: 2, SlaState.ESCALATED: 3}


@dataclass(frozen=True)
class Window:
    """One platform reply deadline: closes `length` after the customer's message."""

    name: str  # in claim keys
    label: str  # "Messenger 24-hour window"
    length: timedelta
    lead: timedelta  # remind when less than this remains
    after: str  # what happens once it has closed (plain words)


MESSENGER_24H = Window("messenger_24h", "Messenger 24-hour window", MESSENGER_WINDOW, timedelta(hours=2),
                       "only replies tagged HUMAN_AGENT are allowed, "
                       "up to 7 days after the customer's message")
MESSENGER_7D = Window("messenger_human_agent", "Messenger 7-day human-agent window", HUMAN_AGENT_WINDOW,
                      timedelta(hours=24), "Facebook allows no reply at all until the customer writes again")
PRIVATE_REPLY_7D = Window("fb_private_reply", "Facebook 7-day private-reply window", PRIVATE_REPLY_WINDOW,
                          timedelta(hours=24), "only a public reply under the comment is possible")
WINDOWS = (MESSENGER_24H, MESSENGER_7D, PRIVATE_REPLY_7D)


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
    if platform != Platform.FACEBOOK:
        return ()
    if kind == Kind.MESSENGER:
        return (MESSENGER_24H, MESSENGER_7D)
    if kind in (Kind.COMMENT, Kind.VISITOR_POST):
        return (PRIVATE_REPLY_7D,)
    return ()


def window_due(conversation_id: int, channel: str, platform: str, kind: str, customer_wrote_at: datetime,
               now: datetime, leads: Mapping[str, timedelta] | None = None) -> Due | None:
    """The window about to close (less than its lead left, not yet closed), or None. A window that
    closed unseen (downtime) is not announced: nothing can be done about it any more."""
    for window in windows_for(platform, kind):
        closes_at = customer_wrote_at + window.length
        lead = (leads or {}).get(window.name, window.lead)
        if closes_at - lead <= now < closes_at:
            return Due(conversation_id, channel, window.name, window_key(conversation_id, window, closes_at),
                       window=window, closes_at=closes_at)
    return None
