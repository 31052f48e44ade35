"""Repeated warnings and errors are written once, then once per window with a count."""

from __future__ import annotations

import logging

import pytest

from bot.cli import configure_logging
from bot.quiet_logs import RepeatFilter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def written(clock: Clock) -> list[str]:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.levelname} {record.getMessage()}")

    handler = Collect()
    handler.addFilter(RepeatFilter(window=60, clock=clock))
    log = logging.getLogger("tests.quiet_logs")
    log.handlers[:] = [handler]
    log.propagate, log.level = False, logging.DEBUG
    yield lines
    log.handlers.clear()


def test_an_error_repeated_every_second_is_written_once_per_minute_with_a_count(clock, written):
    log = logging.getLogger("tests.quiet_logs")
    for second in range(150):
        clock.now = 1000.0 + second
        log.error("storing a batch of %s failed", f"x:mentions#{second}")
    assert written == [
        "ERROR storing a batch of x:mentions#0 failed",
        "ERROR storing a batch of x:mentions#60 failed (repeated 59 times in the last 60s)",
        "ERROR storing a batch of x:mentions#120 failed (repeated 59 times in the last 60s)",
    ]


def test_different_messages_levels_and_info_are_not_collapsed(clock, written):
    log = logging.getLogger("tests.quiet_logs")
    log.warning("X rate limited")
    log.error("X rate limited")
    log.warning("Facebook rate limited")
    log.info("polled %d items", 3)
    log.info("polled %d items", 3)
    assert written == ["WARNING X rate limited", "ERROR X rate limited", "WARNING Facebook rate limited",
                       "INFO polled 3 items", "INFO polled 3 items"]


def test_a_message_with_a_literal_percent_and_no_arguments_survives_the_count(clock, written):
    log = logging.getLogger("tests.quiet_logs")
    log.warning("disk 100% full")
    log.warning("disk 100% full")
    clock.now += 61
    log.warning("disk 100% full")
    assert written == ["WARNING disk 100% full", "WARNING disk 100% full (repeated 1 times in the last 61s)"]


def test_configure_logging_installs_it():
    from_root = logging.getLogger()
    saved = from_root.handlers[:], from_root.level
    try:
        configure_logging("INFO", [])
        assert any(isinstance(f, RepeatFilter) for h in from_root.handlers for f in h.filters)
    finally:
        from_root.handlers[:], from_root.level = saved
