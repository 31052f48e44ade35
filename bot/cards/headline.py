"""App Home's headline figures: today and the last seven days side by side, one field per figure.
Pure: `Headline` records in (bot/reports/headline.py fills them from bot/reports/kpis.py), Block Kit
fields out, worded with the same `pct` and `duration` as `/social stats` and the digest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.cards.records import duration, pct
from bot.store.models import Tone

_TONE_MARK: dict[str, str] = {Tone.NEGATIVE: "😠", Tone.NEUTRAL: "😐", Tone.POSITIVE: "🙂", Tone.UNKNOWN: "❔"}


@dataclass(frozen=True)
class Headline:
    """The headline KPIs of one period (bot/reports/kpis.py defines each)."""

    period_label: str
    first_response_median: timedelta | None  # business time
    resolution_median: timedelta | None  # business time
    response_rate_pct: float | None
    sla_compliance_pct: float | None
    backlog: int  # open at now: the same in every period
    tone_mix: dict[str, int] = field(default_factory=dict)


def tone_mix_text(mix: dict[str, int]) -> str:
    """"😠 2 · 😐 3 · 🙂 1" in that order (unknown last); "—" when there were no new cases."""
    order = [Tone.NEGATIVE, Tone.NEUTRAL, Tone.POSITIVE, Tone.UNKNOWN]
    known = [f"{_TONE_MARK[t]} {mix[t]}" for t in order if mix.get(t)]
    others = sum(n for t, n in mix.items() if t not in order)
    if others:
        known.append(f"other {others}")
    return " · ".join(known) or "—"


def headline_fields(today: Headline, week: Headline) -> list[str]:
    """Six mrkdwn fields (Slack allows 10 in a section): each figure, today · last 7 days."""
    def both(name: str, a: str, b: str) -> str:
        return f"*{name}*\n{a} today · {b} 7 days"

    return [
        both("First response (median)", duration(today.first_response_median), duration(week.first_response_median)),
        both("Resolution (median)", duration(today.resolution_median), duration(week.resolution_median)),
        both("Response rate", pct(today.response_rate_pct), pct(week.response_rate_pct)),
        both("SLA compliance", pct(today.sla_compliance_pct), pct(week.sla_compliance_pct)),
        f"*Backlog*\n{today.backlog} open now",
        f"*Tone of new cases*\n{tone_mix_text(today.tone_mix)} today\n{tone_mix_text(week.tone_mix)} 7 days",
    ]
