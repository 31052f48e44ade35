"""A period's report with its charts, read in one pass: what `/social stats` and the digest upload.

Imports matplotlib (through bot/reports/charts.py): import this module only on the paths that draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.reports import charts
from bot.reports.cases import load_cases, load_voices
from bot.reports.figures import Period
from bot.reports.kpis import Report, report_of
from bot.reports.series import DailySeries, daily, voice_totals
from bot.reports.service_level import ServiceLevel


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
    files = [
        ChartFile(f"volume-{day}.png", "New conversations and median first response",
                  charts.volume_and_response(series)),
        ChartFile(f"sla-{day}.png", "SLA compliance", charts.sla_compliance(series)),
        ChartFile(f"tone-{day}.png", "Tone mix", charts.tone_mix(series)),
    ]
    if voice:
        files.append(ChartFile(f"share-of-voice-{day}.png", "Share of voice", charts.share_of_voice(voice)))
    return ChartedReport(result, series, voice, files)
