"""Staff replies to customers: stored first, sent once, echoed in the Slack thread.

`Sender.queue_reply` checks the agent's right and the platform's rules and stores an OUTBOUND
message (PENDING) in the caller's transaction. Its idempotency key (Slack's view / trigger id) is a
unique column, so a double click or a Slack retry returns the same message instead of a second one.

`Sender.deliver` sends a PENDING message exactly once:
- it flips PENDING → SENDING with a compare-and-set UPDATE and commits *before* calling the platform,
  so two deliverers (a retry, a second replica) cannot both send;
- a message found in SENDING after `lease` was left by a crash or a lost answer. X and Facebook take
  no idempotency keys and Parley cannot look the post up, so sending again could post twice for the
  brand; it is marked FAILED "outcome unknown — check the platform" and staff decide (a duplicate
  public post is worse than a missing one that a person can re-send). Younger SENDING rows are
  another deliverer's work in progress and are left alone;
- the outcome (platform id and link, or the platform's refusal in plain words) is stored with an
  audit entry, a receipt line in the thread and a card update, in one transaction.
X "take it private" sends the DM first and only then queues the public notice ("We've sent you a
DM"), as its own outbound message with its own exactly-once state: a refused DM must not be announced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.cards.receipts import receipt
from bot.ops import Op
from bot.replies import rules
from bot.replies.actions import ConversationActions
from bot.replies.permissions import AgentPolicy
from bot.replies.rules import Mode, Refused, ReplyRefused
from bot.sla import waiting
from bot.store import outbox
from bot.store.database import Store
from bot.store.models import (
    AuditEntry,
    Conversation,
    Customer,
    DeliveryStatus,
    Direction,
    Message,
    OutboxKind,
    Status,
    row_id,
    utcnow,
)
from connectors.base import Kind, SendError, SendResult

log = logging.getLogger(__name__)

__all__ = ["DeliveryOutcome", "Mode", "Refused", "ReplyRefused", "Sender"]

MAX_KEY = 120  # external_id is "out:" + key, at most 128
DM_COMPOSE_URL = "https://x.com/messages/compose?recipient_id={brand_id}"
_TERMINAL = (DeliveryStatus.SENT, DeliveryStatus.FAILED)


@dataclass(frozen=True)
class DeliveryOutcome:
    """What became of one outbound message. `status` SENDING means another deliverer has it now."""

    message_id: int
    status: DeliveryStatus
    external_id: str | None = None  # the platform's id once SENT
    url: str | None = None
    error: str | None = None  # plain words for staff
    fallback_url: str | None = None  # X DM refused: a DM link to offer in a public reply instead
    followup: DeliveryOutcome | None = None  # X take-private: the public notice after the DM

    @classmethod
    def of(cls, message: Message, **extra: Any) -> DeliveryOutcome:
        sent = message.delivery_status == DeliveryStatus.SENT
        return cls(row_id(message), DeliveryStatus(message.delivery_status),
                   message.external_id if sent else None, message.url, message.delivery_error, **extra)


class Sender(ConversationActions):
    """Replies, notes and case state changes (see the module docstring).

    `connectors` maps a platform ("x", "facebook") to an object with that platform's send calls:
    X `reply_public(tweet_id, text)`, `send_dm(user_id, text)`; Facebook `reply_comment(id, text)`,
    `private_reply(comment_id, text)`, `send_messenger(psid, text, human_agent_tag=)`. Each returns
    a SendResult or raises SendError. `x_brand_id` (or a callable giving it) builds the DM link
    offered when a DM is refused. `on_committed` is called after receipts are committed (wakes
    the Slack outbox).
    """

    def __init__(
        self,
        store: Store,
        connectors: Mapping[str, Any],
        *,
        policy: AgentPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        nudge_template: str = rules.DEFAULT_NUDGE,
        x_brand_id: str | Callable[[], str] | None = None,
        lease: timedelta = timedelta(minutes=5),
        on_committed: Callable[[], None] = lambda: None,
        pause_meter: waiting.PauseMeter = waiting.calendar_seconds,
    ) -> None:
        super().__init__(clock, pause_meter)
        self.store = store
        self.connectors = dict(connectors)
        self.policy = policy or AgentPolicy()
        self.nudge_template = nudge_template
        self.x_brand_id = x_brand_id
        self.lease = lease
        self.on_committed = on_committed

    # --- storing a reply ------------------------------------------------------------------------
    def queue_reply(self, session: Session, conversation: Conversation, *, agent_id: str, text: str,
                    mode: Mode | str, idempotency_key: str, agent_name: str = "") -> Message:
        """Store a reply to send (PENDING) in the caller's transaction, or raise ReplyRefused.

        The same `idempotency_key` always returns the first message, before any check, so a retry
        is never refused by the effect of its own first attempt. A refusal is audited in its own
        transaction (it must survive the caller's rollback) and nothing reaches the platform.
        """
        if not idempotency_key or len(idempotency_key) > MAX_KEY:
            raise ValueError(f"idempotency_key must be 1..{MAX_KEY} characters")
        existing = self._by_key(session, idempotency_key)
        if existing is not None:
            return existing
        mode = Mode(mode)
        now = self.clock()
        if not self.policy.may_send(agent_id):
            self._audit_refusal(conversation, agent_id, mode, "not allowed to send for the brand", now)
            raise ReplyRefused("You are not on the list of people who may reply to customers (PARLEY_AGENTS). "
                               "You can still add a note or assign the case to someone who can.")
        customer = session.get(Customer, conversation.customer_id)
        try:
            plan = rules.plan_reply(
                platform=conversation.platform, conversation_kind=conversation.kind,
                thread_key=conversation.thread_key, mode=mode, text=text,
                heard=self._heard(session, conversation), private_replied=self._private_replied(session, conversation),
                nudge_text=self._nudge_text(conversation, customer), now=now)
        except ReplyRefused as refused:
            self._audit_refusal(conversation, agent_id, mode, refused.message, now)
            raise
        message = Message(
            conversation_id=row_id(conversation), platform=conversation.platform, external_id=f"out:{idempotency_key}",
            send_key=idempotency_key, direction=Direction.OUTBOUND, kind=plan.op, text=text.strip(),
            author_id=agent_id, author_name=agent_name, in_reply_to=plan.in_reply_to, created_at=now,
            received_at=now, delivery_status=DeliveryStatus.PENDING)
        try:
            with session.begin_nested():  # a concurrent twin commits first: fall back to its row
                session.add(message)
        except IntegrityError:
            existing = self._by_key(session, idempotency_key)
            if existing is None:
                raise
            return existing
        return message

    def add_note(self, session: Session, conversation: Conversation, *, agent_id: str, text: str,
                 slack_ts: str, agent_name: str = "") -> Message:
        """Store an internal note (never sent to anyone). The same `slack_ts` is stored once."""
        key = f"note:{slack_ts}"
        existing = session.exec(select(Message).where(Message.platform == conversation.platform,
                                                      Message.external_id == key)).first()
        if existing is not None:
            return existing
        now = self.clock()
        note = Message(conversation_id=row_id(conversation), platform=conversation.platform, external_id=key,
                       direction=Direction.NOTE, kind="note", text=text, author_id=agent_id, author_name=agent_name,
                       created_at=now, received_at=now, delivery_status=DeliveryStatus.RECEIVED)
        session.add(note)
        session.flush()
        return note

    # --- sending --------------------------------------------------------------------------------
    def deliver(self, message_id: int) -> DeliveryOutcome:
        """Send one outbound message at most once; see the module docstring. Safe to call repeatedly."""
        now = self.clock()
        with self.store.transaction() as session:
            message = session.get(Message, message_id)
            if message is None or message.direction != Direction.OUTBOUND:
                raise LookupError(f"no outbound message {message_id}")
            if message.delivery_status in _TERMINAL:
                return DeliveryOutcome.of(message)
            if message.delivery_status == DeliveryStatus.SENDING:
                if message.send_started_at is not None and now - message.send_started_at < self.lease:
                    return DeliveryOutcome.of(message)  # another deliverer is on it
                return self._give_up_unknown(session, message, now)
            claimed = session.exec(
                update(Message).where(col(Message.id) == message_id,
                                      col(Message.delivery_status) == DeliveryStatus.PENDING)
                .values(delivery_status=DeliveryStatus.SENDING, send_started_at=now)
                .execution_options(synchronize_session=False)).rowcount
            if claimed != 1:
                session.rollback()
                return DeliveryOutcome.of(session.get_one(Message, message_id, populate_existing=True))
            conversation = session.get_one(Conversation, message.conversation_id)  # foreign keys: they exist
            customer = session.get_one(Customer, conversation.customer_id)
            call = self._call(message, conversation, customer, session, now)
        try:
            result, error = call(), None
        except SendError as exc:
            result, error = None, exc
            log.warning("send of message %s failed: %s (code %s)", message_id, exc.message, exc.code)
        outcome = self._finish(message_id, result, error)
        self.on_committed()
        if outcome.status == DeliveryStatus.SENT and Op(message.kind) == Op.X_DM and conversation.kind != Kind.DM:
            nudge_id = self._queue_nudge(message_id)
            if nudge_id is not None:
                outcome = _with_followup(outcome, self.deliver(nudge_id))
        return outcome

    def deliver_pending(self) -> list[DeliveryOutcome]:
        """Deliver every PENDING outbound message and settle stale SENDING ones (run at start and on
        a schedule, so a crash between store and send is finished or reported)."""
        with self.store.transaction() as session:
            ids = session.exec(select(Message.id).where(
                Message.direction == Direction.OUTBOUND,
                col(Message.delivery_status).in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
            ).order_by(col(Message.id))).all()
        return [self.deliver(i) for i in ids if i is not None]  # stored rows all have an id

    # --- internals ------------------------------------------------------------------------------
    def _call(self, message: Message, conversation: Conversation, customer: Customer, session: Session,
              now: datetime) -> Callable[[], SendResult]:
        connector = self.connectors[conversation.platform]
        op, target, text = Op(message.kind), message.in_reply_to or "", message.text
        if op in (Op.X_REPLY, Op.X_NUDGE):
            return lambda: connector.reply_public(target, text)
        if op == Op.X_DM:
            return lambda: connector.send_dm(customer.external_id, text)
        if op == Op.FB_COMMENT:
            return lambda: connector.reply_comment(target, text)
        if op == Op.FB_PRIVATE:
            return lambda: connector.private_reply(target, text)
        heard = self._heard(session, conversation)
        last = max((h.created_at for h in heard), default=now)
        tag = rules.messenger_tag(last, now)  # decided now: time passed since the reply was queued
        return lambda: connector.send_messenger(customer.external_id, text, human_agent_tag=tag)

    def _finish(self, message_id: int, result: SendResult | None, error: SendError | None) -> DeliveryOutcome:
        now = self.clock()
        with self.store.transaction() as session:
            message = session.get_one(Message, message_id)  # claimed by deliver(): it exists
            conversation = session.get_one(Conversation, message.conversation_id)
            op, fallback = Op(message.kind), None
            if result is not None:
                message.delivery_status, message.external_id = DeliveryStatus.SENT, result.external_id
                message.url, message.delivered_at, message.delivery_error = result.url, now, None
                conversation.first_response_at = conversation.first_response_at or now
                conversation.last_response_at = now
                if conversation.status == Status.OPEN:  # a snoozed or resolved case stays so
                    conversation.status = Status.PENDING  # answered; waiting on the customer
                waiting.answered(conversation)
                conversation.updated_at = now
                session.add(conversation)
            else:
                assert error is not None  # deliver() passes a result or an error
                words = error.message + (rules.RETRY_HINT if error.retryable else "")
                if op == Op.X_DM and error.code == "403":
                    fallback = self._dm_link()
                    words += (" Instead, reply publicly with a link that opens a DM with the brand"
                              + (f": {fallback}" if fallback else "."))
                message.delivery_status, message.delivery_error = DeliveryStatus.FAILED, words[:512]
            session.add(message)
            self._record(session, message, conversation, now, outcome="sent" if result else "failed",
                         detail=(error.code or "") if error else "")
            return DeliveryOutcome.of(message, fallback_url=fallback)

    def _give_up_unknown(self, session: Session, message: Message, now: datetime) -> DeliveryOutcome:
        words = (f"{rules.OUTCOME_UNKNOWN} Parley stopped while sending this, so it may or may not have been posted. "
                 "Check the platform before sending it again.")
        settled = session.exec(
            update(Message).where(col(Message.id) == message.id, col(Message.delivery_status) == DeliveryStatus.SENDING,
                                  col(Message.send_started_at) == message.send_started_at)
            .values(delivery_status=DeliveryStatus.FAILED, delivery_error=words)
            .execution_options(synchronize_session=False)).rowcount
        session.refresh(message)
        if settled != 1:  # another deliverer settled it first
            return DeliveryOutcome.of(message)
        conversation = session.get_one(Conversation, message.conversation_id)
        self._record(session, message, conversation, now, outcome="unknown", detail="found in SENDING after restart")
        outcome = DeliveryOutcome.of(message)
        session.commit()
        self.on_committed()
        return outcome

    def _record(self, session: Session, message: Message, conversation: Conversation, now: datetime, *,
                outcome: str, detail: str) -> None:
        """Audit entry, thread receipt and card update for a settled message (same transaction)."""
        op = Op(message.kind)
        sent = message.delivery_status == DeliveryStatus.SENT
        session.add(AuditEntry(at=now, actor=message.author_id, action=op.audit_action,
                               conversation_id=conversation.id, platform=message.platform,
                               external_id=message.external_id if sent else None, outcome=outcome,
                               detail=" ".join(filter(None, [op.value, detail]))))
        text = receipt(agent_id=message.author_id, op=op, text=message.text, ok=sent, url=message.url,
                             error=message.delivery_error)
        outbox.enqueue(session, kind=OutboxKind.THREAD_MESSAGE, conversation=conversation, message=message,
                       text=text)
        outbox.enqueue(session, kind=OutboxKind.UPDATE_CARD, conversation=conversation, message=message)

    def _queue_nudge(self, dm_id: int) -> int | None:
        with self.store.transaction() as session:
            dm = session.get_one(Message, dm_id)  # the DM just sent
            key = f"{dm.send_key}:nudge"
            existing = self._by_key(session, key)
            if existing is not None:
                return None if existing.delivery_status in _TERMINAL else existing.id
            conversation = session.get_one(Conversation, dm.conversation_id)
            customer = session.get_one(Customer, conversation.customer_id)
            now = self.clock()
            nudge = Message(conversation_id=dm.conversation_id, platform=dm.platform, external_id=f"out:{key}",
                            send_key=key, direction=Direction.OUTBOUND, kind=Op.X_NUDGE,
                            text=self._nudge_text(conversation, customer), author_id=dm.author_id,
                            author_name=dm.author_name, in_reply_to=dm.in_reply_to, created_at=now, received_at=now,
                            delivery_status=DeliveryStatus.PENDING)
            session.add(nudge)
            session.flush()
            return nudge.id

    def _nudge_text(self, conversation: Conversation, customer: Customer | None) -> str:
        return rules.render_nudge(self.nudge_template, handle=customer.handle if customer else "",
                                  name=customer.name if customer else "", ref=conversation.ref)

    def _dm_link(self) -> str | None:
        brand = self.x_brand_id
        if callable(brand):
            try:
                brand = brand()
            except Exception:  # a hint must never stop the failure itself from being recorded
                log.warning("could not read the X brand id for the DM link", exc_info=True)
                return None
        return DM_COMPOSE_URL.format(brand_id=brand) if brand else None

    def _audit_refusal(self, conversation: Conversation, agent_id: str, mode: Mode, reason: str,
                       now: datetime) -> None:
        with self.store.transaction() as audit:
            audit.add(AuditEntry(at=now, actor=agent_id, action=f"reply_{mode.value}", conversation_id=conversation.id,
                                 platform=conversation.platform, outcome="refused", detail=reason))

    @staticmethod
    def _by_key(session: Session, key: str) -> Message | None:
        return session.exec(select(Message).where(Message.send_key == key)).first()

    @staticmethod
    def _heard(session: Session, conversation: Conversation) -> list[rules.Heard]:
        rows = session.exec(select(Message).where(Message.conversation_id == conversation.id,
                                                  Message.direction == Direction.INBOUND)).all()
        return [rules.Heard(m.kind, m.external_id, m.created_at) for m in rows]

    @staticmethod
    def _private_replied(session: Session, conversation: Conversation) -> list[str]:
        targets = session.exec(select(Message.in_reply_to).where(
            Message.conversation_id == conversation.id, Message.kind == Op.FB_PRIVATE,
            Message.delivery_status != DeliveryStatus.FAILED)).all()
        return [t for t in targets if t is not None]  # a private reply always names its comment


def _with_followup(outcome: DeliveryOutcome, followup: DeliveryOutcome) -> DeliveryOutcome:
    return DeliveryOutcome(outcome.message_id, outcome.status, outcome.external_id, outcome.url, outcome.error,
                           outcome.fallback_url, followup)
