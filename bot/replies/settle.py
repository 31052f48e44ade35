"""Settling an outbound message: its final state stored with the trail staff see, in one transaction.

Every settled message gets an audit entry, a receipt line in its Slack thread and a card update,
written in the same transaction as its new state, so the thread never shows an outcome that was
not stored (or miss one that was). The two early settlements (a message no connector can send, one
found in SENDING after a crash) are compare-and-set updates: whoever settles first records it, once.
`bot/replies/sender.py` decides when to settle; this module only writes the outcome.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from bot.cards.receipts import receipt
from bot.replies import rules
from bot.replies.outcome import DeliveryOutcome
from bot.sla import waiting
from bot.sla.measured import ALWAYS_OPEN, FirstResponseMeter
from bot.store import outbox
from bot.store.models import AuditEntry, Conversation, DeliveryStatus, Message, OutboxKind, Status
from connectors.base import OpSpec, SendError, SendResult
from connectors.registry import Registry


def refuse(session: Session, registry: Registry, message: Message, words: str, now: datetime) -> bool:
    """Fail a PENDING message that no connector can send; False when another deliverer settled it."""
    settled = session.exec(
        update(Message).where(col(Message.id) == message.id, col(Message.delivery_status) == DeliveryStatus.PENDING)
        .values(delivery_status=DeliveryStatus.FAILED, delivery_error=words[:512])
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(message)
    if settled != 1:
        return False
    conversation = session.get_one(Conversation, message.conversation_id)
    record(session, registry, message, conversation, now, outcome="failed", detail="unsupported")
    return True


def give_up_unknown(session: Session, registry: Registry, message: Message, now: datetime) -> bool:
    """Fail a message left in SENDING (outcome unknown: staff check the platform before re-sending);
    False when another deliverer settled it first."""
    words = (f"{rules.OUTCOME_UNKNOWN} Parley stopped while sending this, so it may or may not have been posted. "
             "Check the platform before sending it again.")
    settled = session.exec(
        update(Message).where(col(Message.id) == message.id, col(Message.delivery_status) == DeliveryStatus.SENDING,
                              col(Message.send_started_at) == message.send_started_at)
        .values(delivery_status=DeliveryStatus.FAILED, delivery_error=words)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(message)
    if settled != 1:
        return False
    conversation = session.get_one(Conversation, message.conversation_id)
    record(session, registry, message, conversation, now, outcome="unknown", detail="found in SENDING after restart")
    return True


def finish(session: Session, registry: Registry, message: Message, result: SendResult | SendError,
           now: datetime, meter: FirstResponseMeter = ALWAYS_OPEN) -> DeliveryOutcome:
    """Store what the platform answered for a message this deliverer sent.

    Sent: the platform's id and link, and the case counts as answered (an open case now waits on
    the customer). Refused: the platform's words, a retry hint when trying again may work, and for a
    private message refused because the customer does not accept them, a public DM link to offer.
    """
    conversation = session.get_one(Conversation, message.conversation_id)
    network, fallback, detail = registry.rules(message.platform), None, ""
    if isinstance(result, SendResult) and network.ops[message.kind].survey:
        # The satisfaction question is no answer: the case's response times and state stay as they were.
        message.delivery_status, message.external_id = DeliveryStatus.SENT, result.external_id
        message.url, message.delivered_at, message.delivery_error = result.url, now, None
        conversation.csat_asked_at = now
        session.add(conversation)
    elif isinstance(result, SendResult):
        message.delivery_status, message.external_id = DeliveryStatus.SENT, result.external_id
        message.url, message.delivered_at, message.delivery_error = result.url, now, None
        if conversation.first_response_at is None:
            conversation.first_response_at = now
            meter.record(conversation)  # the reports read the stored times (bot/reports/first_times.py)
        conversation.last_response_at = now
        if conversation.status == Status.OPEN:  # a snoozed or resolved case stays so
            conversation.status = Status.PENDING  # answered; waiting on the customer
        waiting.answered(conversation)
        conversation.updated_at = now
        session.add(conversation)
    else:
        words = result.message + (rules.RETRY_HINT if result.retryable else "")
        spec = network.ops[message.kind]
        if not spec.public and spec.public_fallback and result.code == network.dm_fallback_code:
            fallback = registry.connector(message.platform).fallback_link()
            words += (" Instead, reply publicly with a link that opens a DM with the brand"
                      + (f": {fallback}" if fallback else "."))
        message.delivery_status, message.delivery_error = DeliveryStatus.FAILED, words[:512]
        detail = result.code or ""
    session.add(message)
    record(session, registry, message, conversation, now,
           outcome="sent" if message.delivery_status == DeliveryStatus.SENT else "failed", detail=detail)
    return DeliveryOutcome.of(message, fallback_url=fallback)


def record(session: Session, registry: Registry, message: Message, conversation: Conversation, now: datetime, *,
           outcome: str, detail: str) -> None:
    """Audit entry, thread receipt and card update for a settled message (same transaction)."""
    try:
        op: OpSpec | None = registry.op(message.kind)
    except ValueError:  # an operation no network knows (refused by `refuse`): said as "a reply"
        op = None
    sent = message.delivery_status == DeliveryStatus.SENT
    session.add(AuditEntry(at=now, actor=message.author_id, action=rules.audit_action(op),
                           conversation_id=conversation.id, platform=message.platform,
                           external_id=message.external_id if sent else None, outcome=outcome,
                           detail=" ".join(filter(None, [message.kind, detail]))))
    text = receipt(agent_id=message.author_id, op=op, text=message.text, ok=sent, url=message.url,
                   error=message.delivery_error)
    outbox.enqueue(session, kind=OutboxKind.THREAD_MESSAGE, conversation=conversation, message=message, text=text)
    outbox.enqueue(session, kind=OutboxKind.UPDATE_CARD, conversation=conversation, message=message)
