"""The configured SLA policy applied to stored conversations: one place that turns a Conversation
into its clock (bot/sla/), its badge on cards and lists, and its row in lists and reports.

Built once per process from settings; everything here reads, nothing writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.cards.records import ConversationRow, SlaBadge
from bot.sla import BusinessHours, ClockInput, SlaConfig, SlaState, SlaStatus, evaluate, format_duration, sla_label
from bot.sla.measured import FirstResponseMeter
from bot.sla.waiting import PauseMeter
from bot.store.keys import row_id
from bot.store.models import Conversation, Customer

_BADGE_STATE = {
    SlaState.OK: "ok", SlaState.WARNING: "warning", SlaState.BREACHED: "breached",
    SlaState.ESCALATED: "escalated", SlaState.PAUSED: "paused", SlaState.NONE: "none",
}


def local_time(at: datetime, now: datetime, timezone: str) -> str:
    """`at` in the business-hours time zone: '14:05 CET', or 'Fri 09:30 CET' when not within a day."""
    local = at.astimezone(ZoneInfo(timezone))
    return local.strftime("%H:%M %Z" if at - now < timedelta(hours=20) else "%a %d %b %H:%M %Z")


@dataclass(frozen=True)
class ServiceLevel:
    config: SlaConfig
    hours: BusinessHours

    @classmethod
    def of(cls, config: SlaConfig) -> ServiceLevel:
        return cls(config, config.business_hours())

    @property
    def pause_meter(self) -> PauseMeter:
        """Business seconds between two instants: what a snooze keeps out of a customer's wait."""
        return self.hours.business_seconds

    @property
    def first_response_meter(self) -> FirstResponseMeter:
        """Measures (and names) first-response times under these business hours (bot/sla/measured.py)."""
        return FirstResponseMeter(self.hours)

    def status(self, conversation: Conversation, now: datetime) -> SlaStatus:
        return evaluate(ClockInput.of(conversation), self.config, self.hours, now)

    def badge(self, conversation: Conversation, now: datetime) -> SlaBadge | None:
        """What cards and lists show: the running clock, or "met" once answered in time."""
        status = self.status(conversation, now)
        if status.state is SlaState.NONE:
            return self._met(conversation)
        label = sla_label(status, now)
        if status.due_at is not None and status.state in (SlaState.OK, SlaState.WARNING):
            label += f" · due {local_time(status.due_at, now, self.hours.timezone)}"  # true between card updates
        return SlaBadge(_BADGE_STATE[status.state], label)

    def _met(self, conversation: Conversation) -> SlaBadge | None:
        if conversation.first_response_at is None:
            return None
        targets = self.config.targets(conversation.priority, conversation.platform, conversation.channel)
        took = self.hours.business_time(conversation.first_seen_at, conversation.first_response_at)
        if took <= targets.first_response:
            return SlaBadge("met", f"first reply in {format_duration(took)}")
        target = format_duration(targets.first_response)  # answered late: say so without alarm colours
        return SlaBadge("none", f"first reply in {format_duration(took)} (target {target})")

    def row(self, conversation: Conversation, customer: Customer | None, snippet: str, now: datetime, *,
            permalink: str | None = None, badge: bool = True) -> ConversationRow:
        return ConversationRow(
            ref=conversation.ref or row_id(conversation), platform=conversation.platform, kind=conversation.kind,
            handle=(customer.handle if customer else "") or "", snippet=snippet, status=conversation.status,
            priority=conversation.priority, assignee=conversation.assignee,
            first_seen_at=conversation.first_seen_at, waiting_since=conversation.waiting_since,
            sla=self.badge(conversation, now) if badge else None, permalink=permalink)
