"""One conversation's SLA clock at `now`: pure, no database, no Slack.

The clock runs while a customer waits on us (`waiting_since` set, not resolved) and counts business
time only, minus the business time the case spent snoozed (`sla_paused_seconds`, plus a pause in
progress since `sla_paused_since`). The wait is a first-response wait until the first reply
(`first_response_at`), a next-response wait after it.

States as business time passes: OK → WARNING (at `warning_at` of the target) → BREACHED (at the
target) → ESCALATED (at `SlaConfig.escalation_offset(target)`). A snoozed case is PAUSED; nothing
waiting is NONE. `period` names the waiting period, so a reminder fires once per period.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.sla.hours import BusinessHours
from bot.sla.policy import SlaConfig, Targets

FIRST_RESPONSE = "first_response"
NEXT_RESPONSE = "next_response"


class SlaState(enum.StrEnum):
    NONE = "none"  # nobody waits on us
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    ESCALATED = "escalated"
    PAUSED = "paused"  # snoozed


@dataclass(frozen=True)
class ClockInput:
    """The conversation fields the clock reads (plain values, so this module needs no DB models)."""

    status: str
    priority: str
    platform: str
    channel: str
    first_seen_at: datetime
    waiting_since: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    sla_paused_since: datetime | None = None
    sla_paused_seconds: float = 0.0

    @classmethod
    def of(cls, conversation: Any) -> ClockInput:
        """Read the fields by name from a Conversation (or anything with the same attributes)."""
        return cls(
            status=str(conversation.status),
            priority=str(conversation.priority),
            platform=str(conversation.platform),
            channel=conversation.channel,
            first_seen_at=conversation.first_seen_at,
            waiting_since=conversation.waiting_since,
            first_response_at=conversation.first_response_at,
            resolved_at=conversation.resolved_at,
            sla_paused_since=conversation.sla_paused_since,
            sla_paused_seconds=float(conversation.sla_paused_seconds or 0.0),
        )


@dataclass(frozen=True)
class SlaStatus:
    """The clock of one conversation at `at`. Times are aware UTC; durations are business time."""

    at: datetime
    state: SlaState
    kind: str | None = None  # "first_response" | "next_response" | None
    target: timedelta | None = None
    started_at: datetime | None = None  # waiting_since
    elapsed: timedelta = timedelta(0)  # business time waited, pauses excluded
    remaining: timedelta | None = None  # target - elapsed; negative when overdue
    warn_at: datetime | None = None  # None while paused
    due_at: datetime | None = None
    escalate_at: datetime | None = None
    period: str | None = None  # e.g. "first_response:1767258000"; keys once-per-period reminders
    resolution_due_at: datetime | None = None  # first_seen_at + resolution target (no pauses), if any

    @property
    def running(self) -> bool:
        return self.state in (SlaState.OK, SlaState.WARNING, SlaState.BREACHED, SlaState.ESCALATED)

    @property
    def overdue(self) -> bool:
        return self.state in (SlaState.BREACHED, SlaState.ESCALATED)


def _paused_seconds(inp: ClockInput, hours: BusinessHours, now: datetime) -> float:
    total = inp.sla_paused_seconds or 0.0
    if inp.sla_paused_since is not None and inp.waiting_since is not None:
        total += pause_ended(inp.sla_paused_since, now, hours, waiting_since=inp.waiting_since)
    return total


def wait_period(first_response_at: datetime | None, waiting_since: datetime) -> str:
    """The name of one waiting period (`SlaStatus.period`): its kind and when the wait began."""
    kind = FIRST_RESPONSE if first_response_at is None else NEXT_RESPONSE
    return f"{kind}:{int(waiting_since.timestamp())}"


def _wait(inp: ClockInput, targets: Targets, hours: BusinessHours, now: datetime
          ) -> tuple[str, timedelta, timedelta, timedelta]:
    """(kind of wait, its target, business time paused, business time waited) of a running wait."""
    assert inp.waiting_since is not None  # callers check that someone waits
    kind = FIRST_RESPONSE if inp.first_response_at is None else NEXT_RESPONSE
    target = targets.first_response if kind == FIRST_RESPONSE else targets.next_response
    paused = timedelta(seconds=_paused_seconds(inp, hours, now))
    return kind, target, paused, max(timedelta(0), hours.business_time(inp.waiting_since, now) - paused)


def overdue_kind(inp: ClockInput, config: SlaConfig, hours: BusinessHours, now: datetime) -> str | None:
    """The kind of wait when `evaluate(…).overdue` (breached or escalated), else None: the same test
    without the due times, for the reports that judge every waiting case at once."""
    if inp.status in ("resolved", "snoozed") or inp.waiting_since is None or inp.sla_paused_since is not None:
        return None
    kind, target, _, elapsed = _wait(inp, config.targets(inp.priority, inp.platform, inp.channel), hours,
                                     now.astimezone(UTC))
    return kind if elapsed >= target else None


def evaluate(inp: ClockInput, config: SlaConfig, hours: BusinessHours, now: datetime) -> SlaStatus:
    """The SLA status of one conversation at `now` (an aware datetime)."""
    if now.tzinfo is None:
        raise ValueError("evaluate needs a timezone-aware now")
    now = now.astimezone(UTC)
    targets = config.targets(inp.priority, inp.platform, inp.channel)
    resolution_due_at = None
    if targets.resolution is not None and inp.status != "resolved":
        resolution_due_at = hours.add(inp.first_seen_at, targets.resolution)
    if inp.status == "resolved" or inp.waiting_since is None:
        return SlaStatus(at=now, state=SlaState.NONE, resolution_due_at=resolution_due_at)

    waiting_since = inp.waiting_since.astimezone(UTC)
    kind, target, paused, elapsed = _wait(inp, targets, hours, now)
    warn_offset = target * config.warning_at
    escalate_offset = config.escalation_offset(target)
    paused_now = SlaStatus(at=now, state=SlaState.PAUSED, kind=kind, target=target, started_at=waiting_since,
                           elapsed=elapsed, remaining=target - elapsed,
                           period=wait_period(inp.first_response_at, waiting_since),
                           resolution_due_at=resolution_due_at)
    if inp.sla_paused_since is not None or inp.status == "snoozed":
        return paused_now
    if elapsed >= escalate_offset:
        state = SlaState.ESCALATED
    elif elapsed >= target:
        state = SlaState.BREACHED
    elif elapsed >= warn_offset:
        state = SlaState.WARNING
    else:
        state = SlaState.OK
    # Paused business time pushes every threshold later by the same business amount.
    start = waiting_since
    return replace(paused_now, state=state, warn_at=hours.add(start, warn_offset + paused),
                   due_at=hours.add(start, target + paused), escalate_at=hours.add(start, escalate_offset + paused))


def pause_ended(paused_since: datetime, now: datetime, hours: BusinessHours,
                waiting_since: datetime | None = None) -> float:
    """Business seconds to add to `sla_paused_seconds` when a snooze that began at `paused_since` ends
    at `now` (only the part after `waiting_since`, when given, counts)."""
    start = max(paused_since, waiting_since) if waiting_since is not None else paused_since
    return hours.business_seconds(start, now)


def first_response_time(first_seen_at: datetime, first_response_at: datetime,
                        hours: BusinessHours) -> tuple[timedelta, timedelta]:
    """(business, calendar) time from the customer's first message to our first reply."""
    calendar = max(timedelta(0), first_response_at - first_seen_at)
    return hours.business_time(first_seen_at, first_response_at), calendar


def format_duration(value: timedelta) -> str:
    """Short human duration: '45s', '12m', '1h 05m', '2d 3h' (absolute value)."""
    seconds = int(abs(value.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def sla_label(status: SlaStatus, now: datetime | None = None) -> str:
    """'12m left', 'overdue by 1h 05m', 'paused (snoozed)', or '' when nothing waits.

    The figures are business time as evaluated at `status.at` (evaluate at the render time); `now` is
    accepted for callers that pass their render time and does not change the figures.
    """
    if status.state is SlaState.NONE or status.remaining is None:
        return ""
    if status.state is SlaState.PAUSED:
        return "paused (snoozed)"
    if status.remaining > timedelta(0):
        return f"{format_duration(status.remaining)} left"
    return f"overdue by {format_duration(status.remaining)}"
