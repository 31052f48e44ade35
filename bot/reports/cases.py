"""The stored facts the KPIs are computed from, read once per report into plain records.

`load_cases` reads every conversation a period can count (touched in the period, or not resolved:
the "now" figures need every waiting case), with its customer, its staff replies, its customer
messages and its snoozes; `load_voices` reads the customer messages written in the period with the
search queries that found them. Nothing here is platform-specific and nothing is written.

A **staff reply** is an outbound message that reached the platform (delivery status "sent"), at the
moment it was delivered (its creation time if no delivery time was stored), by the Slack user in
`author_id`. The short public pointer sent beside an X DM (an op whose spec `is_nudge`) is part of that DM's
answer, not a reply of its own; Parley's satisfaction question (a `survey` op) is no reply at all. Internal
notes are never replies.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, union
from sqlalchemy.orm import load_only
from sqlmodel import Session, col, select

from bot.store.keys import row_id
from bot.store.models import (
    AuditEntry,
    Conversation,
    Customer,
    DeliveryStatus,
    Direction,
    Message,
    MessageMatch,
)
from connectors.registry import shipped_op

# What `load_period_cases` reads of a conversation: the headline KPIs and the SLA clock (ClockInput.of).
_ROW_COLUMNS = ("id", "ref", "customer_id", "status", "priority", "platform", "channel", "tone", "complaint",
                "first_seen_at", "waiting_since", "first_response_at", "resolved_at", "sla_paused_since",
                "sla_paused_seconds")

# Audit actions that end a snooze (a customer message ends one too; see `snoozed_intervals`).
_SNOOZE_ENDS = ("wake", "reopen", "resolve")


@dataclass(frozen=True)
class Reply:
    at: datetime
    agent: str  # Slack user id


@dataclass(frozen=True)
class Case:
    """One conversation as the KPIs see it: the row, who wrote, who answered, when it slept."""

    conversation: Conversation
    handle: str
    followers: int | None
    inbound: tuple[datetime, ...]  # customer messages, oldest first
    replies: tuple[Reply, ...]  # staff replies, oldest first
    snoozes: tuple[tuple[datetime, datetime], ...] = ()  # [start, end) spans spent snoozed

    @property
    def agent(self) -> str | None:
        """Who the case belongs to in per-agent figures: its assignee, else whoever replied first."""
        if self.conversation.assignee:
            return self.conversation.assignee
        return self.replies[0].agent if self.replies else None


@dataclass(frozen=True)
class Voice:
    """A customer message written in the period: where it was heard and which queries found it."""

    platform: str
    kind: str
    created_at: datetime
    queries: tuple[str, ...] = field(default_factory=tuple)


def _in_scope(start: datetime, end: datetime) -> ColumnElement[bool]:
    touched = or_(col(Conversation.resolved_at) >= start, col(Conversation.last_response_at) >= start,
                  col(Conversation.last_customer_message_at) >= start, col(Conversation.first_seen_at) >= start,
                  col(Conversation.csat_asked_at) >= start, col(Conversation.csat_at) >= start)
    return or_(col(Conversation.resolved_at).is_(None), and_(col(Conversation.first_seen_at) < end, touched))


def snoozed_intervals(snoozed_at: list[datetime], ended_at: list[datetime], inbound: tuple[datetime, ...],
                      until: datetime) -> tuple[tuple[datetime, datetime], ...]:
    """Spans spent snoozed: each snooze lasts until the next wake, reopen or resolve entry, the next
    customer message, or `until`, whichever comes first; a snooze inside a snooze extends it."""
    spans: list[tuple[datetime, datetime]] = []
    for start in sorted(snoozed_at):
        if spans and start < spans[-1][1]:
            continue  # re-snoozed while asleep: the first span already runs to the real end
        ends = [t for t in (*ended_at, *inbound) if t > start] + [until]
        end = min(ends)
        if end > start:
            spans.append((start, end))
    return tuple(spans)


def load_cases(session: Session, start: datetime, end: datetime, now: datetime) -> list[Case]:
    """The cases the period [start, end) can count, ordered by id (see the module docstring)."""
    scope = _in_scope(start, end)
    rows = session.exec(select(Conversation, Customer).join(Customer, col(Customer.id) == Conversation.customer_id)
                        .where(scope).order_by(col(Conversation.id))).all()
    inbound: dict[int, list[datetime]] = defaultdict(list)
    replies: dict[int, list[Reply]] = defaultdict(list)
    messages = session.exec(select(Message).join(Conversation, col(Conversation.id) == Message.conversation_id)
                            .where(scope, col(Message.direction) != Direction.NOTE)).all()
    for m in messages:
        if m.direction == Direction.INBOUND:
            inbound[m.conversation_id].append(m.created_at)
        elif m.delivery_status == DeliveryStatus.SENT and not _is_nudge(m.kind) and not _is_survey(m.kind):
            replies[m.conversation_id].append(Reply(m.delivered_at or m.created_at, m.author_id))
    snoozed: dict[int, list[datetime]] = defaultdict(list)
    ended: dict[int, list[datetime]] = defaultdict(list)
    entries = session.exec(select(AuditEntry).join(Conversation, col(Conversation.id) == AuditEntry.conversation_id)
                           .where(scope, col(AuditEntry.action).in_(("snooze", *_SNOOZE_ENDS)))).all()
    for e in entries:
        if e.conversation_id is not None:  # always, by the join: the column is optional for entries on no case
            (snoozed if e.action == "snooze" else ended)[e.conversation_id].append(e.at)
    cases = []
    for conversation, customer in rows:
        key = row_id(conversation)
        heard = tuple(sorted(inbound[key]))
        until = conversation.resolved_at or now
        cases.append(Case(conversation, customer.handle, customer.followers, heard,
                          tuple(sorted(replies[key], key=lambda r: r.at)),
                          snoozed_intervals(snoozed[key], ended[key], heard, until)))
    return cases


def load_period_cases(session: Session, start: datetime, end: datetime) -> list[Case]:
    """The conversations first seen, first answered or resolved in [start, end), ordered by id, with their
    customer and nothing else (no messages, replies or snoozes): enough for the KPIs that read only the
    conversation row (App Home's headline). Each of the three is found through its own index, so the
    cost follows the period's cases, not the size of the store."""
    periods = [select(col(Conversation.id)).where(column >= start, column < end)
               for column in (col(Conversation.first_seen_at), col(Conversation.first_response_at),
                              col(Conversation.resolved_at))]
    ids = union(*periods).subquery()
    # Only the columns these KPIs and the SLA clock read: a week of a busy store is thousands of rows,
    # and every timestamp read costs a parse.
    rows = session.exec(select(Conversation, Customer.handle, Customer.followers)
                        .options(load_only(*(getattr(Conversation, name) for name in _ROW_COLUMNS)))
                        .join(Customer, col(Customer.id) == Conversation.customer_id)
                        .where(col(Conversation.id).in_(select(ids.c.id))).order_by(col(Conversation.id))).all()
    return [Case(conversation, handle, followers, (), ()) for conversation, handle, followers in rows]


def load_voices(session: Session, start: datetime, end: datetime) -> list[Voice]:
    """Customer messages created in [start, end), each with the search query names that found it."""
    rows = session.exec(select(Message, MessageMatch.query_name)
                        .join(MessageMatch, col(MessageMatch.message_id) == Message.id, isouter=True)
                        .where(Message.direction == Direction.INBOUND, col(Message.created_at) >= start,
                               col(Message.created_at) < end).order_by(col(Message.id))).all()
    found: dict[int, tuple[str, str, datetime, list[str]]] = {}
    for message, query in rows:  # one row per matching query; query is None (outer join) for none
        entry = found.setdefault(row_id(message), (message.platform, message.kind, message.created_at, []))
        if query:
            entry[3].append(query)
    return [Voice(p, k, at, tuple(sorted(q))) for p, k, at, q in found.values()]


def _is_nudge(kind: str) -> bool:
    """Whether a stored outbound op is a public notice that follows a DM (X's), not an answer."""
    try:
        return shipped_op(kind).is_nudge
    except ValueError:  # not an op of a shipped network: an answer like any other
        return False


def _is_survey(kind: str) -> bool:
    """Whether a stored outbound op is Parley's satisfaction question (CSAT): no staff reply."""
    try:
        return shipped_op(kind).survey
    except ValueError:
        return False
