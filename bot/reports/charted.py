"""A period's report with its charts, read in one pass: what `/social stats` and the digest upload.

The PNGs are drawn in a child process (bot/reports/render.py): this module does not load matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.reports.cases import load_cases, load_voices
from bot.reports.figures import Period
from bot.reports.kpis import Report, report_of
from bot.reports.render import CHARTS, render
from bot.reports.series import DailySeries, daily, voice_totals
from bot.reports.service_level import ServiceLevel

TITLES = {"volume": "New conversations and median first response", "sla": "SLA compliance",
          "tone": "Tone mix", "share_of_voice": "Share of voice"}


@dataclass(frozen=True)
class ChartFile:
    filename: str  # e.g. "volume-2026-11-25.png"
    title: str  # what people read above the image
    png: bytes


@dataclass(frozen=True)
class ChartedReport:
    report: Report
    series: DailySeries
    voice: dict[str, int]
    files: list[ChartFile]


def charted_report(session: Session, period: Period, sl: ServiceLevel, now: datetime) -> ChartedReport:
    """The report, its daily series and four PNG charts; share of voice is left out when nobody spoke."""
    cases = load_cases(session, period.start, period.end, now)
    result = report_of(cases, load_voices(session, period.start, period.end), period, sl, now)
    series = daily(cases, period, sl, now)
    voice = voice_totals(result.share_of_voice)
    day = period.end.astimezone(ZoneInfo(sl.hours.timezone)).date()  # the local day the period ends on
    pngs = render(series, voice)
    files = [ChartFile(f"{name.replace('_', '-')}-{day}.png", TITLES[name], pngs[name])
             for name in CHARTS if name in pngs]
    return ChartedReport(result, series, voice, files)
