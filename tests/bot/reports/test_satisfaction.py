"""CSAT in the figures (bot/reports/satisfaction.py) on the hand-built week of week.py, SQLite and
PostgreSQL: the KPIs, the digest / stats / App Home figures and the export say the same numbers."""

from __future__ import annotations

import pytest

from bot.cards.reports import csat_text
from bot.reports.export import export_rows
from bot.reports.figures import figures
from bot.reports.kpis import report
from bot.reports.satisfaction import Csat
from bot.store.models import Conversation
from tests.bot.reports.week import NOW, PERIOD, at, build, service_level


@pytest.fixture
def week(store):
    ids = build(store)
    # The week's two private conversations were asked when resolved:
    #   C (X DM, resolved Tue 14:00): asked Tue 14:00, answered 4 at Tue 15:00;
    #   G (Messenger, resolved Mon 13:30): asked Mon 13:30, never answered.
    # and F (asked the Friday before the period) answered 2 on Mon 09:00: an answer in the period to a
    # question asked before it.
    with store.transaction() as session:
        for name, asked, score, answered in (("C", at(24, 14), 4, at(24, 15)), ("G", at(23, 13, 30), None, None),
                                             ("F", at(20, 11), 2, at(23, 9))):
            conversation = session.get_one(Conversation, ids[name])
            conversation.csat_asked_at, conversation.csat_score, conversation.csat_at = asked, score, answered
            session.add(conversation)
    return ids


def test_csat_kpis_are_worked_out_by_hand(store, week):
    with store.transaction() as session:
        r = report(session, PERIOD, service_level(), NOW)
    # answers in the period: C 4 (Tue) and F 2 (Mon) -> 2, average (4 + 2) / 2 = 3.0;
    # asked in the period: C and G (F was asked the Friday before) -> C answered, G not: 1 / 2 = 50 %.
    assert r.team.csat == Csat(answers=2, average=3.0, asked=2, response_rate_pct=50.0)
    assert r.by_platform["x"].csat == Csat(answers=2, average=3.0, asked=1, response_rate_pct=100.0)  # C, F
    assert r.by_platform["facebook"].csat == Csat(answers=0, average=None, asked=1, response_rate_pct=0.0)  # G


def test_the_digest_stats_and_export_agree_with_the_kpis(store, week):
    with store.transaction() as session:
        shown = figures(session, PERIOD, service_level(), NOW)
        exported = {r["ref"]: r["csat"] for r in export_rows(session, PERIOD, service_level(), NOW)}
    assert shown.csat == (2, 3.0, 50.0)
    assert csat_text(shown.csat) == "⭐ 3.0/5 · 2 answers · 50% answered"
    assert exported[week["C"]] == 4 and exported[week["G"]] is None  # F was first seen before the period
