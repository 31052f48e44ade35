"""PNG charts from the plain series of bot/reports/series.py: volume and response time over time,
SLA compliance, tone mix, share of voice.

Drawn with matplotlib's Agg canvas on a `Figure` of its own (no pyplot: no global state, no GUI, safe
from several threads). Only the stats, digest and export paths import this module, so `parley run`
does not load matplotlib until a chart is asked for.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.reports.series import DailySeries

SIZE = (8, 4)  # inches; at 100 dpi an 800 by 400 image reads well in a Slack thread
DPI = 100
TONE_COLOURS = {"negative": "#d1495b", "neutral": "#9aa5b1", "positive": "#2e933c"}
BAR, LINE = "#4a6fa5", "#e07a1f"


def _figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _day_labels(series: DailySeries) -> list[str]:
    return [f"{day:%a %d}" for day in series.days]


def volume_and_response(series: DailySeries) -> bytes:
    """Bars: new conversations per day; line (right axis): median first response, business minutes."""
    figure, ax = _figure()
    labels = _day_labels(series)
    ax.bar(labels, series.new, color=BAR, label="new conversations")
    ax.set_ylabel("new conversations")
    right = ax.twinx()
    minutes = [m if m is not None else float("nan") for m in series.median_first_response_minutes]
    right.plot(labels, minutes, color=LINE, marker="o", label="median first response")
    right.set_ylabel("median first response (business min)")
    right.set_ylim(bottom=0)
    ax.set_title("Volume and first response time")
    return _png(figure)


def sla_compliance(series: DailySeries) -> bytes:
    """SLA compliance % per day (days with nothing judged are left blank)."""
    figure, ax = _figure()
    values = [v if v is not None else float("nan") for v in series.sla_compliance_pct]
    ax.plot(_day_labels(series), values, color=BAR, marker="o")
    ax.set_ylim(0, 105)
    ax.set_ylabel("% within first-response target")
    ax.set_title("SLA compliance")
    return _png(figure)


def tone_mix(series: DailySeries) -> bytes:
    """New conversations per day, stacked by tone."""
    figure, ax = _figure()
    labels = _day_labels(series)
    bottom = [0] * len(labels)
    for tone, counts in series.tone.items():
        ax.bar(labels, counts, bottom=bottom, label=tone, color=TONE_COLOURS.get(tone))
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    if series.tone:
        ax.legend(loc="upper left")
    ax.set_ylabel("new conversations")
    ax.set_title("Tone mix")
    return _png(figure)


def share_of_voice(totals: Mapping[str, int]) -> bytes:
    """Horizontal bars: messages per query name (and "@mentions"), largest on top."""
    figure, ax = _figure()
    names = list(totals)[::-1]  # barh draws bottom-up
    ax.barh(names, [totals[n] for n in names], color=BAR)
    ax.set_xlabel("messages")
    ax.set_title("Share of voice")
    return _png(figure)
