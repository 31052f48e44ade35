"""The rows one heard message becomes: its customer (created or refreshed), the message with its
triage, and a follow-up folded into its open conversation. Called inside the ingest transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.sla import waiting
from bot.store import outbox
from bot.store.keys import row_id
from bot.store.models import (
    AuditEntry,
    Conversation,
    Customer,
    Direction,
    Message,
    MessageMatch,
    OutboxKind,
    Priority,
    Status,
)
from bot.triage import Triage
from connectors.base import InboundMessage

_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


def refresh_customer(session: Session, record: InboundMessage, now: datetime, customer: Customer | None) -> Customer:
    """`customer` (the author's row, None if there is none yet) brought up to date with `record`'s
    author, or created; added to the session, not flushed."""
    author = record.author
    if customer is None:
        customer = Customer(platform=record.platform, external_id=author.external_id, handle=author.handle,
                            name=author.name, followers=author.followers, verified=author.verified,
                            created_at=now, updated_at=now)
        session.add(customer)
        return customer
    # Profiles change (new handle, more followers); keep the latest, but never erase what we knew.
    customer.handle = author.handle or customer.handle
    customer.name = author.name or customer.name
    if author.followers is not None:
        customer.followers = author.followers
    customer.verified = author.verified or customer.verified
    customer.updated_at = now
    session.add(customer)
    return customer


def add_message(
    session: Session, conversation: Conversation, record: InboundMessage, triage: Triage, now: datetime
) -> Message:
    """The inbound message row with its triage, added to the session: the caller flushes (a batch's
    messages are inserted together), then calls `add_matches`."""
    message = Message(
        conversation_id=row_id(conversation),
        platform=record.platform,
        external_id=record.external_id,
        direction=Direction.INBOUND,
        kind=record.kind,
        text=record.text,
        author_id=record.author.external_id,
        author_name=record.author.name,
        url=record.url,
        in_reply_to=record.in_reply_to,
        language=triage.language,
        tone=triage.tone,
        complaint=triage.complaint,
        priority=triage.priority,
        priority_reasons="; ".join(triage.reasons),
        created_at=record.created_at,
        received_at=now,
    )
    session.add(message)
    return message


def add_matches(session: Session, message: Message, record: InboundMessage) -> None:
    """The search queries that found the (flushed) message."""
    for name in record.query_names:
        session.add(MessageMatch(message_id=row_id(message), query_name=name))


def apply_followup(
    session: Session, conversation: Conversation, record: InboundMessage, triage: Triage, now: datetime,
    pause_meter: waiting.PauseMeter,
) -> bool:
    """Fold a customer follow-up into its conversation. Returns True when the card must change."""
    before = (conversation.status, conversation.priority, conversation.tone, conversation.complaint)
    if conversation.status in (Status.RESOLVED, Status.PENDING, Status.SNOOZED):
        if conversation.status == Status.RESOLVED:
            session.add(AuditEntry(actor="parley", action="reopen", conversation_id=conversation.id,
                                   platform=conversation.platform, external_id=record.external_id,
                                   detail="customer wrote again after the case was resolved", at=now))
        if conversation.status == Status.SNOOZED:
            waiting.resume(conversation, now, pause_meter)  # the customer woke it: the clock runs again
        conversation.status = Status.OPEN
        conversation.resolved_at = None
        conversation.snoozed_until = None
    waiting.customer_wrote(conversation, record.created_at)
    if _PRIORITY_RANK[Priority(triage.priority)] > _PRIORITY_RANK[Priority(conversation.priority)]:
        conversation.priority = triage.priority
        conversation.priority_reasons = "; ".join(triage.reasons)
    conversation.tone = triage.tone  # the card shows how the customer sounds now
    conversation.complaint = conversation.complaint or triage.complaint
    if conversation.last_customer_message_at is None or record.created_at > conversation.last_customer_message_at:
        conversation.last_customer_message_at = record.created_at
    conversation.updated_at = now
    session.add(conversation)
    return before != (conversation.status, conversation.priority, conversation.tone, conversation.complaint)


@dataclass(frozen=True)
class Pending:
    """A stored message whose search matches and outbox items are still to be added."""

    record: InboundMessage
    conversation: Conversation
    message: Message
    kinds: tuple[OutboxKind, ...]


def announce(session: Session, pending: list[Pending]) -> None:
    """Flush the pending messages (one insert for all), then add their matches and outbox items in
    the order the messages came; empties `pending`."""
    if not pending:
        return
    session.flush()
    carded = {p.conversation.id for p in pending if OutboxKind.POST_CARD in p.kinds}
    # Cases shown only in a storm roll-up get their own card first: asked once for the whole batch.
    rolled = outbox.rolled_up_only(session, {row_id(p.conversation) for p in pending if p.kinds
                                             and p.conversation.slack_ts is None and p.conversation.id not in carded})
    fresh: list[tuple[OutboxKind, Conversation, Message]] = []
    for item in pending:
        add_matches(session, item.message, item.record)
        if item.conversation.id in rolled and item.conversation.id not in carded:
            outbox.open_card(session, item.conversation)
            carded.add(item.conversation.id)
        fresh += [(kind, item.conversation, item.message) for kind in item.kinds]
    session.flush()
    outbox.lift_ranks(session, outbox.insert_fresh(session, fresh))
    pending.clear()
