"""`parley check`'s spend line: ✓ under 80% of a budget, ⚠ from 80% with what stops next, ✗ from 100%
naming what stopped and the setting to raise; and the check watch leaves spend to its own warning."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.doctor.spend import check_spend
from bot.doctor.watch import CheckWatch
from connectors.base import Connector
from connectors.checks import Status
from connectors.testing import FakeConnector, mastodon_rules
from connectors.usage import Usage
from connectors.x.spend import POST_URL, Spend

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


class Billed(FakeConnector):
    def __init__(self, dollars: float, **budgets: float) -> None:
        super().__init__(mastodon_rules())
        self.meter = Spend(**budgets)  # type: ignore[arg-type]
        self.meter.charge(POST_URL, [f"p{i}" for i in range(round(dollars / 0.2))], NOW)

    def billing(self, now: datetime) -> Usage:
        return self.meter.report(now, "X")


def line(connector: Connector) -> tuple[Status, str]:
    [check] = check_spend([connector], NOW)
    assert check.name == "mastodon.spend"
    return check.status, check.line


def test_under_80_percent_passes_and_no_budget_is_said() -> None:
    assert line(Billed(7.8, monthly_budget=10)) == (Status.OK, "✓ mastodon: spend today $7.80 · this month $7.80 "
                                                                "of $10.00: 78% of the budget")
    status, text = line(Billed(1.0))
    assert status is Status.OK and text.endswith("(no budget set)")


def test_80_percent_warns_with_what_stops_next_and_the_fix() -> None:
    status, text = line(Billed(8.0, monthly_budget=10))
    assert status is Status.WARN
    assert "80% of the budget" in text and "At 100% of a budget Parley stops reading X searches" in text
    assert text.endswith("— raise X_MONTHLY_BUDGET (USD) and restart Parley")


def test_100_percent_fails_naming_what_stopped_and_the_fix() -> None:
    status, text = line(Billed(2.2, daily_budget=2, monthly_budget=100))
    assert status is Status.FAIL
    assert "110% of the budget; stopped reading searches, own mentions" in text
    assert text.endswith("— raise X_DAILY_BUDGET (USD) and restart Parley, or wait for the next UTC day")


def test_a_network_that_bills_nothing_has_no_line_and_a_broken_ledger_warns() -> None:
    assert check_spend([FakeConnector(mastodon_rules())], NOW) == []

    class Broken(FakeConnector):
        def billing(self, now: datetime) -> Usage:
            raise RuntimeError("no such table: x_charges")

    [check] = check_spend([Broken(mastodon_rules())], NOW)
    assert check.status is Status.WARN and "could not read the spend" in check.detail


def test_the_check_watch_leaves_spend_to_its_own_warning(store) -> None:
    budgets = {"monthly_budget": 10.0}
    results = [check_spend([Billed(5.0, **budgets)], NOW), check_spend([Billed(12.0, **budgets)], NOW)]
    watch = CheckWatch(lambda: results.pop(0), store, client=None, managers="U0MGR1",  # type: ignore[arg-type]
                       clock=lambda: NOW)
    assert watch.tick() == []
    assert watch.tick() == []  # failing now, but no second DM: bot/schedule/spend_watch.py says it
