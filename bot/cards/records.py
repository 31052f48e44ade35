"""The plain records the list, reminder, report and App Home builders take, and how one row reads.

Callers (commands/, bot/sla/, jobs) fill these from the database; builders never query anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.cards.blocks import user
from bot.cards.mrkdwn import clip, escape, human_duration, safe_url
from connectors.registry import shipped_rules

SLA_STATES = ("ok", "warning", "breached", "escalated", "paused", "met", "none")
_SLA_EMOJI = {
    "ok": "⏱️",
    "warning": "⚠️",
    "breached": "🔴",
    "escalated": "🚨",
    "paused": "⏸️",
    "met": "✅",
}
_OVERDUE = ("breached", "escalated")
_SNIPPET_MAX = 90
_HANDLE_MAX = 40

KIND_LABEL = {
    "mention": "mention",
    "search_hit": "search hit",
    "comment": "comment",
    "visitor_post": "visitor post",
    "dm": "DM",
    "messenger": "DM",  # the platform label already says Messenger
}
_STATUS_EMOJI = {"open": "🔵", "pending": "🟡", "snoozed": "💤", "resolved": "✅"}
_PRIORITY_MARK = {"urgent": "🔥 urgent", "high": "⚠️ high"}  # normal and low stay quiet in lists


@dataclass(frozen=True)
class SlaBadge:
    """A conversation's SLA state as bot/sla/ judged it, with `label` already in words
    ("12m left", "overdue by 1h 05m"). state: ok, warning, breached, escalated, paused, met, none."""

    state: str
    label: str

    def __post_init__(self) -> None:
        if self.state not in SLA_STATES:
            raise ValueError(f"unknown SLA state {self.state!r}; one of {', '.join(SLA_STATES)}")

    @property
    def overdue(self) -> bool:
        return self.state in _OVERDUE


@dataclass(frozen=True)
class LastReply:
    """The latest reply staff sent to the customer (public or private) and where it was posted."""

    agent_id: str
    public: bool
    at: datetime
    url: str | None = None


@dataclass(frozen=True)
class Hidden:
    """Customer comments of the case staff hid on the network: how many, the latest by whom and when."""

    agent_id: str
    at: datetime
    count: int


@dataclass(frozen=True)
class ConversationRow:
    """One conversation in a list, reminder, report or App Home section."""

    ref: int
    platform: str
    kind: str
    handle: str
    snippet: str  # the customer's words; escaped and cut by the builders
    status: str
    priority: str
    assignee: str | None
    first_seen_at: datetime
    waiting_since: datetime | None = None  # None: nobody waits on us
    sla: SlaBadge | None = None
    permalink: str | None = None  # the Slack thread


@dataclass(frozen=True)
class ReportFigures:
    """Team figures for a period (digest, /social stats, App Home). None is shown as "—"."""

    period_label: str
    open: int
    overdue: int
    answered: int
    median_first_response_business: timedelta | None
    p90_first_response_business: timedelta | None
    median_first_response_calendar: timedelta | None
    p90_first_response_calendar: timedelta | None
    sla_compliance_pct: float | None
    complaint_response_rate_pct: float | None
    oldest_waiting: ConversationRow | None
    new_conversations: int
    resolved: int
    share_of_voice: dict[str, int] = field(default_factory=dict)
    csat: tuple[int, float | None, float | None] = (0, None, None)  # answers, average 1-5, response rate %


@dataclass(frozen=True)
class PlatformHealthRow:
    """Connection health of one platform stream for App Home."""

    name: str
    ok: bool
    last_success_at: datetime | None
    last_error: str | None = None
    paused_until: datetime | None = None
    usage: str | None = None  # what the network billed so far ("X spend: $1.20 today, …")


def sla_text(badge: SlaBadge | None) -> str:
    """"⏱️ 12m left", "🔴 overdue by 1h 05m", …; "" for no badge or state "none"."""
    if badge is None or badge.state == "none":
        return ""
    label = clip(" ".join(badge.label.split()), 80) or badge.state
    if badge.overdue and "overdue" not in label.lower():
        label = f"overdue · {label}"
    if badge.state == "escalated":
        label += " · escalated"
    elif badge.state == "paused":
        label = f"SLA paused · {label}"
    elif badge.state == "met":
        label = f"SLA met · {label}"
    return f"{_SLA_EMOJI[badge.state]} {label}"


def ago(then: datetime, now: datetime) -> str:
    """Time since `then` for mrkdwn: escaped, since "<1m" must not open a Slack <link>."""
    return escape(human_duration((now - then).total_seconds()))


def snippet(text: str, limit: int = _SNIPPET_MAX) -> str:
    """The customer's words on one line, escaped and cut."""
    return clip(" ".join(text.split()), limit) or "_(no text)_"


def platform_name(platform: str, kind: str | None = None) -> str:
    """"X", "Facebook", or "Messenger" for a Messenger conversation: as the network's rules name it."""
    rules = shipped_rules(platform)
    return rules.site(kind) if rules is not None else clip(platform, 20)


def platform_link(platform: str, url: str | None) -> str | None:
    """A link to the original on its network, safe inside <url|label>; None when `url` is not on one
    of the network's own hosts (a customer's link must never pass for "Open on Facebook")."""
    rules = shipped_rules(platform)
    return safe_url(rules.permalink(url)) if rules is not None else None


def platform_badge(platform: str, kind: str | None = None) -> str:
    """"🐦 X", "📘 Facebook", "💬 Messenger": the network's emoji and name for card titles."""
    rules = shipped_rules(platform)
    return rules.label(kind) if rules is not None else clip(platform, 20)


def handle_prefix(platform: str) -> str:
    """What goes before a customer's handle on cards: the network's own prefix ("@" on X and
    Instagram, none for an e-mail address); "@" for a network Parley does not ship."""
    rules = shipped_rules(platform)
    return rules.handle_prefix if rules is not None else "@"


def handle_label(platform: str, handle: str) -> str:
    """"@dana" on X, the stored name on Facebook, "unknown" without one: mrkdwn, already escaped."""
    if not handle:
        return "unknown"
    # Networks without handles (Facebook) store the name there: no "@" unless the rules say so.
    rules = shipped_rules(platform)
    return (rules.handle_prefix if rules is not None else "") + clip(handle, _HANDLE_MAX)


def ref_link(row: ConversationRow) -> str:
    url = safe_url(row.permalink)
    return f"*<{url}|#{row.ref}>*" if url else f"*#{row.ref}*"


def platform_label(row: ConversationRow) -> str:
    label = platform_badge(row.platform, row.kind)
    return f"{label} {KIND_LABEL.get(row.kind, clip(row.kind, 20))}"


def waited(row: ConversationRow, now: datetime) -> str:
    if row.waiting_since is not None:
        return f"waiting {ago(row.waiting_since, now)}"
    if row.status == "resolved":
        return f"opened {ago(row.first_seen_at, now)} ago · resolved"
    return f"opened {ago(row.first_seen_at, now)} ago"


def row_line(row: ConversationRow, now: datetime | None, *, assignee: bool = True) -> str:
    """One row: "#12 · 🐦 X mention · @maria · “snippet” · 🔵 open · waiting 42m · 🔴 overdue… · 👤 <@U1>".

    Without `now` the age is left out (messages whose badge label already says it).
    """
    parts = [
        ref_link(row),
        platform_label(row),
        handle_label(row.platform, row.handle),
        f"“{snippet(row.snippet)}”",
        f"{_STATUS_EMOJI.get(row.status, '▫️')} {clip(row.status, 12)}",
    ]
    if row.priority in _PRIORITY_MARK:
        parts.append(_PRIORITY_MARK[row.priority])
    if now is not None:
        parts.append(waited(row, now))
    badge = sla_text(row.sla)
    if badge:
        parts.append(badge)
    if assignee:
        parts.append(f"👤 {user(row.assignee)}")
    return " · ".join(parts)


def pct(value: float | None) -> str:
    # One decimal, so 99.6% never shows as a perfect 100%.
    return "—" if value is None else f"{value:.1f}".removesuffix(".0") + "%"


def duration(value: timedelta | None) -> str:
    return "—" if value is None else escape(human_duration(value.total_seconds()))
