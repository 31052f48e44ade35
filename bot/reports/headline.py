"""App Home's headline figures for a period, read from the one KPI module (bot/reports/kpis.py), so
Home, `parley report`, the export and — for the figures they share — `/social stats` and the digest
show the same numbers for the same period."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, func, select

from bot.cards.headline import Headline
from bot.reports import timing
from bot.reports.cases import load_period_cases
from bot.reports.figures import Period, nearest_rank
from bot.reports.kpis import first_responses, new_cases, response_rate, sla_compliance, tone_mix
from bot.reports.service_level import ServiceLevel
from bot.store.models import Conversation, Status


def headline(session: Session, period: Period, sl: ServiceLevel, now: datetime) -> Headline:
    """The headline KPIs of `period` as of `now`: medians in business time. Each is the KPI module's
    own function over the cases it counts (new, answered or resolved in the period: `load_period_cases`,
    without the messages the other KPIs need); the backlog is counted in SQL."""
    cases = load_period_cases(session, period.start, period.end)
    answered = [took.business for _, took in first_responses(cases, period, sl)]
    resolved = [took.business for c in cases if c.conversation.resolved_at is not None
                and period.start <= c.conversation.resolved_at < period.end
                and (took := timing.resolution(c, sl.hours)) is not None]
    backlog = session.exec(select(func.count()).select_from(Conversation)
                           .where(Conversation.status == Status.OPEN)).one()
    return Headline(period_label=period.label, first_response_median=nearest_rank(answered, 50),
                    resolution_median=nearest_rank(resolved, 50),
                    response_rate_pct=response_rate(new_cases(cases, period), now),
                    sla_compliance_pct=sla_compliance(cases, period, sl, now), backlog=backlog,
                    tone_mix=dict(tone_mix(cases, period)))
