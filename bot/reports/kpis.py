"""Every KPI a manager asks for, defined once. The README's "Figures" table repeats these words.

A period is the half-open interval [start, end) of aware UTC instants (bot/reports/figures.Period).
Times are measured twice: in business time (the configured business hours) and in calendar time.
Spreads are the median and p90 **nearest-rank** (figures.nearest_rank: always an observed value;
the median of an even count is the lower middle one); None when there is nothing to measure.
A staff reply is a delivered outbound message (bot/reports/cases.py).

- new: conversations first seen (`first_seen_at`) in the period.
- answered: conversations whose first reply (`first_response_at`) is in the period.
- resolved: conversations whose (latest) resolution is in the period.
- replies: staff replies delivered in the period.
- first response time: over the answered conversations, first customer message → first reply.
- next response time: over staff replies after the first delivered in the period that answered a
  customer message: earliest customer message since the previous reply → this reply.
- resolution time: over the resolved conversations, first customer message → resolution.
- handling time: resolution time minus the time the case spent snoozed before its resolution (a
  snooze runs from the audit log's "snooze" entry to the next wake/reopen/resolve or customer message).
- first-contact resolution %: of the resolved conversations with at least one staff reply before
  resolution, the share that had exactly one.
- response rate % (all, complaints): of the conversations first seen in the period (flagged as
  complaints), the share with a first reply at or before `now`.
- SLA compliance %: hits / (answered + unanswered misses) · 100, exactly as bot/reports/figures.py
  (a hit is an answered conversation within its business-time first-response target; an unanswered
  miss was first seen in the period, is not resolved, and its first-response clock is overdue at `now`).
- backlog: conversations "open" (waiting on us) at `now`; overdue: waiting, not resolved, clock
  breached or escalated at `now`; oldest waiting: the open conversation waiting longest.
- reach: followers of the distinct customers a staff reply delivered in the period went to
  ("followers reached by our replies"; unknown follower counts count 0).
- tone mix: new conversations by tone (the conversation's current tone).
- volume by platform / channel / local hour of day (business-hours time zone) / search query: new
  conversations; a conversation found by two queries counts for both.
- influence: the customers with the most followers among those who wrote in the period.
- share of voice: customer messages written in the period, per search query name (MessageMatch) and
  per platform; "@mentions" counts the public messages addressed to the brand on each platform
  (everything heard that is neither a search hit nor a private message).
- CSAT answers and average: the customers' ratings (1-5) given in the period, and their mean; CSAT
  response rate %: of the satisfaction questions that reached a customer in the period, the share answered.

Breakdowns compute the same KPIs on a subset of cases: by agent (the assignee, else the author of the
first staff reply; "unassigned" otherwise), by platform, by Slack channel. Per replying agent (the
author of each staff reply): replies delivered in the period, and the first response time of the
conversations whose first reply they sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.reports import timing
from bot.reports.cases import Case, Voice, load_cases, load_voices
from bot.reports.figures import Period, VoiceSources, nearest_rank
from bot.reports.satisfaction import Csat, csat_of
from bot.reports.service_level import ServiceLevel
from bot.sla.clock import FIRST_RESPONSE
from bot.store.models import Status
from connectors.registry import shipped_voice_sources

UNASSIGNED = "unassigned"
INFLUENCERS = 5


@dataclass(frozen=True)
class Spread:
    count: int
    median: timedelta | None
    p90: timedelta | None

    @classmethod
    def of(cls, values: Sequence[timedelta]) -> Spread:
        return cls(len(values), nearest_rank(values, 50), nearest_rank(values, 90))


@dataclass(frozen=True)
class Timing:
    business: Spread
    calendar: Spread

    @classmethod
    def of(cls, tooks: Sequence[timing.Took]) -> Timing:
        return cls(Spread.of([t.business for t in tooks]), Spread.of([t.calendar for t in tooks]))


@dataclass(frozen=True)
class Kpis:
    new: int
    answered: int
    resolved: int
    replies: int
    first_response: Timing
    next_response: Timing
    resolution: Timing
    handling: Timing
    first_contact_resolution_pct: float | None
    response_rate_pct: float | None
    complaint_response_rate_pct: float | None
    sla_compliance_pct: float | None
    backlog: int
    overdue: int
    oldest_waiting_ref: int | None
    oldest_waiting_since: datetime | None
    reach: int
    tone_mix: dict[str, int]
    csat: Csat = field(default_factory=Csat)


@dataclass(frozen=True)
class Influencer:
    handle: str
    platform: str
    followers: int


@dataclass(frozen=True)
class Report:
    period: Period
    team: Kpis
    by_agent: dict[str, Kpis]
    by_platform: dict[str, Kpis]
    by_channel: dict[str, Kpis]
    volume_by_platform: dict[str, int]
    volume_by_channel: dict[str, int]
    volume_by_hour: dict[int, int]
    volume_by_query: dict[str, int]
    influencers: list[Influencer]
    share_of_voice: dict[str, dict[str, int]] = field(default_factory=dict)
    replies_by_agent: dict[str, int] = field(default_factory=dict)
    first_response_by_agent: dict[str, Timing] = field(default_factory=dict)


def _within(at: datetime | None, period: Period) -> bool:
    return at is not None and period.start <= at < period.end


def _pct(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def new_cases(cases: Sequence[Case], period: Period) -> list[Case]:
    return [c for c in cases if _within(c.conversation.first_seen_at, period)]


def first_responses(cases: Sequence[Case], period: Period, sl: ServiceLevel) -> list[tuple[Case, timing.Took]]:
    """(case, first response time) of the cases answered in the period."""
    timed = [(c, timing.first_response(c, sl.hours)) for c in cases
             if _within(c.conversation.first_response_at, period)]
    return [(c, took) for c, took in timed if took is not None]


def sla_compliance(cases: Sequence[Case], period: Period, sl: ServiceLevel, now: datetime) -> float | None:
    """Hits / (answered + unanswered misses) · 100; see the module docstring."""
    answered = first_responses(cases, period, sl)
    hits = sum(took.business <= sl.config.targets(c.conversation.priority, c.conversation.platform,
                                                  c.conversation.channel).first_response for c, took in answered)
    misses = 0
    for case in new_cases(cases, period):
        c = case.conversation
        if c.first_response_at is None and c.status != Status.RESOLVED and c.waiting_since is not None:
            status = sl.status(c, now)
            misses += status.overdue and status.kind == FIRST_RESPONSE
    return _pct(hits, len(answered) + misses)


def tone_mix(cases: Sequence[Case], period: Period) -> dict[str, int]:
    return dict(sorted(Counter(c.conversation.tone for c in new_cases(cases, period)).items()))


def response_rate(new: Sequence[Case], now: datetime) -> float | None:
    answered = sum(1 for c in new if c.conversation.first_response_at is not None
                   and c.conversation.first_response_at <= now)
    return _pct(answered, len(new))


def _first_contact_resolution(resolved: Sequence[Case]) -> float | None:
    counts = [timing.replies_until(c, at) for c in resolved if (at := c.conversation.resolved_at) is not None]
    replied = [n for n in counts if n >= 1]
    return _pct(sum(1 for n in replied if n == 1), len(replied))


def _reach(cases: Sequence[Case], period: Period) -> int:
    reached = {c.conversation.customer_id: c.followers or 0 for c in cases
               if any(_within(r.at, period) for r in c.replies)}
    return sum(reached.values())


def kpis(cases: Sequence[Case], period: Period, sl: ServiceLevel, now: datetime) -> Kpis:
    """Every case-level KPI of the module docstring over `cases`, for `period`, "now" figures at `now`."""
    new = new_cases(cases, period)
    answered = first_responses(cases, period, sl)
    resolved = [c for c in cases if _within(c.conversation.resolved_at, period)]
    later = [took for c in cases for at, took in timing.next_responses(c, sl.hours) if _within(at, period)]
    waiting = [c for c in cases if c.conversation.status != Status.RESOLVED and c.conversation.waiting_since]
    open_ = sorted((c.conversation for c in waiting if c.conversation.status == Status.OPEN),
                   key=lambda c: (c.waiting_since, c.id))
    return Kpis(
        new=len(new), answered=len(answered), resolved=len(resolved),
        replies=sum(1 for c in cases for r in c.replies if _within(r.at, period)),
        first_response=Timing.of([took for _, took in answered]),
        next_response=Timing.of(later),
        resolution=Timing.of([t for c in resolved if (t := timing.resolution(c, sl.hours)) is not None]),
        handling=Timing.of([t for c in resolved if (t := timing.handling(c, sl.hours)) is not None]),
        first_contact_resolution_pct=_first_contact_resolution(resolved),
        response_rate_pct=response_rate(new, now),
        complaint_response_rate_pct=response_rate([c for c in new if c.conversation.complaint], now),
        sla_compliance_pct=sla_compliance(cases, period, sl, now),
        backlog=sum(1 for c in cases if c.conversation.status == Status.OPEN),
        overdue=sum(1 for c in waiting if sl.status(c.conversation, now).overdue),
        oldest_waiting_ref=(open_[0].ref or open_[0].id) if open_ else None,
        oldest_waiting_since=open_[0].waiting_since if open_ else None,
        reach=_reach(cases, period),
        tone_mix=tone_mix(cases, period), csat=csat_of((c.conversation for c in cases), period.start, period.end),
    )


def breakdown(cases: Sequence[Case], key: Callable[[Case], str], period: Period, sl: ServiceLevel,
              now: datetime) -> dict[str, Kpis]:
    """The KPIs per group of cases (groups in name order)."""
    groups: dict[str, list[Case]] = {}
    for case in cases:
        groups.setdefault(key(case), []).append(case)
    return {name: kpis(group, period, sl, now) for name, group in sorted(groups.items())}


def share_of_voice(voices: Sequence[Voice], sources: VoiceSources | None = None) -> dict[str, dict[str, int]]:
    """{query name or a network's own voice key ("@mentions", "Facebook Page"): {platform: messages}},
    names in order, platforms in order. The brand's own sources are those each network declares
    (`Rules.voice`), the same that `figures.share_of_voice` counts."""
    counts: Counter[tuple[str, str]] = Counter()
    declared = shipped_voice_sources() if sources is None else sources
    for v in voices:
        for name in v.queries:
            counts[name, v.platform] += 1
        for key, (platform, kinds) in declared.items():
            if v.platform == platform and v.kind in kinds:
                counts[key, v.platform] += 1
    result: dict[str, dict[str, int]] = {}
    for (name, platform), n in sorted(counts.items()):
        result.setdefault(name, {})[platform] = n
    return result


Volumes = tuple[dict[str, int], dict[str, int], dict[int, int], dict[str, int]]


def volumes(new: Sequence[Case], timezone: str) -> Volumes:
    """New conversations by (platform, channel, local hour of day, search query)."""
    zone = ZoneInfo(timezone)
    queries = Counter(q.strip() for c in new for q in c.conversation.query_names.split(",") if q.strip())
    return (dict(sorted(Counter(c.conversation.platform for c in new).items())),
            dict(sorted(Counter(c.conversation.channel for c in new).items())),
            dict(sorted(Counter(c.conversation.first_seen_at.astimezone(zone).hour for c in new).items())),
            dict(sorted(queries.items())))


def influencers(cases: Sequence[Case], period: Period, top: int = INFLUENCERS) -> list[Influencer]:
    """The `top` customers by followers among those who wrote in the period (ties: handle)."""
    wrote = {c.conversation.customer_id: Influencer(c.handle, c.conversation.platform, c.followers or 0)
             for c in cases if any(_within(t, period) for t in c.inbound)}
    return sorted(wrote.values(), key=lambda i: (-i.followers, i.handle))[:top]


def by_replier(cases: Sequence[Case], period: Period, sl: ServiceLevel) -> tuple[dict[str, int], dict[str, Timing]]:
    """(replies delivered in the period, first response time) per replying agent, agents in order."""
    replies = Counter(r.agent for c in cases for r in c.replies if _within(r.at, period))
    firsts: dict[str, list[timing.Took]] = {}
    for case, took in first_responses(cases, period, sl):
        if case.replies:
            firsts.setdefault(case.replies[0].agent, []).append(took)
    return dict(sorted(replies.items())), {agent: Timing.of(t) for agent, t in sorted(firsts.items())}


def report_of(cases: Sequence[Case], voices: Sequence[Voice], period: Period, sl: ServiceLevel,
              now: datetime) -> Report:
    """Every KPI for `period` from loaded cases and voices: the team, each agent, platform and channel."""
    by_platform, by_channel, by_hour, by_query = volumes(new_cases(cases, period), sl.hours.timezone)
    replies, firsts = by_replier(cases, period, sl)
    return Report(
        period=period, team=kpis(cases, period, sl, now),
        by_agent=breakdown(cases, lambda c: c.agent or UNASSIGNED, period, sl, now),
        by_platform=breakdown(cases, lambda c: c.conversation.platform, period, sl, now),
        by_channel=breakdown(cases, lambda c: c.conversation.channel, period, sl, now),
        volume_by_platform=by_platform, volume_by_channel=by_channel, volume_by_hour=by_hour,
        volume_by_query=by_query, influencers=influencers(cases, period), share_of_voice=share_of_voice(voices),
        replies_by_agent=replies, first_response_by_agent=firsts,
    )


def report(session: Session, period: Period, sl: ServiceLevel, now: datetime) -> Report:
    """Every KPI for `period`, read from the database (see `report_of`)."""
    return report_of(load_cases(session, period.start, period.end, now),
                     load_voices(session, period.start, period.end), period, sl, now)
