"""Handlers' work waits while Slack requests are being acknowledged, and never longer than max_hold."""

from __future__ import annotations

import threading
import time

from bot.ack_first import AckFirstExecutor


def test_work_waits_until_no_request_is_being_acknowledged() -> None:
    executor = AckFirstExecutor(2, max_hold=10.0, quiet=0.0)
    started = threading.Event()
    try:
        with executor.acknowledging():
            future = executor.submit(started.set)
            assert not started.wait(0.2)  # held: a request is still being answered
        assert future.result(timeout=5) is None
        assert started.is_set()
    finally:
        executor.shutdown()


def test_work_waits_for_the_quiet_after_the_last_answer() -> None:
    executor = AckFirstExecutor(1, max_hold=10.0, quiet=0.3)
    try:
        with executor.acknowledging():
            pass
        answered = time.monotonic()
        ran_at = executor.submit(time.monotonic).result(timeout=5)
        assert ran_at - answered >= 0.3
    finally:
        executor.shutdown()


def test_a_steady_stream_of_requests_never_starves_the_work() -> None:
    executor = AckFirstExecutor(1, max_hold=0.2, quiet=0.0)
    try:
        with executor.acknowledging():  # never answered while the work waits
            assert executor.submit(lambda: "done").result(timeout=5) == "done"
    finally:
        executor.shutdown()


def test_work_submitted_with_nothing_in_flight_runs_at_once() -> None:
    executor = AckFirstExecutor(1, max_hold=10.0, quiet=0.0)
    try:
        assert executor.submit(lambda x: x * 2, 21).result(timeout=1) == 42
    finally:
        executor.shutdown()


def test_a_sibling_pool_waits_for_the_same_acknowledgements() -> None:
    handlers = AckFirstExecutor(1, max_hold=10.0, quiet=0.0)
    sends = handlers.sibling(1, name="send")
    started = threading.Event()
    try:
        with handlers.acknowledging():
            future = sends.submit(started.set)
            assert not started.wait(0.2)  # held: a request is still being answered
        assert future.result(timeout=5) is None
    finally:
        sends.shutdown()
        handlers.shutdown()
