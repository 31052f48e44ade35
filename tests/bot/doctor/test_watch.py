"""The scheduled check: one DM per manager when a check that passed starts failing, never repeated
while it keeps failing, again after it recovered and broke once more."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.doctor.watch import CheckWatch
from connectors.checks import Check, fail, ok, warn
from sandbox.emulators.slack_api import SlackEmulator

TOKEN_OK = ok("facebook", "facebook.token", "the Page token works")
TOKEN_EXPIRED = fail("facebook", "facebook.token", "the Page token has expired", "generate a new Page token")
QUARANTINE = warn("database", "database.quarantine", "2 customer messages could not be stored")


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as slack:
        slack.add_user("U0BOSS", "boss")
        slack.add_user("U0CHIEF", "chief")
        yield slack


def _watch(store, slack: SlackEmulator, runs: list[list[Check]]) -> tuple[CheckWatch, list[datetime]]:
    clock = [datetime(2026, 12, 4, 9, 0, tzinfo=UTC)]
    results = iter(runs)

    def run() -> list[Check]:
        clock[0] += timedelta(minutes=15)
        return next(results)

    client = WebClient(token=SlackEmulator.TOKEN, base_url=slack.base_url + "/api/")
    return CheckWatch(run, store, client, managers="U0BOSS,U0CHIEF", clock=lambda: clock[0]), clock


def _dms(slack: SlackEmulator) -> list[tuple[str, str]]:
    return [(c.args()["channel"], c.args()["text"]) for c in slack.calls_to(r"/api/chat\.postMessage")]


def test_a_check_that_breaks_warns_each_manager_once_per_transition(store, slack: SlackEmulator) -> None:
    runs = [[TOKEN_OK, QUARANTINE], [TOKEN_EXPIRED], [TOKEN_EXPIRED], [TOKEN_OK], [TOKEN_EXPIRED]]
    watch, _ = _watch(store, slack, runs)

    assert watch.tick() == []  # passing, and a warning never alerts
    assert watch.tick() == [TOKEN_EXPIRED]
    dms = _dms(slack)
    assert len(dms) == 2 and len({channel for channel, _ in dms}) == 2  # one DM channel per manager
    assert all("the Page token has expired" in text and "Fix: generate a new Page token" in text
               for _, text in dms)
    assert watch.latest == [TOKEN_EXPIRED]  # App Home shows it

    assert watch.tick() == []  # still failing: nothing repeated
    assert watch.tick() == []  # recovered
    assert watch.tick() == [TOKEN_EXPIRED]  # broke again
    assert len(_dms(slack)) == 4


def test_a_check_that_never_passed_does_not_alert(store, slack: SlackEmulator) -> None:
    watch, _ = _watch(store, slack, [[TOKEN_EXPIRED], [TOKEN_EXPIRED]])
    assert watch.tick() == [] and watch.tick() == []
    assert _dms(slack) == []
