"""A fixed week of cases for the KPI, series, chart and export tests; every expected value in those
tests is worked out by hand from the comments here.

Business hours: Monday to Friday 09:00-17:00 UTC; first-response targets normal 4h, urgent 15m.
NOW is Wednesday 2026-11-25 16:00 UTC; the period runs from Monday 00:00 to NOW.

case platform kind         customer (followers) channel agent   story
A    x        mention      big (1000)           C1      U1      seen Mon 10:00, complaint, negative, query acme;
                                                                reply U1 Mon 10:30; writes Mon 11:00; reply U1
                                                                Mon 12:00; resolved Mon 13:00 (a note in between)
B    facebook comment      fan (50)             C2      U2      urgent, seen Mon 16:00; reply U2 Tue 09:30;
                                                                resolved Tue 10:00
C    x        dm           quiet (unknown)      C1      U1*     seen Tue 09:00, positive; DM by U1 Tue 09:20 with
                                                                its public nudge; snoozed Tue 10:00-12:00 (wake);
                                                                resolved Tue 14:00            (*assignee)
D    x        search_hit   star (5000)          C1      -       seen Wed 09:00, complaint, negative, query rival;
                                                                unanswered, open, waiting since Wed 09:00
E    facebook visitor_post page (10)            C2      U2*     seen Wed 15:00; open, waiting since Wed 15:00
F    x        mention      old (200)            C1      U1      seen Fri 20 10:00, reply U1 Fri 10:30; writes Tue
                                                                10:00; reply U1 Tue 12:00; pending
G    facebook messenger    spam (0)             C3      -       seen Mon 13:00, complaint; a reply by U2 failed
                                                                Mon 13:10; resolved Mon 13:30 without a reply
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.reports.figures import Period
from bot.reports.service_level import ServiceLevel
from bot.sla.policy import parse_sla_config
from bot.store.database import Store
from bot.store.models import (
    AuditEntry,
    Conversation,
    Customer,
    DeliveryStatus,
    Direction,
    Message,
    MessageMatch,
    Status,
)

WEEKDAYS_9_TO_5 = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
NOW = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
PERIOD = Period(datetime(2026, 11, 23, tzinfo=UTC), NOW, "Mon to now")
_ids = itertools.count(1)


def service_level() -> ServiceLevel:
    return ServiceLevel.of(parse_sla_config({"business_hours": {"timezone": "UTC", "schedule": WEEKDAYS_9_TO_5}}))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@dataclass
class Story:
    platform: str
    kind: str
    handle: str
    followers: int | None
    channel: str
    seen: datetime
    status: str = Status.OPEN
    priority: str = "normal"
    tone: str = "neutral"
    complaint: bool = False
    assignee: str | None = None
    queries: tuple[str, ...] = ()
    inbound: list[datetime] = field(default_factory=list)  # follow-ups after the first message
    replies: list[tuple[datetime, str, str]] = field(default_factory=list)  # (at, agent, delivery status)
    waiting_since: datetime | None = None
    resolved: datetime | None = None
    audit: list[tuple[datetime, str]] = field(default_factory=list)
    nudge: bool = False
    note: bool = False


STORIES = {
    "A": Story("x", "mention", "big", 1000, "C1", at(23, 10), Status.RESOLVED, tone="negative", complaint=True,
               queries=("acme",), inbound=[at(23, 11)], replies=[(at(23, 10, 30), "U1", "sent"),
                                                                 (at(23, 12), "U1", "sent")],
               resolved=at(23, 13), note=True),
    "B": Story("facebook", "comment", "fan", 50, "C2", at(23, 16), Status.RESOLVED, priority="urgent",
               replies=[(at(24, 9, 30), "U2", "sent")], resolved=at(24, 10)),
    "C": Story("x", "dm", "quiet", None, "C1", at(24, 9), Status.RESOLVED, tone="positive", assignee="U1",
               replies=[(at(24, 9, 20), "U1", "sent")], nudge=True, resolved=at(24, 14),
               audit=[(at(24, 10), "snooze"), (at(24, 12), "wake"), (at(24, 14), "resolve")]),
    "D": Story("x", "search_hit", "star", 5000, "C1", at(25, 9), tone="negative", complaint=True,
               queries=("rival",), waiting_since=at(25, 9)),
    "E": Story("facebook", "visitor_post", "page", 10, "C2", at(25, 15), assignee="U2", waiting_since=at(25, 15)),
    "F": Story("x", "mention", "old", 200, "C1", at(20, 10), Status.PENDING, inbound=[at(24, 10)],
               replies=[(at(20, 10, 30), "U1", "sent"), (at(24, 12), "U1", "sent")]),
    "G": Story("facebook", "messenger", "spam", 0, "C3", at(23, 13), Status.RESOLVED, complaint=True,
               replies=[(at(23, 13, 10), "U2", "failed")], resolved=at(23, 13, 30)),
}


def _message(conversation: Conversation, n: int, direction: str, kind: str, author: str, created: datetime,
             status: str = DeliveryStatus.RECEIVED) -> Message:
    return Message(conversation_id=conversation.id, platform=conversation.platform, external_id=f"m{n}",
                   direction=direction, kind=kind, text="…", author_id=author, created_at=created,
                   delivery_status=status, delivered_at=created if status == DeliveryStatus.SENT else None)


def add(store: Store, s: Story) -> int:
    n = next(_ids)
    with store.transaction() as session:
        customer = Customer(platform=s.platform, external_id=f"c{n}", handle=s.handle, name=s.handle.title(),
                            followers=s.followers)
        session.add(customer)
        session.flush()
        sent = [r for r in s.replies if r[2] == "sent"]
        conversation = Conversation(
            platform=s.platform, kind=s.kind, thread_key=f"t{n}", customer_id=customer.id,
            query_names=",".join(s.queries), status=s.status, priority=s.priority, tone=s.tone,
            complaint=s.complaint, language="en", assignee=s.assignee, channel=s.channel, first_seen_at=s.seen,
            last_customer_message_at=max([s.seen, *s.inbound]), first_response_at=sent[0][0] if sent else None,
            last_response_at=sent[-1][0] if sent else None, waiting_since=s.waiting_since, resolved_at=s.resolved)
        session.add(conversation)
        session.flush()
        conversation.ref = conversation.id
        first = _message(conversation, n * 100, Direction.INBOUND, s.kind, customer.external_id, s.seen)
        session.add(first)
        session.flush()
        for name in s.queries:
            session.add(MessageMatch(message_id=first.id, query_name=name))
        for i, when in enumerate(s.inbound, 1):
            session.add(_message(conversation, n * 100 + i, Direction.INBOUND, s.kind, customer.external_id, when))
        reply_kind = {"x": "x_dm" if s.kind == "dm" else "x_reply", "facebook": "fb_comment"}[s.platform]
        for i, (when, agent, status) in enumerate(s.replies, 50):
            session.add(_message(conversation, n * 100 + i, Direction.OUTBOUND, reply_kind, agent, when, status))
        if s.nudge:
            when, agent, _ = s.replies[0]
            session.add(_message(conversation, n * 100 + 80, Direction.OUTBOUND, "x_nudge", agent, when, "sent"))
        if s.note:
            session.add(_message(conversation, n * 100 + 90, Direction.NOTE, "note", "U1", s.seen))
        for when, action in s.audit:
            session.add(AuditEntry(at=when, actor="U1", action=action, conversation_id=conversation.id,
                                   platform=s.platform))
        return conversation.id


def build(store: Store) -> dict[str, int]:
    """Store the week; {case letter: conversation id}."""
    return {name: add(store, story) for name, story in STORIES.items()}
