"""The customer profile line (bot/cards/profile.py) on the card and in `/social customer`."""

from __future__ import annotations

from bot.cards.profile import profile_line
from bot.store.profile import CustomerProfile


def profile(**kw) -> CustomerProfile:
    base = {"platform": "x", "followers": None, "cases": 1, "earlier_cases": 0, "open_elsewhere": (),
            "tone_trend": ()}
    return CustomerProfile(**(base | kw))


def test_a_first_case_says_so():
    assert profile_line(profile()) == "🧾 first case on X"


def test_the_card_line_names_earlier_and_open_cases_tone_and_reach():
    line = profile_line(profile(cases=7, earlier_cases=6, open_elsewhere=(9, 8, 7, 3), followers=1234,
                                tone_trend=("negative", "neutral", "positive", "unknown")))
    assert line == "🧾 6 earlier cases on X · also open: #9, #8, #7 +1 · tone 😠😐🙂❔ · 1.2k followers"


def test_the_list_line_gives_totals():
    assert profile_line(profile(platform="facebook", cases=1, followers=1), on_card=False) == "1 case · 1 follower"


def test_the_ratings_the_customer_gave_are_shown():
    assert profile_line(profile(csat_scores=(5,))) == "🧾 first case on X · rated us 5.0/5"
    assert profile_line(profile(csat_scores=(2, 5)), on_card=False) == "1 case · rated us 3.5/5 (2 ratings)"
