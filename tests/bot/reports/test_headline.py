"""App Home's headline figures (bot/reports/headline.py) on the hand-built week of week.py, on SQLite
and PostgreSQL: the KPI module's numbers, and the same as `/social stats` and the digest
(bot/reports/figures.py) show for the figures they share, for any period."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.reports.figures import figures, parse_period, today_so_far, yesterday
from bot.reports.headline import headline
from tests.bot.reports.week import NOW, PERIOD, build, service_level

H, M = timedelta(hours=1), timedelta(minutes=1)


def test_the_headline_of_the_week(store):
    build(store)
    with store.transaction() as session:
        h = headline(session, PERIOD, service_level(), NOW)
    # as worked out in test_kpis: first responses C 20m, A 30m, B 1h30; resolutions G 30m, B 2h, A 3h, C 5h
    assert (h.first_response_median, h.resolution_median) == (30 * M, 2 * H)
    assert (h.response_rate_pct, h.sla_compliance_pct, h.backlog) == (50.0, 50.0, 2)
    assert h.tone_mix == {"negative": 2, "neutral": 3, "positive": 1}
    assert h.period_label == "Mon to now"


@pytest.mark.parametrize("period", [PERIOD, parse_period("7d", NOW), parse_period("24h", NOW),
                                    today_so_far(NOW, ZoneInfo("UTC")), yesterday(NOW, ZoneInfo("UTC"))])
def test_home_agrees_with_stats_and_the_digest(store, period):
    build(store)
    sl = service_level()
    with store.transaction() as session:
        h = headline(session, period, sl, NOW)
        f = figures(session, period, sl, NOW)
    assert h.first_response_median == f.median_first_response_business
    assert h.sla_compliance_pct == f.sla_compliance_pct
    assert h.backlog == f.open
