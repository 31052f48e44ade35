"""The conversation export (bot/reports/export.py) on the hand-built week, SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.reports.export import COLUMNS, NAMES, csv_bytes, export_rows, read_csv, write_csv, write_json
from tests.bot.reports.week import NOW, PERIOD, build, service_level


@pytest.fixture
def rows(store):
    ids = build(store)
    with store.transaction() as session:
        return ids, export_rows(session, PERIOD, service_level(), NOW)


def test_one_row_per_conversation_first_seen_in_the_period(rows):
    ids, exported = rows
    # first seen: A Mon 10:00, G Mon 13:00, B Mon 16:00, C Tue 09:00, D Wed 09:00, E Wed 15:00; F before
    assert [r["ref"] for r in exported] == [ids[k] for k in "AGBCDE"]
    assert all(tuple(r) == NAMES for r in exported)


def test_row_values_are_worked_out_by_hand(rows):
    ids, exported = rows
    by_ref = {r["ref"]: r for r in exported}
    b, c, d = by_ref[ids["B"]], by_ref[ids["C"]], by_ref[ids["D"]]
    assert (b["platform"], b["kind"], b["channel"], b["customer_handle"], b["customer_followers"]) == (
        "facebook", "comment", "C2", "fan", 50)
    assert (b["status"], b["priority"], b["complaint"], b["agent"], b["assignee"]) == (
        "resolved", "urgent", False, "U2", None)
    assert (b["first_seen_at"], b["first_response_at"], b["resolved_at"]) == (
        "2026-11-23T16:00:00+00:00", "2026-11-24T09:30:00+00:00", "2026-11-24T10:00:00+00:00")
    # first response: Mon 16-17 + Tue 9-9:30 = 1h30 business; Mon 16:00 → Tue 09:30 = 17h30 calendar
    assert (b["first_response_business_s"], b["first_response_calendar_s"]) == (5400, 63000)
    # resolution: 1h + 1h = 2h business; 18h calendar; never snoozed, so handling is the same
    assert (b["resolution_business_s"], b["resolution_calendar_s"]) == (7200, 64800)
    assert (b["handling_business_s"], b["handling_calendar_s"]) == (7200, 64800)
    # C: resolved Tue 14:00 after 5h, snoozed 10:00-12:00 → handling 3h; one DM (the nudge is not counted)
    assert (c["resolution_calendar_s"], c["handling_business_s"], c["handling_calendar_s"]) == (18000, 10800, 10800)
    assert (c["replies"], c["customer_messages"], c["customer_followers"], c["language"]) == (1, 1, None, "en")
    # D: unanswered and open
    assert (d["queries"], d["first_response_business_s"], d["resolved_at"], d["replies"], d["csat"]) == (
        "rival", None, None, 0, None)


def test_csv_round_trips(rows):
    _, exported = rows
    out = io.StringIO()
    write_csv(exported, out)
    assert out.getvalue().splitlines()[0] == ",".join(NAMES)
    assert read_csv(io.StringIO(out.getvalue())) == exported
    assert csv_bytes(exported).decode("utf-8-sig") == out.getvalue()


def test_csv_round_trips_awkward_text():
    row = {name: None for name in NAMES} | {"ref": 7, "customer_handle": 'Zoë "the, one"\nNewline',
                                             "complaint": True, "queries": "acme;rival"}
    out = io.StringIO()
    write_csv([row], out)
    assert read_csv(io.StringIO(out.getvalue())) == [row]


def test_every_column_is_documented_in_the_readme():
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    assert len(set(NAMES)) == len(NAMES)
    for name, _, description in COLUMNS:
        assert f"| `{name}` |" in readme and description in readme


def test_json_holds_the_report_and_the_rows(store):
    ids = build(store)
    out = io.StringIO()
    with store.transaction() as session:
        write_json(session, PERIOD, service_level(), NOW, out)
    document = json.loads(out.getvalue())
    team = document["report"]["team"]
    assert (team["new"], team["sla_compliance_pct"], team["reach"]) == (6, 50.0, 1250)
    assert team["first_response"]["business"] == {"count": 3, "median": 1800, "p90": 5400}  # 30m, 1h30
    assert document["report"]["period"]["end"] == "2026-11-25T16:00:00+00:00"
    assert [r["ref"] for r in document["conversations"]] == [ids[k] for k in "AGBCDE"]
