"""App Home's headline fields (bot/cards/headline.py): today and 7 days side by side, worded as
`/social stats` words them, inside Slack's section limits."""

from __future__ import annotations

from datetime import timedelta

from bot import ids
from bot.cards import home_view
from bot.cards.headline import Headline, headline_fields, tone_mix_text
from tests.bot.cards.test_modal import NOW, check_blocks
from tests.bot.cards.test_reminders import figures, health

TODAY = Headline("Today", timedelta(minutes=14), None, 50.0, 99.96, 4, {"negative": 1})
WEEK = Headline("Last 7 days", timedelta(hours=1, minutes=5), timedelta(hours=26), 87.5, None, 4,
                {"positive": 3, "negative": 2, "neutral": 1, "unknown": 1, "weird": 2})


def test_each_figure_shows_today_and_the_week():
    assert headline_fields(TODAY, WEEK) == [
        "*First response (median)*\n14m today · 1h 5m 7 days",
        "*Resolution (median)*\n— today · 1d 2h 7 days",
        "*Response rate*\n50% today · 87.5% 7 days",
        "*SLA compliance*\n100% today · — 7 days",
        "*Backlog*\n4 open now",
        "*Tone of new cases*\n😠 1 today\n😠 2 · 😐 1 · 🙂 3 · ❔ 1 · other 2 7 days",
    ]


def test_no_new_cases_is_a_dash():
    assert tone_mix_text({}) == "—"


def test_home_shows_the_headline_below_todays_figures():
    view = home_view(user_id="U0ABC", mine=[], unassigned=[], overdue=[], today=figures(), platforms=health(),
                     now=NOW, headline=(TODAY, WEEK))
    check_blocks(view["blocks"], 100)
    block_ids = [b.get("block_id") for b in view["blocks"]]
    assert block_ids.index(f"{ids.BLOCK_HOME}.headline") == block_ids.index(f"{ids.BLOCK_HOME}.today") + 2
    [block] = [b for b in view["blocks"] if b.get("block_id") == f"{ids.BLOCK_HOME}.headline"]
    assert [f["text"] for f in block["fields"]] == headline_fields(TODAY, WEEK)
