"""The data series the charts draw, one value per local day of the period (business-hours time zone).

Each day's values are the KPIs of bot/reports/kpis.py computed on that day (clipped to the period),
so a chart never disagrees with the figures beside it. Plain data: testable without drawing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.reports import kpis
from bot.reports.cases import Case
from bot.reports.figures import Period, local_day, nearest_rank
from bot.reports.service_level import ServiceLevel

TONES = ("negative", "neutral", "positive")  # drawn in this order; other tones follow by name


@dataclass(frozen=True)
class DailySeries:
    days: list[date]
    new: list[int]  # conversations first seen that day
    answered: list[int]  # conversations first answered that day
    median_first_response_minutes: list[float | None]  # business time, nearest-rank median
    sla_compliance_pct: list[float | None]
    tone: dict[str, list[int]]  # tone → new conversations that day


def days_of(period: Period, timezone: str) -> list[Period]:
    """The local days the period touches, each clipped to the period."""
    zone = ZoneInfo(timezone)
    day, last = period.start.astimezone(zone).date(), (period.end - timedelta(microseconds=1)).astimezone(zone).date()
    spans = []
    while day <= last and period.end > period.start:
        whole = local_day(day, zone, day.isoformat())
        spans.append(Period(max(whole.start, period.start), min(whole.end, period.end), whole.label))
        day += timedelta(days=1)
    return spans


def _minutes(value: timedelta | None) -> float | None:
    return value.total_seconds() / 60 if value is not None else None


def daily(cases: Sequence[Case], period: Period, sl: ServiceLevel, now: datetime) -> DailySeries:
    """Per-day new, answered, median first response, SLA compliance and tone mix."""
    days = days_of(period, sl.hours.timezone)
    answered = [kpis.first_responses(cases, day, sl) for day in days]
    mixes = [kpis.tone_mix(cases, day) for day in days]
    seen = {tone for mix in mixes for tone in mix}
    tones = [t for t in TONES if t in seen] + sorted(seen - set(TONES))
    return DailySeries(
        days=[date.fromisoformat(day.label) for day in days],
        new=[len(kpis.new_cases(cases, day)) for day in days],
        answered=[len(a) for a in answered],
        median_first_response_minutes=[_minutes(nearest_rank([t.business for _, t in a], 50)) for a in answered],
        sla_compliance_pct=[kpis.sla_compliance(cases, day, sl, now) for day in days],
        tone={tone: [mix.get(tone, 0) for mix in mixes] for tone in tones},
    )


def voice_totals(share: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """Share of voice summed over platforms, largest first (ties: name)."""
    totals = {name: sum(per_platform.values()) for name, per_platform in share.items()}
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))
