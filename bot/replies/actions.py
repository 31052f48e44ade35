"""Case state changes staff make from Slack: assign, unassign, resolve, reopen, snooze.

Each runs in the caller's transaction, changes the conversation, writes an audit entry and queues a
card update. A change that changes nothing (resolving a resolved case, a second click) returns
False and writes nothing, so repeated clicks leave one audit line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from bot.replies.rules import Refused
from bot.sla import waiting
from bot.store import outbox
from bot.store.models import AuditEntry, Conversation, OutboxKind, Status


class ConversationActions:
    def __init__(self, clock: Callable[[], datetime],
                 pause_meter: waiting.PauseMeter = waiting.calendar_seconds) -> None:
        self.clock = clock
        self.pause_meter = pause_meter

    def assign(self, session: Session, conversation: Conversation, assignee: str, *, actor: str) -> bool:
        """Give the case to `assignee` (a Slack user id)."""
        if conversation.assignee == assignee:
            return False
        before = conversation.assignee
        conversation.assignee = assignee
        return self._changed(session, conversation, actor, "assign", f"{before or 'nobody'} → {assignee}")

    def unassign(self, session: Session, conversation: Conversation, *, actor: str) -> bool:
        if conversation.assignee is None:
            return False
        before = conversation.assignee
        conversation.assignee = None
        return self._changed(session, conversation, actor, "unassign", f"was {before}")

    def resolve(self, session: Session, conversation: Conversation, *, actor: str) -> bool:
        """Close the case; a new customer message reopens it (see bot/ingest.py)."""
        if conversation.status == Status.RESOLVED:
            return False
        conversation.status, conversation.resolved_at = Status.RESOLVED, self.clock()
        conversation.snoozed_until = None
        waiting.answered(conversation)  # the SLA clock stops
        return self._changed(session, conversation, actor, "resolve", "")

    def reopen(self, session: Session, conversation: Conversation, *, actor: str) -> bool:
        """Open a resolved or snoozed case again (waiting on us)."""
        if conversation.status == Status.OPEN:
            return False
        now = self.clock()
        if conversation.status == Status.SNOOZED:
            waiting.resume(conversation, now, self.pause_meter)
        elif conversation.waiting_since is None:
            waiting.customer_wrote(conversation, now)  # reopened by staff: it waits on us from now
        conversation.status, conversation.resolved_at, conversation.snoozed_until = Status.OPEN, None, None
        return self._changed(session, conversation, actor, "reopen", "")

    def snooze(self, session: Session, conversation: Conversation, until: datetime, *, actor: str) -> bool:
        """Hide the case until `until` (aware datetime, in the future); a customer message wakes it."""
        now = self.clock()
        if until.tzinfo is None or until <= now:
            raise Refused("Snooze needs a time in the future, e.g. `snooze #12 2h` or `snooze #12 1d`.")
        if conversation.status == Status.SNOOZED and conversation.snoozed_until == until:
            return False
        conversation.status, conversation.snoozed_until = Status.SNOOZED, until
        waiting.pause(conversation, now)
        return self._changed(session, conversation, actor, "snooze", f"until {until.isoformat()}")

    def wake(self, session: Session, conversation: Conversation) -> bool:
        """A snooze ran out: the case is open again and its SLA clock runs (called by the reminder tick)."""
        if conversation.status != Status.SNOOZED:
            return False
        waiting.resume(conversation, self.clock(), self.pause_meter)
        conversation.status, conversation.snoozed_until = Status.OPEN, None
        return self._changed(session, conversation, "parley", "wake", "snooze ended")

    def _changed(self, session: Session, conversation: Conversation, actor: str, action: str, detail: str) -> bool:
        now = self.clock()
        conversation.updated_at = now
        session.add(conversation)
        session.add(AuditEntry(at=now, actor=actor, action=action, conversation_id=conversation.id,
                               platform=conversation.platform, outcome="ok", detail=detail))
        # A fresh key each time: every change must reach the card, even one repeated later.
        outbox.enqueue(session, kind=OutboxKind.UPDATE_CARD, conversation=conversation)
        return True
