"""Fixtures shared by the delivery tests: a controllable clock and a Slack emulator that reads it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.emulators.slack_api import SlackEmulator
from tests.bot.delivery.test_worker import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def slack(clock: FakeClock) -> Iterator[SlackEmulator]:
    with SlackEmulator(clock=clock.epoch) as emulator:
        yield emulator
