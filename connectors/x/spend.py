"""What Parley spends on X, counted as X bills it, and the budget that stops reading before it is spent.

X is pay-per-use since Feb 2026 (https://docs.x.com/x-api/getting-started/pricing): reads are
"charged per resource returned in the response" (Posts: Read $0.005, DM Event: Read $0.010; "Owned
Reads" — the app's own user reading its own data, such as its mentions timeline — $0.001 per
resource), writes per request (Content: Create $0.015, Content: Create (with URL) $0.200, DM
Interaction: Create $0.015). The same resource read twice in one UTC day is billed once (the
pricing page's request de-duplication; the UTC day as in issue 10). Users returned in `includes`
are billed by X too (User: Read $0.010) but are not counted here: issue 10's table leaves them out.

A `Charge` is one billable unit on one item; the ledger keeps each (UTC day, unit, item) once, so
re-reading is free here as on X. `Spend` prices the ledger's counts with a configurable table
(`X_PRICES`, defaults above) and says which streams the budget stops: at 100% of `X_DAILY_BUDGET`
or `X_MONTHLY_BUDGET` searches stop first; own mentions are read on to 110% and DMs to 120%, so
customers who address the brand are still heard while a human raises the budget. `report` gives all
of it as a neutral `Usage` with the thresholds reached (80% and each stop), which the managers'
warning, /metrics and `parley check` read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Protocol

from connectors.usage import WARN_SHARE, Threshold, Usage

OWNED_READ, POST_READ, DM_READ = "owned_read", "post_read", "dm_event_read"
POST, POST_URL, DM = "post", "post_url", "dm"
PRICES: Mapping[str, float] = {  # USD, X's published pay-per-use prices (see the module docstring)
    OWNED_READ: 0.001, POST_READ: 0.005, DM_READ: 0.010, POST: 0.015, POST_URL: 0.200, DM: 0.015,
}
WARN_AT = WARN_SHARE  # managers are warned once per day / month at 80% of a budget
# Where each stream stops, as a share of the budget: searches first, DMs last.
STOP_AT: Mapping[str, float] = {"search": 1.0, "mentions": 1.1, "dm": 1.2}
_READS = {"search": "searches", "mentions": "own mentions", "dm": "DMs"}
_SETTING = {"day": "X_DAILY_BUDGET", "month": "X_MONTHLY_BUDGET"}
AHEAD = ("At 100% of a budget Parley stops reading X searches; own mentions stop at 110% and DMs at 120%, "
         "so customers who address the brand are heard longest.")
_URL = re.compile(r"https?://\S|\bwww\.\S", re.IGNORECASE)


def post_unit(text: str) -> str:
    """The billing unit of posting `text`: a post with a URL costs 0.200 instead of 0.015."""
    return POST_URL if _URL.search(text) else POST


def parse_prices(value: object) -> dict[str, float]:
    """`X_PRICES` ("post_read=0.005,post_url=0.2" or a mapping) over the defaults; ValueError names
    an unknown unit or a bad number."""
    prices = dict(PRICES)
    if value in (None, ""):
        return prices
    pairs = value.items() if isinstance(value, Mapping) else (
        part.split("=", 1) for part in str(value).split(",") if part.strip())
    for pair in pairs:
        unit, amount = (str(x).strip() for x in pair) if len(pair) == 2 else ("", "")
        if unit not in PRICES:
            raise ValueError(f"{unit or pair!r} is not an X billing unit (use {', '.join(PRICES)})")
        try:
            prices[unit] = float(amount)
        except ValueError:
            raise ValueError(f"{unit}={amount!r} is not a price in USD") from None
        if prices[unit] < 0:
            raise ValueError(f"{unit}={amount} is negative")
    return prices


@dataclass(frozen=True, slots=True)
class Charge:
    """One billable unit on one item (a post id, a DM event id, our new post's id), on a UTC day."""

    unit: str
    item: str
    day: date


class Ledger(Protocol):
    """Where charges are kept (a table in production: `bot/store/spend.py`)."""

    def add(self, charges: Sequence[Charge]) -> None:
        """Keep each (day, unit, item) once; a repeat is ignored (X bills it once a day)."""

    def counts(self, first: date, last: date) -> Mapping[str, int]:
        """How many items per unit were charged from `first` to `last` (UTC days, inclusive)."""


@dataclass
class MemoryLedger:
    """A ledger in memory, for a connector without a store and for tests."""

    kept: set[Charge] = field(default_factory=set)

    def add(self, charges: Sequence[Charge]) -> None:
        self.kept.update(charges)

    def counts(self, first: date, last: date) -> Mapping[str, int]:
        out: dict[str, int] = {}
        for charge in self.kept:
            if first <= charge.day <= last:
                out[charge.unit] = out.get(charge.unit, 0) + 1
        return out


@dataclass(frozen=True, slots=True)
class Totals:
    """Spend so far today and this month (USD), with the budgets it is measured against."""

    today: float
    month: float
    daily_budget: float | None
    monthly_budget: float | None

    def share(self) -> float:
        """The larger of today's and this month's share of its budget (0 without budgets)."""
        shares = [spent / budget for spent, budget in ((self.today, self.daily_budget),
                                                       (self.month, self.monthly_budget)) if budget]
        return max(shares, default=0.0)

    def words(self) -> str:
        """"X spend: $1.23 today (of $5.00), $20.10 this month" for stats, App Home and checks."""
        def one(spent: float, budget: float | None, when: str) -> str:
            return f"${spent:,.2f} {when}" + (f" (of ${budget:,.2f})" if budget else "")
        today, month = one(self.today, self.daily_budget, "today"), one(self.month, self.monthly_budget, "this month")
        return f"X spend: {today}, {month}"


class Spend:
    """The meter: charges what the connector read and sent, prices it, and applies the budgets."""

    def __init__(self, ledger: Ledger | None = None, *, prices: Mapping[str, float] | None = None,
                 daily_budget: float | None = None, monthly_budget: float | None = None) -> None:
        self.ledger: Ledger = ledger if ledger is not None else MemoryLedger()
        self.prices = dict(prices or PRICES)
        self.daily_budget, self.monthly_budget = daily_budget, monthly_budget

    def charge(self, unit: str, items: Iterable[str], now: datetime) -> None:
        """Record that `items` were read or sent at `now` (UTC day of `now`)."""
        charges = [Charge(unit, item, now.date()) for item in dict.fromkeys(items)]
        if charges:
            self.ledger.add(charges)

    def dollars(self, first: date, last: date) -> float:
        counts = self.ledger.counts(first, last)
        return round(sum(n * self.prices.get(unit, 0.0) for unit, n in counts.items()), 6)

    def totals(self, now: datetime) -> Totals:
        today = now.date()
        return Totals(self.dollars(today, today), self.dollars(today.replace(day=1), today),
                      self.daily_budget, self.monthly_budget)

    def stopped(self, stream_class: str, now: datetime) -> str | None:
        """Why the budget stops `stream_class` ("search", "mentions", "dm") now, or None."""
        if not (self.daily_budget or self.monthly_budget):
            return None
        totals = self.totals(now)
        if totals.share() < STOP_AT[stream_class]:
            return None
        what = {"search": "searches", "mentions": "own mentions", "dm": "DMs"}[stream_class]
        return f"X budget reached: {what} stopped ({totals.words()})."

    def report(self, now: datetime, network: str = "X") -> Usage:
        """Spend and budgets as neutral numbers (connectors/usage.py): the thresholds reached this UTC
        day and month, what is stopped and what is still read, and the fix naming the setting."""
        totals = self.totals(now)
        plain = Usage(network, totals.today, totals.month, totals.daily_budget, totals.monthly_budget)
        shares = plain.shares()
        when = {"day": now.date().isoformat(), "month": now.strftime("%Y-%m")}
        levels = [(WARN_AT, None), *((at, stream_class) for stream_class, at in STOP_AT.items())]
        crossed = sorted((_threshold(period, when[period], at, stream_class) for period, share in shares.items()
                          for at, stream_class in levels if share >= at), key=lambda t: (t.share, t.period))
        stopped = tuple(_READS[c] for c, at in STOP_AT.items() if plain.used >= at)
        return replace(plain, crossed=tuple(crossed), stopped=stopped,
                       reading=tuple(w for w in _READS.values() if w not in stopped) if stopped else (),
                       ahead=AHEAD, fix=_fix(shares))


def _fix(shares: Mapping[str, float]) -> str:
    """The setting to raise: the budget at or past 80% (both if both are), else any that is set."""
    over = [period for period, share in shares.items() if share >= WARN_AT] or list(shares)
    if not over:
        return ""
    fix = f"raise {' or '.join(_SETTING[p] for p in over)} (USD) and restart Parley"
    return fix + (", or wait for the next UTC day" if over == ["day"] else "")


def _threshold(period: str, when: str, level: float, stream_class: str | None) -> Threshold:
    """"month:2026-12:100", "100% of the monthly budget: searches stopped"."""
    budget = "daily" if period == "day" else "monthly"
    words = f"{level:.0%} of the {budget} budget"
    if stream_class is not None:
        words += f": {_READS[stream_class]} stopped"
    return Threshold(f"{period}:{when}:{round(level * 100)}", level, period, words)
