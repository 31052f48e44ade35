"""CSAT: the one satisfaction question Parley asks when a private conversation is resolved.

The question is an outbound message like a staff reply (stored PENDING before anything is sent, sent
once by `Sender.deliver`, audited and echoed in the thread by `settle`), whose op is the network's
survey op (`Rules.survey_op`, an `OpSpec` with `survey`). It is asked:
- only for the conversation kinds named in PARLEY_CSAT (off by default), and only where the network keeps the
  conversation private (`Rules.private_kinds`): never under a public comment, mention or post;
- at most once per conversation, ever: its idempotency key is `csat:<conversation id>`, a unique
  column, so resolving a reopened case again asks nothing;
- only while every messaging window of the kind is open (`Rules.windows_for`, measured from the
  customer's latest message): a survey is not a human agent's answer, so it never goes under a
  HUMAN_AGENT tag, and it is checked again just before sending (`unsendable`).
A network with no survey op is never asked. No network is named here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from bot.config_file import ConfigError
from bot.store.keys import row_id
from bot.store.models import Conversation, DeliveryStatus, Direction, Message, Status
from bot.triage import rating
from connectors.base import Rules
from connectors.registry import SHIPPED, Registry

AUTHOR = "parley"  # the survey's author_id: Parley itself, not a person


@dataclass(frozen=True, slots=True)
class Decision:
    ask: bool
    why: str  # plain words, for tests and logs


def key_of(conversation: Conversation) -> str:
    return f"csat:{row_id(conversation)}"


def windows_open(rules: Rules, kind: str, customer_wrote_at: datetime | None, now: datetime) -> bool:
    """Whether every messaging window of `kind` is still open `now` (True where the network has none)."""
    if customer_wrote_at is None:
        return False
    return all(now - customer_wrote_at <= window.length for window in rules.windows_for(kind))


def parse_kinds(value: object) -> frozenset[str]:
    """PARLEY_CSAT: comma-separated private conversation kinds ("messenger", "dm") or "platform:kind"
    ("x:dm"), as the set of "platform:kind" asked; empty or "off" asks nobody. ConfigError otherwise."""
    if isinstance(value, frozenset | set):
        return frozenset(str(v) for v in value)
    # Only networks that can ask (a survey op): e-mail's `dm` is no CSAT kind.
    known = {f"{r.platform}:{k}": k for r in SHIPPED.values() if r.survey_op() for k in r.private_kinds}
    chosen: set[str] = set()
    for word in (w.strip().lower() for w in str(value or "").split(",")):
        if word in ("", "off", "none"):
            continue
        matched = {pk for pk, kind in known.items() if word in (pk, kind)}
        if not matched:
            raise ConfigError(f"PARLEY_CSAT: {word!r} is no private conversation kind; use any of "
                              f"{', '.join(sorted({*known, *known.values()}))}")
        chosen |= matched
    return frozenset(chosen)


def decide(*, enabled: Iterable[str], rules: Rules, kind: str, already_asked: bool,
           customer_wrote_at: datetime | None, now: datetime) -> Decision:
    """Whether to ask a just-resolved conversation of `kind` for a rating (see the module docstring).
    `enabled` holds "platform:kind" (`parse_kinds`)."""
    if f"{rules.platform}:{kind}" not in set(enabled):
        return Decision(False, f"CSAT is not switched on for {kind} conversations (PARLEY_CSAT)")
    if not rules.is_private(kind):
        return Decision(False, "a public thread is never asked")
    if rules.survey_op() is None:
        return Decision(False, f"{rules.name} has no way to ask")
    if already_asked:
        return Decision(False, "this conversation was asked once already")
    if not windows_open(rules, kind, customer_wrote_at, now):
        return Decision(False, "the messaging window has closed")
    return Decision(True, "ask")


def queue(session: Session, registry: Registry, conversation: Conversation, enabled: Iterable[str],
          now: datetime) -> Message | None:
    """Store the question for a resolved conversation (PENDING) when `decide` says so, else None."""
    if conversation.platform not in registry:
        return None
    rules, key = registry.rules(conversation.platform), key_of(conversation)
    heard = session.exec(select(Message).where(Message.conversation_id == row_id(conversation),
                                               Message.direction == Direction.INBOUND)).all()
    latest = max(heard, key=lambda m: (m.created_at, m.id or 0), default=None)
    asked = session.exec(select(Message.id).where(Message.send_key == key)).first() is not None
    decision = decide(enabled=enabled, rules=rules, kind=conversation.kind, already_asked=asked,
                      customer_wrote_at=latest.created_at if latest else None, now=now)
    op = rules.survey_op()
    if not decision.ask or latest is None or op is None:
        return None
    message = Message(conversation_id=row_id(conversation), platform=conversation.platform, external_id=f"out:{key}",
                      send_key=key, direction=Direction.OUTBOUND, kind=op, text=rating.QUESTION, author_id=AUTHOR,
                      author_name="Parley", in_reply_to=latest.external_id, created_at=now, received_at=now,
                      delivery_status=DeliveryStatus.PENDING)
    session.add(message)
    session.flush()
    return message


def unsendable(session: Session, registry: Registry, message: Message, now: datetime) -> str | None:
    """Why a queued question must not go out after all (the case was reopened, or its window closed
    while it waited), in plain words; None for anything that is not a question, or one still due."""
    if message.platform not in registry:
        return None
    rules = registry.rules(message.platform)
    spec = rules.ops.get(message.kind)
    if spec is None or not spec.survey:
        return None
    conversation = session.get_one(Conversation, message.conversation_id)
    if conversation.status != Status.RESOLVED:
        return "Not asked: the case was reopened before the satisfaction question went out."
    if not windows_open(rules, conversation.kind, conversation.last_customer_message_at, now):
        return "Not asked: the messaging window closed before the satisfaction question went out."
    return None
