"""Every KPI (bot/reports/kpis.py) on the hand-built week of tests/bot/reports/week.py, on SQLite and
PostgreSQL; the arithmetic is in the comments. Read week.py's table first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.reports.cases import load_cases, snoozed_intervals
from bot.reports.figures import figures
from bot.reports.kpis import UNASSIGNED, Influencer, Spread, report
from bot.reports.satisfaction import Csat
from connectors.facebook.rules import PAGE_KEY
from connectors.x.rules import MENTIONS_KEY
from tests.bot.reports.week import NOW, PERIOD, at, build, service_level

H, M = timedelta(hours=1), timedelta(minutes=1)


@pytest.fixture
def week(store):
    ids = build(store)
    with store.transaction() as session:
        return ids, report(session, PERIOD, service_level(), NOW)


def test_counts_rates_and_now_figures(week):
    ids, r = week
    t = r.team
    assert t.new == 6  # A B C D E G (F was first seen the Friday before)
    assert t.answered == 3  # A Mon 10:30, C Tue 09:20, B Tue 09:30 (F was answered Friday)
    assert t.resolved == 4  # A B C G
    assert t.replies == 5  # A 2 + B 1 + C 1 (its nudge is part of the DM) + F 1 (Tue); G's failed; no note
    assert t.response_rate_pct == pytest.approx(100 * 3 / 6)  # A B C answered of 6 new
    assert t.complaint_response_rate_pct == pytest.approx(100 * 1 / 3)  # complaints A D G; A answered
    # hits A (30m ≤ 4h) and C (20m ≤ 4h); misses B (urgent, 1h30 business > 15m) and D (unanswered,
    # 7h business at NOW > 4h): 2 / (3 answered + 1 unanswered miss)
    assert t.sla_compliance_pct == pytest.approx(50.0)
    assert t.backlog == 2  # D E are open (F is pending)
    assert t.overdue == 1  # D; E has waited 1h of 4h
    assert (t.oldest_waiting_ref, t.oldest_waiting_since) == (ids["D"], at(25, 9))
    assert t.first_contact_resolution_pct == pytest.approx(100 * 2 / 3)  # B and C of A(2) B(1) C(1); G none
    assert t.reach == 1000 + 50 + 0 + 200  # replied in the period to A B C F (C's followers unknown)
    assert t.tone_mix == {"negative": 2, "neutral": 3, "positive": 1}  # A D / B E G / C
    assert t.csat == Csat()  # nobody was asked in this week


def test_response_resolution_and_handling_times(week):
    _, r = week
    t = r.team
    # first response, business: C 20m, A 30m, B 1h30 (Mon 16-17 + Tue 9-9:30) → rank 2 and rank 3
    assert t.first_response.business == Spread(3, 30 * M, 90 * M)
    # calendar: C 20m, A 30m, B 17h30 (Mon 16:00 → Tue 09:30)
    assert t.first_response.calendar == Spread(3, 30 * M, 17 * H + 30 * M)
    # next response: A 11:00 → 12:00 = 1h, F Tue 10:00 → 12:00 = 2h; ranks 1 and 2
    assert t.next_response.business == Spread(2, 1 * H, 2 * H)
    assert t.next_response.calendar == Spread(2, 1 * H, 2 * H)
    # resolution, business: G 30m, B 2h (Mon 16-17 + Tue 9-10), A 3h, C 5h → rank 2 and rank 4
    assert t.resolution.business == Spread(4, 2 * H, 5 * H)
    # calendar: G 30m, A 3h, C 5h, B 18h
    assert t.resolution.calendar == Spread(4, 3 * H, 18 * H)
    # handling: C sleeps Tue 10-12, so 5h - 2h = 3h; the others never slept: [30m, 2h, 3h, 3h]
    assert t.handling.business == Spread(4, 2 * H, 3 * H)
    assert t.handling.calendar == Spread(4, 3 * H, 18 * H)  # [30m, 3h, 3h, 18h]


def test_breakdowns_by_agent_platform_and_channel(week):
    _, r = week
    assert set(r.by_agent) == {"U1", "U2", UNASSIGNED}
    u1, u2, nobody = r.by_agent["U1"], r.by_agent["U2"], r.by_agent[UNASSIGNED]
    # U1: A (first replier), C (assignee), F (first replier)
    assert (u1.new, u1.resolved, u1.replies, u1.reach) == (2, 2, 4, 1200)  # A C; A C; A2 C1 F1; 1000+0+200
    assert u1.first_contact_resolution_pct == pytest.approx(50.0)  # C yes, A no
    # U2: B (first replier), E (assignee): B missed its 15m target, E not judged yet
    assert (u2.new, u2.answered, u2.backlog, u2.sla_compliance_pct) == (2, 1, 1, 0.0)
    # nobody: D and G (G's only reply failed)
    assert (nobody.new, nobody.backlog, nobody.overdue, nobody.response_rate_pct) == (2, 1, 1, 0.0)
    x, fb = r.by_platform["x"], r.by_platform["facebook"]
    assert (x.new, x.answered, x.sla_compliance_pct) == (3, 2, pytest.approx(100 * 2 / 3))  # A C hit, D miss
    assert (fb.new, fb.answered, fb.sla_compliance_pct) == (3, 1, 0.0)  # B missed
    assert {name: k.new for name, k in r.by_channel.items()} == {"C1": 3, "C2": 2, "C3": 1}


def test_per_replying_agent(week):
    _, r = week
    assert r.replies_by_agent == {"U1": 4, "U2": 1}  # A Mon 10:30 + 12:00, C, F Tue; B (G's failed)
    # first replies in the period: U1 sent A's (30m) and C's (20m), U2 sent B's (1h30 business)
    assert r.first_response_by_agent["U1"].business == Spread(2, 20 * M, 30 * M)
    assert r.first_response_by_agent["U2"].business == Spread(1, 90 * M, 90 * M)


def test_volumes_influence_and_share_of_voice(week):
    _, r = week
    assert r.volume_by_platform == {"facebook": 3, "x": 3}  # B E G / A C D
    assert r.volume_by_channel == {"C1": 3, "C2": 2, "C3": 1}
    assert r.volume_by_hour == {9: 2, 10: 1, 13: 1, 15: 1, 16: 1}  # C D / A / G / E / B
    assert r.volume_by_query == {"acme": 1, "rival": 1}
    # wrote in the period: D 5000, A 1000, F 200 (Tue follow-up), B 50, E 10, then C and G with 0
    assert r.influencers == [Influencer("star", "x", 5000), Influencer("big", "x", 1000),
                             Influencer("old", "x", 200), Influencer("fan", "facebook", 50),
                             Influencer("page", "facebook", 10)]
    # messages written in the period: A's two mentions and F's follow-up are X @mentions; B's comment
    # and E's visitor post are on the Facebook Page (each network's own sources, from its rules); C's DM
    # and G's Messenger message are private; D is a search hit
    assert r.share_of_voice == {MENTIONS_KEY: {"x": 3}, PAGE_KEY: {"facebook": 2}, "acme": {"x": 1},
                                "rival": {"x": 1}}


def test_the_team_figures_agree_with_the_digest_figures(store):
    """Digest, /social stats and App Home read figures(); the KPIs must show the same numbers."""
    build(store)
    sl = service_level()
    with store.transaction() as session:
        f = figures(session, PERIOD, sl, NOW)
        full = report(session, PERIOD, sl, NOW)
    t, r_voice = full.team, full.share_of_voice
    assert (t.new, t.answered, t.resolved, t.backlog, t.overdue) == (
        f.new_conversations, f.answered, f.resolved, f.open, f.overdue)
    assert (t.first_response.business.median, t.first_response.business.p90) == (
        f.median_first_response_business, f.p90_first_response_business)
    assert (t.first_response.calendar.median, t.first_response.calendar.p90) == (
        f.median_first_response_calendar, f.p90_first_response_calendar)
    assert t.sla_compliance_pct == pytest.approx(f.sla_compliance_pct)
    assert t.complaint_response_rate_pct == pytest.approx(f.complaint_response_rate_pct)
    assert t.oldest_waiting_ref == f.oldest_waiting.ref
    assert f.share_of_voice == {key: sum(by_platform.values()) for key, by_platform in r_voice.items()}


def test_an_old_resolved_case_is_not_loaded(store):
    build(store)
    with store.transaction() as session:
        cases = load_cases(session, at(25, 0), NOW, NOW)
    # resolved before Wednesday and not touched since: A B C G stay out; F is pending (not resolved)
    assert sorted(c.handle for c in cases) == ["old", "page", "star"]


def test_snoozes_end_at_the_first_wake_customer_message_or_resolution():
    # re-snoozed at 11:00 while asleep: still one span; ends at the customer's 11:30 message
    assert snoozed_intervals([at(24, 10), at(24, 11)], [at(24, 12)], (at(24, 9), at(24, 11, 30)), at(24, 14)) == (
        (at(24, 10), at(24, 11, 30)),)
    # never woken: it sleeps until the resolution
    assert snoozed_intervals([at(24, 10)], [], (), at(24, 14)) == ((at(24, 10), at(24, 14)),)
