"""What a network bills, as numbers any part of Parley can read without knowing the network.

A connector whose network charges per use (X since Feb 2026) answers `Connector.billing(now)` with a
`Usage`: spend today and this month, the budgets, which budget thresholds have been reached in their
current period (`crossed`, each with a stable `key` so a warning about it is sent once), what the
budget has stopped reading, and the fix in the network's own words (the setting to raise). The
managers' warning (bot/schedule/spend_watch.py), /metrics and `parley check` format these; none of
them names a network.
"""

from __future__ import annotations

from dataclasses import dataclass

WARN_SHARE = 0.8  # the share of a budget at which `parley check` warns and managers hear of it first


@dataclass(frozen=True, slots=True)
class Threshold:
    """One budget threshold reached. `key` names it within its period ("month:2026-12:100"): the same
    threshold reached again in the same period has the same key, in the next period a new one."""

    key: str
    share: float  # of the budget: 0.8, 1.0, …
    period: str  # "day" or "month"
    words: str  # "100% of the monthly budget: searches stopped"


@dataclass(frozen=True, slots=True)
class Usage:
    """A network's spend (in `currency`) against its budgets, at one moment."""

    network: str  # the network's display name, e.g. "X"
    today: float
    month: float
    daily_budget: float | None
    monthly_budget: float | None
    crossed: tuple[Threshold, ...] = ()  # lowest share first
    stopped: tuple[str, ...] = ()  # what the budget stops reading now, in words ("searches")
    reading: tuple[str, ...] = ()  # what is still read, in words, while something is stopped
    ahead: str = ""  # what happens at the next thresholds, in words
    fix: str = ""  # what a person does to go on, naming the setting
    currency: str = "USD"

    def shares(self) -> dict[str, float]:
        """Share of each budget that is set: {"day": 0.42, "month": 0.81}."""
        out = {}
        if self.daily_budget:
            out["day"] = self.today / self.daily_budget
        if self.monthly_budget:
            out["month"] = self.month / self.monthly_budget
        return out

    @property
    def used(self) -> float:
        """The larger share of a budget used (0 with no budget): what the thresholds are measured on."""
        return max(self.shares().values(), default=0.0)

    def money(self, amount: float) -> str:
        return f"${amount:,.2f}" if self.currency == "USD" else f"{amount:,.2f} {self.currency}"

    def summary(self) -> str:
        """"today $4.10 of $5.00 · this month $81.30 of $100.00"."""
        def one(when: str, spent: float, budget: float | None) -> str:
            return f"{when} {self.money(spent)}" + (f" of {self.money(budget)}" if budget else "")
        return f"{one('today', self.today, self.daily_budget)} · {one('this month', self.month, self.monthly_budget)}"
