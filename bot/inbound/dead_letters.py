"""Listing and retrying quarantined messages (`parley quarantine list|retry`).

Retrying stores the kept record through the same `Ingestor` as polling (cleaned again, so a fix
to `connectors.text` applies), and marks the row resolved only once it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.inbound import record_json
from bot.inbound.ingest import Ingestor
from bot.store import quarantine
from bot.store.database import Store
from bot.store.keys import row_id
from bot.store.models import QuarantinedMessage


@dataclass(frozen=True)
class RetryOutcome:
    row_id: int
    stored: bool
    error: str | None = None  # the exception class when it failed again, or "unknown id"


def describe(row: QuarantinedMessage) -> str:
    """One line per quarantined message: ids, stream, error class and times, never the text."""
    return (f"{row.id}\t{row.platform}\t{row.external_id}\t{row.stream}\t{row.error}\t"
            f"attempts={row.attempts}\tsince={row.created_at.isoformat(timespec='seconds')}")


def retry(store: Store, ingestor: Ingestor, row_ids: list[int] | None, now: datetime) -> list[RetryOutcome]:
    """Try to store quarantined messages again: the given rows, or (None) every unresolved one."""
    if row_ids is None:
        pairs: list[tuple[int, QuarantinedMessage | None]] = [(row_id(r), r) for r in quarantine.pending(store)]
    else:
        pairs = [(i, quarantine.get(store, i)) for i in row_ids]
    outcomes = []
    for wanted, row in pairs:
        if row is None or row.id is None:
            outcomes.append(RetryOutcome(wanted, False, "unknown id"))
            continue
        if row.resolved_at is not None:
            outcomes.append(RetryOutcome(row.id, True))  # already stored by an earlier retry
            continue
        try:
            ingestor.store_one(record_json.decode(row.payload), row.stream)
        except Exception as exc:  # any failure keeps it quarantined, one more attempt counted
            quarantine.mark(store, row.id, now, exc)
            outcomes.append(RetryOutcome(row.id, False, type(exc).__name__))
            continue
        quarantine.mark(store, row.id, now, None)
        outcomes.append(RetryOutcome(row.id, True))
    return outcomes
