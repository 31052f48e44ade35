"""The result model of `parley check` (bot/doctor/): one finding per line, pure data.

It sits beside the connectors, at the bottom, so each network's package can say what it verified
about itself (connectors/x/doctor.py, connectors/facebook/doctor.py) in the same terms as the Slack
and database checks, and the shell, App Home and the watch job read the same results.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    FAIL = "fail"  # Parley cannot work as configured: `parley check` exits 1
    WARN = "warn"  # worth a look, Parley still works (quarantined messages, a token that will expire)


MARKS = {Status.OK: "✓", Status.FAIL: "✗", Status.WARN: "⚠"}


@dataclass(frozen=True)
class Check:
    """One verified fact. `fix` says in plain words what a person must do (empty when nothing)."""

    target: str  # "slack", "x", "facebook", "database"
    name: str  # stable key, e.g. "slack.scopes": the watch job compares runs by it
    status: Status
    detail: str
    fix: str = ""

    @property
    def line(self) -> str:
        """`✗ slack: missing scopes channels:join — add them to the app (manifest.yml) and reinstall`."""
        text = f"{MARKS[self.status]} {self.target}: {self.detail}"
        return f"{text} — {self.fix}" if self.fix else text


def ok(target: str, name: str, detail: str) -> Check:
    return Check(target, name, Status.OK, detail)


def fail(target: str, name: str, detail: str, fix: str) -> Check:
    return Check(target, name, Status.FAIL, detail, fix)


def warn(target: str, name: str, detail: str, fix: str = "") -> Check:
    return Check(target, name, Status.WARN, detail, fix)


def failed(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status is Status.FAIL]
