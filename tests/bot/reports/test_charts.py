"""Chart data series (bot/reports/series.py) asserted on the hand-built week, and the PNGs
(bot/reports/charts.py) checked to be real images; pixels are not compared."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PIL import Image

from bot.reports import charts
from bot.reports import render as render_module
from bot.reports.cases import load_cases
from bot.reports.charted import charted_report
from bot.reports.figures import Period
from bot.reports.kpis import report
from bot.reports.render import RenderError, decode, encode, render
from bot.reports.series import DailySeries, daily, days_of, voice_totals
from tests.bot.reports.week import NOW, PERIOD, build, service_level

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def week_series(store) -> tuple[DailySeries, dict[str, int]]:
    build(store)
    sl = service_level()
    with store.transaction() as session:
        cases = load_cases(session, PERIOD.start, PERIOD.end, NOW)
        voice = report(session, PERIOD, sl, NOW).share_of_voice
    return daily(cases, PERIOD, sl, NOW), voice_totals(voice)


def test_daily_series_match_the_hand_worked_days(week_series):
    series, _ = week_series
    assert series.days == [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)]
    assert series.new == [3, 1, 2]  # Mon A B G; Tue C; Wed D E
    assert series.answered == [1, 2, 0]  # Mon A; Tue B C (F's Tuesday reply is not a first reply)
    assert series.median_first_response_minutes == [30.0, 20.0, None]  # A 30m; C 20m, B 90m → rank 1
    # Mon: A hit → 100; Tue: C hit, B (urgent) missed → 50; Wed: D unanswered and overdue → 0
    assert series.sla_compliance_pct == [100.0, 50.0, 0.0]
    assert series.tone == {"negative": [1, 0, 1], "neutral": [2, 0, 1], "positive": [0, 1, 0]}


def test_share_of_voice_totals_sum_the_platforms(week_series):
    _, totals = week_series
    # each network's own voice (X @mentions 3, the Facebook Page 2), then the queries; ties by name
    assert totals == {"@mentions": 3, "Facebook Page": 2, "acme": 1, "rival": 1}
    assert list(totals) == ["@mentions", "Facebook Page", "acme", "rival"]


def test_days_follow_the_business_time_zone_and_clip_to_the_period():
    period = Period(datetime(2026, 11, 23, 22, tzinfo=UTC), datetime(2026, 11, 24, 12, tzinfo=UTC), "")
    days = days_of(period, "Europe/Madrid")  # UTC+1: Mon 23:00 to Tue 13:00 local
    assert [d.label for d in days] == ["2026-11-23", "2026-11-24"]
    assert days[0].start == period.start and days[0].end == datetime(2026, 11, 23, 23, tzinfo=UTC)
    assert days[1].end == period.end


def _image(png: bytes) -> Image.Image:
    assert png.startswith(PNG_MAGIC)
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes the whole image: a truncated file fails here
    return image


def test_every_chart_is_a_valid_png(week_series):
    series, totals = week_series
    for png in (charts.volume_and_response(series), charts.sla_compliance(series), charts.tone_mix(series),
                charts.share_of_voice(totals)):
        image = _image(png)
        assert image.format == "PNG" and image.size == (800, 400)


def test_charts_draw_an_empty_period():
    empty = DailySeries(days=[date(2026, 11, 23)], new=[0], answered=[0], median_first_response_minutes=[None],
                        sla_compliance_pct=[None], tone={})
    for png in (charts.volume_and_response(empty), charts.sla_compliance(empty), charts.tone_mix(empty),
                charts.share_of_voice({})):
        assert _image(png).size == (800, 400)


def test_charted_report_reads_once_and_names_its_files(store):
    build(store)
    with store.transaction() as session:
        charted = charted_report(session, PERIOD, service_level(), NOW)
    assert charted.report.team.new == 6 and charted.series.new == [3, 1, 2]
    assert charted.voice == {"@mentions": 3, "Facebook Page": 2, "acme": 1, "rival": 1}
    assert [f.filename for f in charted.files] == ["volume-2026-11-25.png", "sla-2026-11-25.png",
                                                   "tone-2026-11-25.png", "share-of-voice-2026-11-25.png"]
    assert all(_image(f.png).format == "PNG" for f in charted.files)


def test_series_survive_the_trip_to_the_chart_process(week_series):
    series, totals = week_series
    assert decode(encode(series, totals)) == (series, totals)


def test_the_chart_process_draws_and_the_caller_never_loads_matplotlib(week_series):
    series, totals = week_series
    pngs = render(series, totals)
    assert list(pngs) == ["volume", "sla", "tone", "share_of_voice"]
    assert all(_image(png).size == (800, 400) for png in pngs.values())
    assert "share_of_voice" not in render(series, {})
    # a fresh interpreter importing the whole app and the charted report has no matplotlib in it
    probe = ("import sys, app, bot.cli, bot.reports.charted, bot.reports.render; "
             "print(any(m.split('.')[0] == 'matplotlib' for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).parents[3])
    assert done.stdout.strip() == "False"


def test_a_failing_chart_process_is_a_render_error(monkeypatch, week_series):
    series, totals = week_series
    monkeypatch.setattr(render_module.sys, "executable", "/bin/false")
    with pytest.raises(RenderError, match="exit 1"):
        render(series, totals)
