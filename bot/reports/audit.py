"""`parley audit`: the audit log (every outbound action and state change) as text, JSON lines or CSV.

Reads only; the period is `--since` (a duration back from now, like 7d or 12h, or an ISO date/time)
up to `--until` (default now).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TextIO

from sqlmodel import col, select

from bot.config_file import parse_duration
from bot.store.database import Store
from bot.store.models import AuditEntry

COLUMNS = ("at", "actor", "action", "conversation", "platform", "external_id", "outcome", "detail")


def parse_since(value: str, now: datetime) -> datetime:
    """'7d' → now - 7 days; '2026-11-01' or '2026-11-01T09:00' (UTC unless an offset is given)."""
    try:
        return now - parse_duration(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is neither a duration like 7d / 12h nor a date like 2026-11-01") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def audit_entries(store: Store, *, since: datetime, until: datetime, actor: str | None = None,
                  conversation: int | None = None, action: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.at >= since, AuditEntry.at <= until)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if conversation is not None:
        query = query.where(AuditEntry.conversation_id == conversation)
    if action:
        query = query.where(AuditEntry.action == action)
    with store.transaction() as session:
        return list(session.exec(query.order_by(col(AuditEntry.at), col(AuditEntry.id))).all())


def _row(entry: AuditEntry) -> dict[str, str]:
    return {
        "at": entry.at.astimezone(UTC).isoformat(timespec="seconds"),
        "actor": entry.actor,
        "action": entry.action,
        "conversation": f"#{entry.conversation_id}" if entry.conversation_id is not None else "",
        "platform": entry.platform or "",
        "external_id": entry.external_id or "",
        "outcome": entry.outcome,
        "detail": entry.detail,
    }


def write_audit(entries: Sequence[AuditEntry], out: TextIO, fmt: str = "text") -> None:
    rows: Iterable[dict[str, str]] = (_row(e) for e in entries)
    if fmt == "json":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    else:
        rows = list(rows)
        if not rows:
            out.write("No audit entries in this period.\n")
            return
        widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in COLUMNS[:-1]}
        out.write("  ".join(c.upper().ljust(widths[c]) for c in COLUMNS[:-1]) + "  DETAIL\n")
        for row in rows:
            out.write("  ".join(row[c].ljust(widths[c]) for c in COLUMNS[:-1]) + "  " + row["detail"] + "\n")
        out.write(f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}\n")


def default_until() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=1)
