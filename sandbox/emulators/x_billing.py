"""What X would bill for the requests the emulator served, for tests to compare with Parley's count.

X's pay-per-use prices (https://docs.x.com/x-api/getting-started/pricing; issue 10): reads per
resource returned — posts $0.005, the app's own user reading its own mentions ("Owned Reads")
$0.001, DM events $0.010 — and writes per request — a post $0.015, a post with a URL $0.200, a DM
$0.015. The same resource read again on the same UTC day is billed once. Users in `includes` are
not counted (issue 10's table leaves them out). A leaf: no Parley imports, its own price table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

PRICES = {"owned_read": 0.001, "post_read": 0.005, "dm_event_read": 0.010, "post": 0.015, "post_url": 0.200,
          "dm": 0.015}
_URL = re.compile(r"https?://\S|\bwww\.\S", re.IGNORECASE)


@dataclass
class XBilling:
    """The billed items per (UTC day, unit): repeats on one day are free."""

    items: dict[tuple[date, str], set[str]] = field(default_factory=dict)

    def charge(self, day: date, unit: str, ids: Iterable[str]) -> None:
        self.items.setdefault((day, unit), set()).update(ids)

    def read(self, day: date, unit: str, body: Any) -> None:
        """Charge the posts or DM events a successful read returned (`data` and `includes.tweets`)."""
        if not isinstance(body, dict):
            return
        found = [*(body.get("data") or ()), *((body.get("includes") or {}).get("tweets") or ())]
        self.charge(day, unit, (str(item["id"]) for item in found if isinstance(item, dict) and "id" in item))

    def wrote(self, day: date, unit: str, item: str, text: str = "") -> None:
        """Charge one write request (a post with a URL in its text costs the URL price)."""
        self.charge(day, "post_url" if unit == "post" and _URL.search(text) else unit, [item])

    def counts(self, day: date) -> dict[str, int]:
        return {unit: len(ids) for (d, unit), ids in self.items.items() if d == day and ids}

    def dollars(self, day: date) -> float:
        """What X bills for `day` (USD)."""
        return round(sum(n * PRICES[unit] for unit, n in self.counts(day).items()), 6)
