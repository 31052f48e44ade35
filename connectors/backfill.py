"""Where a new stream starts reading, and what its bounded backfill left out.

A stream with no cursor (a new install, a newly added search query) establishes its starting point
on its first poll and persists it at once, even when there is nothing to read: from then on every
later post is read through all pages, however many arrive between two polls. Only the backfill
before that point is bounded, by time (`PARLEY_BACKFILL`, default 24 h, 0 = none). Whatever the
bound left out is logged and kept as one small row in the cursor table, under `left_out_key(stream)`,
so App Home and `parley check` can say so later (`left_out(store.cursors())`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connectors.base import Batch

log = logging.getLogger(__name__)

DEFAULT_BACKFILL = timedelta(hours=24)
LEFT_OUT_SUFFIX = "#left-out"
TIME_PREFIX = "t:"  # a cursor that is a moment (the starting point) rather than a platform id


@dataclass(frozen=True, slots=True)
class LeftOut:
    """Posts a stream did not read: `count` of them (None: unknown), at least that many if `more`,
    all older than `before`; noticed at `at`."""

    stream: str
    count: int | None
    more: bool
    before: datetime
    at: datetime

    def words(self) -> str:
        """"at least 100 posts before 03:57 UTC 4 Dec", for logs and staff."""
        if self.count is None:
            amount = "an unknown number of posts"
        else:
            amount = f"{'more than ' if self.more else ''}{self.count:,} post{'s' if self.count != 1 else ''}"
        return f"{amount} before {self.before:%H:%M} UTC {self.before.day} {self.before:%b}"


def left_out_key(stream: str) -> str:
    return stream + LEFT_OUT_SUFFIX


def time_cursor(moment: datetime) -> str:
    """A starting point as a cursor value: whole seconds (platforms take second granularity), UTC."""
    return TIME_PREFIX + moment.astimezone(UTC).replace(microsecond=0).isoformat()


def cursor_time(cursor: str | None) -> datetime | None:
    """The moment in a `time_cursor` value; None for a platform id or no cursor."""
    if cursor is None or not cursor.startswith(TIME_PREFIX):
        return None
    return datetime.fromisoformat(cursor.removeprefix(TIME_PREFIX))


def report(stream: str, count: int | None, *, more: bool, before: datetime, now: datetime) -> list[Batch]:
    """Log what the backfill left out and return the batch that keeps the record (none if nothing was)."""
    if count == 0:
        return []
    record = LeftOut(stream, count, more, before, now)
    log.warning("%s: the backfill left out %s (PARLEY_BACKFILL bounds how far back a new stream reads)",
                stream, record.words())
    value = json.dumps({"count": count, "more": more, "before": before.isoformat(), "at": now.isoformat()})
    return [Batch(left_out_key(stream), [], cursor=value)]


def left_out(cursors: Mapping[str, str | None]) -> list[LeftOut]:
    """Every stream's left-out record among the stored cursors (what App Home / `parley check` show)."""
    found: list[LeftOut] = []
    for key, value in cursors.items():
        if not key.endswith(LEFT_OUT_SUFFIX) or not value:
            continue
        data = json.loads(value)
        found.append(LeftOut(key.removesuffix(LEFT_OUT_SUFFIX), data["count"], bool(data["more"]),
                             datetime.fromisoformat(data["before"]), datetime.fromisoformat(data["at"])))
    return found
