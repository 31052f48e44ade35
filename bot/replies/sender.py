"""Staff replies to customers: stored first, sent once, echoed in the Slack thread.

`Sender.queue_reply` checks the agent's right and the platform's rules and stores an OUTBOUND
message (PENDING) in the caller's transaction. Its idempotency key (Slack's view / trigger id) is a
unique column, so a double click or a Slack retry returns the same message instead of a second one.

`Sender.deliver` sends a PENDING message exactly once:
- it flips PENDING → SENDING with a compare-and-set UPDATE and commits *before* calling the platform,
  so two deliverers (a retry, a second replica) cannot both send;
- a SENDING message is its deliverer's while that process lives (and `lease` has not run out); one
  a dead process left is looked up on the network and sent again only if it was not posted, or
  failed "outcome unknown" for staff where the network cannot tell (bot/replies/recovery.py);
- the outcome (platform id and link, or the platform's refusal in plain words) is stored with an
  audit entry, a receipt line in the thread and a card update, in one transaction
  (bot/replies/settle.py writes it).
X "take it private" sends the DM first and only then queues the public notice ("We've sent you a
DM"), as its own outbound message with its own exactly-once state: a refused DM must not be announced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.replies import dispatch, recovery, rules, settle, survey
from bot.replies.actions import ConversationActions
from bot.replies.outcome import DeliveryOutcome, with_followup
from bot.replies.permissions import AgentPolicy
from bot.replies.rules import Mode, Refused, ReplyRefused
from bot.sla import waiting
from bot.sla.measured import ALWAYS_OPEN, FirstResponseMeter
from bot.store.database import Store, own_transaction
from bot.store.keys import row_id
from bot.store.models import AuditEntry, Conversation, Customer, DeliveryStatus, Direction, Message, utcnow
from bot.store.presence import Presence
from connectors.base import Action, Connector, Rules, SendError, SendResult
from connectors.registry import Registry

log = logging.getLogger(__name__)

__all__ = ["DeliveryOutcome", "Mode", "Refused", "ReplyRefused", "Sender"]

MAX_KEY = 120  # external_id is "out:" + key, at most 128
SEND_AFTER_COMMIT = "parley.send_after_commit"  # session.info: outbound message ids to send once committed
_TERMINAL = (DeliveryStatus.SENT, DeliveryStatus.FAILED)


class Sender(ConversationActions):
    """Replies, notes and case state changes (see the module docstring).

    `registry` holds the connectors: a reply is planned by its network's `Rules` and sent with
    `Connector.send(action)`, which returns a SendResult or raises SendError. A conversation on a
    network that is not registered is refused when the reply is stored, and a stored message whose
    network or operation is unknown fails before it is marked in progress, never half-way.
    `on_committed` is called after receipts are committed (wakes the Slack outbox).
    """

    def __init__(
        self,
        store: Store,
        registry: Registry,
        *,
        policy: AgentPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        nudge_template: str = rules.DEFAULT_NUDGE,
        lease: timedelta = timedelta(minutes=5),
        on_committed: Callable[[], None] = lambda: None,
        presence: Presence | None = None,
        pause_meter: waiting.PauseMeter = waiting.calendar_seconds,
        csat_kinds: frozenset[str] = frozenset(),
        first_response_meter: FirstResponseMeter = ALWAYS_OPEN,
    ) -> None:
        super().__init__(clock, pause_meter)
        self.first_response_meter = first_response_meter  # the business hours first replies are timed in
        self.csat_kinds = csat_kinds  # conversation kinds asked for a rating when resolved (PARLEY_CSAT)
        self.store = store
        self.registry = registry
        self.policy = policy or AgentPolicy()
        self.nudge_template = nudge_template
        self.lease = lease
        self.presence = presence or Presence(store)  # written on what this process sends (store/presence.py)
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
            self._audit_refusal(session, conversation, agent_id, mode, "not allowed to send for the brand", now)
            raise ReplyRefused("You are not on the list of people who may reply to customers (PARLEY_AGENTS). "
                               "You can still add a note or assign the case to someone who can.")
        customer = session.get(Customer, conversation.customer_id)
        try:
            plan = rules.plan_reply(
                rules=self._rules(conversation.platform), conversation_kind=conversation.kind,
                thread_key=conversation.thread_key, mode=mode, text=text,
                heard=self._heard(session, conversation), private_replied=self._private_replied(session, conversation),
                nudge_text=self._nudge_text(conversation, customer), now=now)
        except ReplyRefused as refused:
            self._audit_refusal(session, conversation, agent_id, mode, refused.message, now)
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

    def resolve(self, session: Session, conversation: Conversation, *, actor: str) -> bool:
        """Close the case and, where PARLEY_CSAT asks for it, queue the satisfaction question
        (bot/replies/survey.py); its id is left in `session.info[SEND_AFTER_COMMIT]` to send once committed."""
        if not super().resolve(session, conversation, actor=actor):
            return False
        question = survey.queue(session, self.registry, conversation, self.csat_kinds, self.clock())
        if question is not None:
            session.info.setdefault(SEND_AFTER_COMMIT, []).append(question.id)
        return True

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
            orphan, since = message.delivery_status == DeliveryStatus.SENDING, message.send_started_at or now
            if orphan and recovery.held(message, self.presence, now, self.lease):
                return DeliveryOutcome.of(message)  # another deliverer is on it
            if orphan and dispatch.unsendable(self.registry, message) is not None:
                return self._settled_early(session, message, settle.give_up_unknown(session, self.registry,
                                                                                    message, now))
            unsendable = None if orphan else (dispatch.unsendable(self.registry, message)
                                              or survey.unsendable(session, self.registry, message, now))
            if unsendable is not None:  # refused before anything is marked in progress
                return self._settled_early(session, message, settle.refuse(session, self.registry, message,
                                                                           unsendable, now))
            if not recovery.claim(session, message, self.presence.claimer(), now, orphan=orphan):
                session.rollback()
                return DeliveryOutcome.of(session.get_one(Message, message_id, populate_existing=True))
            conversation = session.get_one(Conversation, message.conversation_id)  # foreign keys: they exist
            connector, action = self._action(message, conversation, session.get_one(Customer, conversation.customer_id),
                                             session, now)
        try:
            result = recovery.resend(connector, action, since, message) if orphan else recovery.send(connector, action)
        except recovery.LookupLater:
            return DeliveryOutcome.of(message)
        if result is None:  # a dead process's send the network cannot tell about: staff decide
            return self._give_up(message_id, now)
        outcome = self._finish(message_id, result)
        self.on_committed()
        nudge = self.registry.rules(message.platform).nudge_after(message.kind, conversation.kind)
        if outcome.status == DeliveryStatus.SENT and nudge is not None:
            nudge_id = self._queue_nudge(message_id, nudge)
            if nudge_id is not None:
                outcome = with_followup(outcome, self.deliver(nudge_id))
        return outcome

    def deliver_pending(self) -> list[DeliveryOutcome]:
        """Deliver every PENDING outbound message and settle stale SENDING ones (run at start and on
        a schedule, so a crash between store and send is finished or reported)."""
        with self.store.transaction() as session:
            active = col(Message.delivery_status).in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING))
            ids = session.exec(select(Message.id).where(Message.direction == Direction.OUTBOUND, active)
                               .order_by(col(Message.id))).all()
        return [self.deliver(i) for i in ids if i is not None]  # stored rows all have an id

    # --- internals ------------------------------------------------------------------------------
    def _action(self, message: Message, conversation: Conversation, customer: Customer, session: Session,
                now: datetime) -> tuple[Connector, Action]:
        connector = self.registry.connector(conversation.platform)
        heard = self._heard(session, conversation)
        last = max((h.created_at for h in heard), default=now)
        return connector, dispatch.action_for(connector.rules, message, customer.external_id, last, now)

    def _give_up(self, message_id: int, now: datetime) -> DeliveryOutcome:
        with self.store.transaction() as session:
            message = session.get_one(Message, message_id)  # claimed by deliver(): it exists
            return self._settled_early(session, message, settle.give_up_unknown(session, self.registry,
                                                                                message, now))

    def _settled_early(self, session: Session, message: Message, settled: bool) -> DeliveryOutcome:
        """Commit an early settlement (refused, outcome unknown) this deliverer made and wake the
        outbox; one another deliverer made is only reported."""
        outcome = DeliveryOutcome.of(message)
        if settled:
            session.commit()
            self.on_committed()
        return outcome

    def _finish(self, message_id: int, result: SendResult | SendError) -> DeliveryOutcome:
        with self.store.transaction() as session:
            message = session.get_one(Message, message_id)  # claimed by deliver(): it exists
            message.claimed_by = None
            return settle.finish(session, self.registry, message, result, self.clock(), self.first_response_meter)

    def _queue_nudge(self, dm_id: int, op: str) -> int | None:
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
                            send_key=key, direction=Direction.OUTBOUND, kind=op,
                            text=self._nudge_text(conversation, customer), author_id=dm.author_id,
                            author_name=dm.author_name, in_reply_to=dm.in_reply_to, created_at=now, received_at=now,
                            delivery_status=DeliveryStatus.PENDING)
            session.add(nudge)
            session.flush()
            return nudge.id

    def _nudge_text(self, conversation: Conversation, customer: Customer | None) -> str:
        return rules.render_nudge(self.nudge_template, handle=customer.handle if customer else "",
                                  prefix=self._rules(conversation.platform).handle_prefix, ref=conversation.ref)

    def _rules(self, platform: str) -> Rules:
        """The rules of a registered network; ReplyRefused for one this Parley cannot send on."""
        if platform not in self.registry:
            raise ReplyRefused(f"Parley cannot send on {platform}: it is not a configured network here. "
                               "Nothing was sent.")
        return self.registry.rules(platform)

    def _audit_refusal(self, session: Session, conversation: Conversation, agent_id: str, mode: Mode, reason: str,
                       now: datetime) -> None:
        entry = AuditEntry(at=now, actor=agent_id, action=f"reply_{mode.value}", conversation_id=conversation.id,
                           platform=conversation.platform, outcome="refused", detail=reason)

        def write() -> None:
            with self.store.transaction() as audit:
                audit.add(entry)
        own_transaction(session, write)

    @staticmethod
    def _by_key(session: Session, key: str) -> Message | None:
        return session.exec(select(Message).where(Message.send_key == key)).first()

    @staticmethod
    def _heard(session: Session, conversation: Conversation) -> list[rules.Heard]:
        rows = session.exec(select(Message).where(Message.conversation_id == conversation.id,
                                                  Message.direction == Direction.INBOUND)).all()
        return [rules.Heard(m.kind, m.external_id, m.created_at) for m in rows]

    def _private_replied(self, session: Session, conversation: Conversation) -> list[str]:
        ops = dispatch.private_reply_ops(self.registry, conversation.platform)
        return [t for t in session.exec(select(Message.in_reply_to).where(  # a private reply names its comment
            Message.conversation_id == conversation.id, col(Message.kind).in_(ops),
            Message.delivery_status != DeliveryStatus.FAILED)).all() if t is not None]
