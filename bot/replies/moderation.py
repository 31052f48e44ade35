"""Hiding a customer's comments from Slack ("Hide comment", `/social hide #N`): platform-neutral.

The network's `Rules.hide_kinds` say which conversations have comments the brand may hide (comments
on its own posts); the connector does it with the `HideComment` action. Only people who may speak
for the brand (PARLEY_AGENTS) may hide. Hiding sends nothing to the customer and hiding a hidden
comment changes nothing on Instagram or Facebook, so unlike a reply it is not stored before it is
sent: the comments are hidden one by one after Slack has its ack, then, in one transaction, each is
audited (`hide`, the comment's id; this audit trail is also what the card reads), a receipt goes to the
thread and the card is updated. A refusal is audited too and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.cards.receipts import hide_receipt
from bot.cards.records import Hidden
from bot.replies.permissions import AgentPolicy
from bot.replies.rules import Refused
from bot.store import outbox
from bot.store.database import Store
from bot.store.models import AuditEntry, Conversation, Direction, Message, OutboxKind
from connectors.base import HideComment, SendError
from connectors.registry import Registry, UnknownPlatform, shipped_rules

ACTION = "hide"  # the audit action; the card reads the hidden comments from it


@dataclass(frozen=True)
class HideOutcome:
    """What one "Hide comment" did: comments hidden now, hidden before, and a refusal in plain words."""

    hidden: list[str] = field(default_factory=list)
    already: int = 0
    error: str | None = None


def hidden_entries(session: Session, conversation_id: int) -> list[AuditEntry]:
    """The audit entries of comments hidden in this case, oldest first, one per comment."""
    return hidden_by_conversation(session, [conversation_id]).get(conversation_id, [])


def hidden_by_conversation(session: Session, conversation_ids: list[int]) -> dict[int, list[AuditEntry]]:
    """`hidden_entries` of several cases in one query, by conversation id (a case with none is left out)."""
    entries = session.exec(_HIDDEN, params={"conversations": conversation_ids}).all()
    first: dict[int, dict[str | None, AuditEntry]] = {}
    for entry in entries:  # two people clicking at once both hide (harmlessly) and both are audited
        first.setdefault(entry.conversation_id or 0, {}).setdefault(entry.external_id, entry)
    return {conversation: list(by_comment.values()) for conversation, by_comment in first.items()}


# Built once: every card asks (building a statement costs more than running it).
_HIDDEN = select(AuditEntry).where(
    col(AuditEntry.conversation_id).in_(sa.bindparam("conversations", expanding=True)), AuditEntry.action == ACTION,
    AuditEntry.outcome == "ok").order_by(col(AuditEntry.id))


def still_visible(session: Session, conversation: Conversation, done: set[str]) -> list[str]:
    """The customer's messages in this case that its network can hide and that are not hidden yet."""
    rules = shipped_rules(conversation.platform)
    if rules is None or not rules.can_hide(conversation.kind):
        return []
    rows = session.exec(select(Message).where(
        Message.conversation_id == conversation.id, Message.direction == Direction.INBOUND,
        col(Message.kind).in_(rules.hide_kinds)).order_by(col(Message.id))).all()
    return [m.external_id for m in rows if m.external_id not in done]


def card_state(session: Session, conversation: Conversation,
               entries: list[AuditEntry] | None = None) -> tuple[Hidden | None, bool]:
    """For the card: who hid what (None: nothing), and whether "Hide comment" still has work.
    `entries`: the case's `hidden_entries`, when the caller read them already."""
    if entries is None:
        entries = hidden_entries(session, conversation.id or 0)
    done = {e.external_id or "" for e in entries}
    hidden = Hidden(entries[-1].actor, entries[-1].at, len(entries)) if entries else None
    return hidden, bool(still_visible(session, conversation, done))


class Moderator:
    """`hide(conversation_id, actor)`; `on_committed` wakes the Slack outbox (the receipt, the card)."""

    def __init__(self, store: Store, registry: Registry, policy: AgentPolicy, clock: Callable[[], datetime],
                 on_committed: Callable[[], None] = lambda: None) -> None:
        self.store, self.registry, self.policy, self.clock = store, registry, policy, clock
        self.on_committed = on_committed

    def hide(self, conversation_id: int, actor: str) -> HideOutcome:
        """Hide the customer's visible comments in the case; Refused (audited) when the person may not
        or the network cannot. A comment the network refuses stops the run; those before it stay hidden."""
        targets, already = self._targets(conversation_id, actor)
        if not targets:
            return HideOutcome(already=already)
        platform = self._conversation_platform(conversation_id)
        connector, hidden, error = self.registry.connector(platform), [], None
        for target in targets:
            try:
                connector.send(HideComment(target))
            except SendError as refused:
                error = refused
                break
            hidden.append(target)
        self._record(conversation_id, actor, hidden, error)
        return HideOutcome(hidden, already, error.message if error else None)

    def _targets(self, conversation_id: int, actor: str) -> tuple[list[str], int]:
        with self.store.transaction() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise Refused(f"There is no conversation #{conversation_id}. `/social queue` lists the open ones.")
            why = self._refusal(conversation, actor)
            if why is None:
                done = {e.external_id or "" for e in hidden_entries(session, conversation_id)}
                return still_visible(session, conversation, done), len(done)
            session.add(AuditEntry(at=self.clock(), actor=actor, action=ACTION, conversation_id=conversation_id,
                                   platform=conversation.platform, outcome="refused", detail=why))
        raise Refused(why)

    def _refusal(self, conversation: Conversation, actor: str) -> str | None:
        if not self.policy.may_send(actor):
            return ("You are not on the list of people who may act for the brand (PARLEY_AGENTS), so you cannot "
                    "hide comments. Add a note or assign the case to someone who can.")
        try:
            rules = self.registry.rules(conversation.platform)
        except UnknownPlatform as unknown:
            return f"{unknown} Nothing was hidden."
        if not rules.can_hide(conversation.kind):
            return (f"Only comments on the brand's own posts can be hidden, and #{conversation.id} is a "
                    f"{rules.site(conversation.kind)} {conversation.kind.replace('_', ' ')}. Nothing was hidden.")
        return None

    def _conversation_platform(self, conversation_id: int) -> str:
        with self.store.transaction() as session:
            return session.get_one(Conversation, conversation_id).platform

    def _record(self, conversation_id: int, actor: str, hidden: list[str], error: SendError | None) -> None:
        now = self.clock()
        with self.store.transaction() as session:
            conversation = session.get_one(Conversation, conversation_id)
            for target in hidden:
                session.add(AuditEntry(at=now, actor=actor, action=ACTION, conversation_id=conversation_id,
                                       platform=conversation.platform, external_id=target, outcome="ok"))
            if error is not None:
                session.add(AuditEntry(at=now, actor=actor, action=ACTION, conversation_id=conversation_id,
                                       platform=conversation.platform, outcome="failed", detail=error.code or ""))
            site = self.registry.rules(conversation.platform).site(conversation.kind)
            text = hide_receipt(agent_id=actor, site=site, hidden=len(hidden),
                                error=error.message if error else None)
            outbox.enqueue(session, kind=OutboxKind.THREAD_MESSAGE, conversation=conversation, text=text)
            outbox.enqueue(session, kind=OutboxKind.UPDATE_CARD, conversation=conversation)
        self.on_committed()
