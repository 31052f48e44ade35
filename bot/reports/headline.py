"""App Home's headline figures for a period: the KPIs of bot/reports/kpis.py, counted by the database,
so Home, `parley report`, the export and — for the figures they share — `/social stats` and the digest
show the same numbers for the same period.

Home asks for two periods at every refresh of every open Home, on stores of a million cases, so
nothing here loads conversation rows: counts and the tone mix are counted in SQL, first responses are
the stored times (bot/reports/first_times.py, shared with figures.py), and so are resolution times
(bot/reports/resolved_times.py), and the unanswered SLA misses are taken from the
judged waiting cases (bot/reports/overdue.py), which App Home judges once for all its figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot.cards.headline import Headline
from bot.reports.figures import Period
from bot.reports.first_times import first_responses
from bot.reports.overdue import Waiting, waiting
from bot.reports.resolved_times import median_resolution
from bot.reports.service_level import ServiceLevel
from bot.sla.clock import FIRST_RESPONSE
from bot.store.models import Conversation, Status


def _pct(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def headline(session: Session, period: Period, sl: ServiceLevel, now: datetime,
             waits: Sequence[Waiting] | None = None) -> Headline:
    """The headline KPIs of `period` as of `now`, medians in business time, exactly as kpis.py defines
    them (first response, resolution, response rate, SLA compliance, backlog, tone mix of new cases).
    `waits` are the waiting cases judged at `now` (`overdue.waiting`), when the caller has them."""
    seen = (col(Conversation.first_seen_at) >= period.start, col(Conversation.first_seen_at) < period.end)
    answered = first_responses(session, sl, period.start, period.end)
    tones = dict(session.execute(sa.select(col(Conversation.tone), func.count()).where(*seen)
                                 .group_by(col(Conversation.tone))).all())
    new = sum(tones.values())
    replied = session.exec(select(func.count()).select_from(Conversation).where(
        *seen, col(Conversation.first_response_at) <= now)).one()
    misses = sum(1 for w in (waiting(session, sl, now) if waits is None else waits)
                 if w.overdue == FIRST_RESPONSE and not w.answered
                 and period.start <= w.first_seen_at < period.end)
    backlog = session.exec(select(func.count()).select_from(Conversation)
                           .where(Conversation.status == Status.OPEN)).one()
    return Headline(period_label=period.label, first_response_median=answered.median_business,
                    resolution_median=median_resolution(session, sl, period.start, period.end),
                    response_rate_pct=_pct(replied, new),
                    sla_compliance_pct=_pct(answered.hits, answered.answered + misses), backlog=backlog,
                    tone_mix=dict(sorted(tones.items())))
