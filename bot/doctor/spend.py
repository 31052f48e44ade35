"""`parley check` for what each network that bills has spent: ✓ under 80% of its budgets, ⚠ from 80%,
✗ from 100% (the budget has started to stop reading), each with the fix in the network's own words
(`Connector.billing`, connectors/usage.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from connectors.base import Connector
from connectors.checks import Check, fail, ok, warn
from connectors.usage import WARN_SHARE

log = logging.getLogger(__name__)

SPEND = "spend"  # the check's name is "<network>.spend"; managers hear of it from bot/schedule/spend_watch.py


def check_spend(connectors: Iterable[Connector], now: datetime) -> list[Check]:
    checks = []
    for connector in connectors:
        target, name = connector.platform, f"{connector.platform}.{SPEND}"
        try:
            usage = connector.billing(now)
        except Exception as exc:  # the ledger lives in the database, which has its own check
            log.warning("%s: could not read what was billed", target, exc_info=True)
            checks.append(warn(target, name, f"could not read the spend ({type(exc).__name__})",
                               "see the database check"))
            continue
        if usage is None:
            continue
        spent = f"spend {usage.summary()}"
        if not usage.shares():
            checks.append(ok(target, name, f"{spent} (no budget set)"))
        elif usage.used >= 1.0:
            stopped = ", ".join(usage.stopped) or "nothing"
            checks.append(fail(target, name, f"{spent}: {usage.used:.0%} of the budget; stopped reading {stopped}",
                               usage.fix))
        elif usage.used >= WARN_SHARE:
            checks.append(warn(target, name, f"{spent}: {usage.used:.0%} of the budget. {usage.ahead}", usage.fix))
        else:
            checks.append(ok(target, name, f"{spent}: {usage.used:.0%} of the budget"))
    return checks
