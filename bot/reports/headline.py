"""App Home's headline figures for a period, read from the one KPI module (bot/reports/kpis.py), so
Home, `parley report`, the export and — for the figures they share — `/social stats` and the digest
show the same numbers for the same period."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.cards.headline import Headline
from bot.reports.cases import load_cases
from bot.reports.figures import Period
from bot.reports.kpis import kpis
from bot.reports.service_level import ServiceLevel


def headline(session: Session, period: Period, sl: ServiceLevel, now: datetime) -> Headline:
    """The headline KPIs of `period` as of `now`: medians in business time."""
    k = kpis(load_cases(session, period.start, period.end, now), period, sl, now)
    return Headline(period_label=period.label, first_response_median=k.first_response.business.median,
                    resolution_median=k.resolution.business.median, response_rate_pct=k.response_rate_pct,
                    sla_compliance_pct=k.sla_compliance_pct, backlog=k.backlog, tone_mix=dict(k.tone_mix))
