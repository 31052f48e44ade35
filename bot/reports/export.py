"""The conversation export: one row per conversation first seen in [since, until), as CSV or JSON,
and the period's KPIs as plain JSON-ready data. `parley report` (bot/cli.py) and `/social export`
write these; the columns (COLUMNS, also in the README) are the contract.

Times are ISO 8601 UTC to the second; durations are whole seconds (business time in the configured
business hours, and calendar time); an empty cell is an unknown or not-yet value. Reads only.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from sqlmodel import Session

from bot.reports import timing
from bot.reports.cases import Case, load_cases
from bot.reports.figures import Period
from bot.reports.kpis import Kpis, Report, new_cases, report
from bot.reports.service_level import ServiceLevel
from bot.sla import format_duration

Cell = str | int | bool | None
# (column, type, meaning): the README's export table is written from this list.
COLUMNS: tuple[tuple[str, type, str], ...] = (
    ("ref", int, "the case number people type (#12)"),
    ("platform", str, "network the conversation is on (x, facebook, …)"),
    ("kind", str, "where it was heard: mention, search_hit, comment, visitor_post, dm, messenger"),
    ("channel", str, "Slack channel id of the thread"),
    ("customer_handle", str, "the customer's handle (Facebook: their name)"),
    ("customer_followers", int, "the customer's followers when last seen (empty: unknown)"),
    ("queries", str, "search queries that found it, ';'-separated"),
    ("status", str, "open, pending, snoozed or resolved at export time"),
    ("priority", str, "urgent, high, normal or low"),
    ("complaint", bool, "triage flagged it as a complaint"),
    ("tone", str, "negative, neutral or positive (the latest triage)"),
    ("language", str, "detected language code (empty: unknown)"),
    ("assignee", str, "Slack user id of the assignee (empty: nobody)"),
    ("agent", str, "who it counts for per agent: assignee, else the first replier"),
    ("first_seen_at", str, "the customer's first message"),
    ("first_response_at", str, "our first reply (empty: unanswered)"),
    ("last_response_at", str, "our latest reply"),
    ("resolved_at", str, "the latest resolution (empty: not resolved)"),
    ("first_response_business_s", int, "first message to first reply, business seconds"),
    ("first_response_calendar_s", int, "first message to first reply, calendar seconds"),
    ("resolution_business_s", int, "first message to resolution, business seconds"),
    ("resolution_calendar_s", int, "first message to resolution, calendar seconds"),
    ("handling_business_s", int, "resolution time minus time snoozed, business seconds"),
    ("handling_calendar_s", int, "resolution time minus time snoozed, calendar seconds"),
    ("replies", int, "staff replies delivered"),
    ("customer_messages", int, "messages from the customer"),
    ("csat", int, "the customer's satisfaction answer 1-5 (empty when not asked or not answered)"),
)
NAMES = tuple(name for name, _, _ in COLUMNS)


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat(timespec="seconds") if at is not None else None


def _seconds(value: timedelta | None) -> int | None:
    return round(value.total_seconds()) if value is not None else None


def row(case: Case, service_level: ServiceLevel) -> dict[str, Cell]:
    """One conversation's export row (see COLUMNS); empty text is None, as an empty CSV cell reads back."""
    c, hours = case.conversation, service_level.hours
    first, solved, handled = (timing.first_response(case, hours), timing.resolution(case, hours),
                              timing.handling(case, hours))
    cells: dict[str, Cell] = {
        "ref": c.ref or c.id, "platform": c.platform, "kind": c.kind, "channel": c.channel,
        "customer_handle": case.handle, "customer_followers": case.followers,
        "queries": ";".join(q.strip() for q in c.query_names.split(",") if q.strip()),
        "status": c.status, "priority": c.priority, "complaint": bool(c.complaint), "tone": c.tone,
        "language": c.language, "assignee": c.assignee, "agent": case.agent,
        "first_seen_at": _iso(c.first_seen_at), "first_response_at": _iso(c.first_response_at),
        "last_response_at": _iso(c.last_response_at), "resolved_at": _iso(c.resolved_at),
        "first_response_business_s": _seconds(first.business if first else None),
        "first_response_calendar_s": _seconds(first.calendar if first else None),
        "resolution_business_s": _seconds(solved.business if solved else None),
        "resolution_calendar_s": _seconds(solved.calendar if solved else None),
        "handling_business_s": _seconds(handled.business if handled else None),
        "handling_calendar_s": _seconds(handled.calendar if handled else None),
        "replies": len(case.replies), "customer_messages": len(case.inbound), "csat": case.conversation.csat_score,
    }
    return {name: None if value == "" else value for name, value in cells.items()}


def export_rows(session: Session, period: Period, service_level: ServiceLevel, now: datetime) -> list[dict[str, Cell]]:
    """Rows of the conversations first seen in the period, oldest first (ties: ref)."""
    cases = new_cases(load_cases(session, period.start, period.end, now), period)
    cases.sort(key=lambda case: (case.conversation.first_seen_at, case.conversation.id))
    return [row(case, service_level) for case in cases]


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv(rows: Sequence[dict[str, Cell]], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(NAMES)
    writer.writerows([_cell(r[name]) for name in NAMES] for r in rows)


def _parse(text: str, kind: type) -> Cell:
    if text == "":
        return None
    if kind is bool:
        return text == "true"
    return int(text) if kind is int else text


def read_csv(source: TextIO) -> list[dict[str, Cell]]:
    """Rows written by `write_csv`, with their types back (the round trip is exact)."""
    kinds = {name: kind for name, kind, _ in COLUMNS}
    return [{name: _parse(text, kinds[name]) for name, text in r.items()} for r in csv.DictReader(source)]


def csv_bytes(rows: Sequence[dict[str, Cell]]) -> bytes:
    """The CSV as UTF-8 bytes with a BOM, so spreadsheet apps read accents right (for uploads)."""
    out = io.StringIO()
    write_csv(rows, out)
    return out.getvalue().encode("utf-8-sig")


def _plain(value: Any) -> Any:
    if isinstance(value, timedelta):
        return _seconds(value)
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def kpis_data(kpis: Kpis) -> dict[str, Any]:
    """The KPIs as JSON-ready data: durations in seconds, instants in ISO 8601."""
    return _plain(asdict(kpis))


def report_data(result: Report) -> dict[str, Any]:
    """The whole report as JSON-ready data (see bot/reports/kpis.py for each figure)."""
    data = _plain(asdict(result))
    data["period"] = {"start": _iso(result.period.start), "end": _iso(result.period.end),
                      "label": result.period.label}
    return data


def write_json(session: Session, period: Period, service_level: ServiceLevel, now: datetime, out: TextIO) -> None:
    """One JSON document: {"report": every KPI, "conversations": the export rows}."""
    document = {"report": report_data(report(session, period, service_level, now)),
                "conversations": export_rows(session, period, service_level, now)}
    json.dump(document, out, ensure_ascii=False, indent=1)
    out.write("\n")


def _spread(label: str, business: Any, calendar: Any) -> str:
    def show(value: timedelta | None) -> str:
        return format_duration(value) if value is not None else "—"

    return (f"{label:<26} business median {show(business.median)}, p90 {show(business.p90)} · "
            f"calendar median {show(calendar.median)}, p90 {show(calendar.p90)} ({business.count})")


def _pct(value: float | None) -> str:
    return f"{value:.1f}%" if value is not None else "—"


def write_summary(result: Report, out: TextIO) -> None:
    """The team KPIs as a few lines of text (what `parley report` prints without --csv or --json)."""
    t = result.team
    out.write(f"{_iso(result.period.start)} → {_iso(result.period.end)}\n")
    out.write(f"new {t.new} · answered {t.answered} · resolved {t.resolved} · replies {t.replies} · "
              f"backlog {t.backlog} · overdue {t.overdue}\n")
    for label, spread in (("first response", t.first_response), ("next response", t.next_response),
                          ("resolution", t.resolution), ("handling", t.handling)):
        out.write(_spread(label, spread.business, spread.calendar) + "\n")
    out.write(f"SLA compliance {_pct(t.sla_compliance_pct)} · response rate {_pct(t.response_rate_pct)} "
              f"(complaints {_pct(t.complaint_response_rate_pct)}) · first-contact resolution "
              f"{_pct(t.first_contact_resolution_pct)}\n")
    tones = ", ".join(f"{tone} {n}" for tone, n in t.tone_mix.items()) or "—"
    out.write(f"reach {t.reach} followers · tone {tones}\n")
