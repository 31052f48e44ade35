"""Who is waiting, since when: the conversation columns the SLA clock (bot/sla/) reads.

Every change of a case goes through these few functions (ingest, replies, snooze, resolve, reopen),
so the clock's inputs mean the same thing everywhere:
- `waiting_since`: when the customer's current unanswered wait began; None when nobody waits on us.
- a snooze pauses the clock; the business time it lasted is added to `sla_paused_seconds` when it
  ends, so a wait's elapsed time is business time since `waiting_since` minus paused time.

`PauseMeter(start, end)` returns the business seconds between two instants (the configured business
hours' `business_seconds`); the default counts calendar seconds (24/7).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.store.models import Conversation

PauseMeter = Callable[[datetime, datetime], float]


def calendar_seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())


def customer_wrote(conversation: Conversation, at: datetime) -> None:
    """A customer message written at `at`: start a wait, or move an open wait earlier (a late poll)."""
    answered_later = conversation.last_response_at is not None and conversation.last_response_at >= at
    if answered_later:
        return  # we replied after this message was written; it is not waiting
    if conversation.waiting_since is None:
        conversation.waiting_since = at
        conversation.sla_paused_seconds = 0.0
    elif at < conversation.waiting_since:
        conversation.waiting_since = at


def answered(conversation: Conversation) -> None:
    """A reply reached the customer, or the case was resolved: the wait (and any pause) is over."""
    conversation.waiting_since = None
    conversation.sla_paused_since = None
    conversation.sla_paused_seconds = 0.0


def pause(conversation: Conversation, now: datetime) -> None:
    if conversation.sla_paused_since is None:
        conversation.sla_paused_since = now


def resume(conversation: Conversation, now: datetime, meter: PauseMeter = calendar_seconds) -> None:
    """End a pause in progress, keeping its business time out of the wait."""
    if conversation.sla_paused_since is None:
        return
    if conversation.waiting_since is not None:
        start = max(conversation.sla_paused_since, conversation.waiting_since)
        conversation.sla_paused_seconds = (conversation.sla_paused_seconds or 0.0) + meter(start, now)
    conversation.sla_paused_since = None
