"""The daily digest and /social stats: the same figures, laid out once (issue 4).

Missing figures (no data for the period) show as "—", never as 0.
"""

from __future__ import annotations

from datetime import datetime

from bot import ids
from bot.cards.blocks import FALLBACK_MAX, SlackMessage, context, header, mrkdwn, section
from bot.cards.blocks import utc as _utc
from bot.cards.mrkdwn import clip
from bot.cards.records import ReportFigures, duration, pct, row_line

_VOICE_MAX = 10


def figure_fields(f: ReportFigures) -> list[str]:
    """The figures as up to 10 short mrkdwn fields (Slack's limit for a section)."""
    return [
        f"*Open*\n{f.open}",
        f"*Overdue*\n{f.overdue}",
        f"*Answered*\n{f.answered}",
        f"*New / resolved*\n{f.new_conversations} / {f.resolved}",
        f"*SLA compliance*\n{pct(f.sla_compliance_pct)}",
        f"*Complaints answered*\n{pct(f.complaint_response_rate_pct)}",
        "*First response, business hours*\n"
        f"median {duration(f.median_first_response_business)} · p90 {duration(f.p90_first_response_business)}",
        "*First response, calendar*\n"
        f"median {duration(f.median_first_response_calendar)} · p90 {duration(f.p90_first_response_calendar)}",
        f"*Customer rating (CSAT)*\n{csat_text(f.csat)}",
    ]


def csat_text(csat: tuple[int, float | None, float | None]) -> str:
    """"⭐ 4.3/5 · 3 answers · 60% answered", or "—" when nobody rated us in the period."""
    answers, average, rate = csat
    if average is None:
        return f"— · {pct(rate)} answered" if rate is not None else "—"
    return f"⭐ {average:.1f}/5 · {answers} answer{'s' if answers != 1 else ''} · {pct(rate)} answered"


def share_of_voice(voice: dict[str, int]) -> str:
    """"acme 62% (124) · rival 38% (76)", largest first; "—" when there is nothing."""
    total = sum(max(v, 0) for v in voice.values())
    if not total:
        return "—"
    ranked = sorted(voice.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [f"{clip(name, 40)} {100 * n / total:.0f}% ({n})" for name, n in ranked[:_VOICE_MAX]]
    if len(ranked) > _VOICE_MAX:
        parts.append(f"and {len(ranked) - _VOICE_MAX} more")
    return " · ".join(parts)


def _report(title: str, f: ReportFigures, now: datetime | None) -> SlackMessage:
    blocks = [
        header(ids.BLOCK_REPORT_TITLE, f"{title} · {f.period_label}"),
        {
            "type": "section",
            "block_id": ids.BLOCK_REPORT_FIGURES,
            "fields": [mrkdwn(t) for t in figure_fields(f)],
        },
    ]
    if f.oldest_waiting is not None:
        line = row_line(f.oldest_waiting, _utc(now) if now else None)
        blocks.append(section(ids.BLOCK_REPORT_OLDEST, f"*Oldest waiting*: {line}"))
    else:
        blocks.append(section(ids.BLOCK_REPORT_OLDEST, "*Oldest waiting*: — nobody is waiting"))
    if f.share_of_voice:
        blocks.append(context(ids.BLOCK_REPORT_VOICE, f"Share of voice: {share_of_voice(f.share_of_voice)}"))
    text = (f"{title} · {f.period_label}: {f.open} open, {f.overdue} overdue, {f.answered} answered, "
            f"SLA compliance {pct(f.sla_compliance_pct)}")
    return SlackMessage(text=clip(text, FALLBACK_MAX), blocks=blocks)


def digest(figures: ReportFigures, *, now: datetime | None = None) -> SlackMessage:
    """The daily digest for managers or a channel. With `now`, the oldest waiting shows its age."""
    return _report("📊 Daily digest", figures, now)


def stats(figures: ReportFigures, *, now: datetime | None = None, spend: tuple[str, ...] = ()) -> SlackMessage:
    """The answer to /social stats [7d|30d]: the digest's figures for the period asked, and what
    each network billed today and this month (`spend`, one line each) where it bills."""
    message = _report("📊 Stats", figures, now)
    if spend:
        message.blocks.append(context(ids.BLOCK_REPORT_SPEND, " · ".join(spend)))
    return message
