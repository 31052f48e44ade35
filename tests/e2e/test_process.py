"""`parley run` as a real process: kill -9 mid-delivery and restart -> every mention exactly once;
malformed configuration -> a clear error and a non-zero exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.emulators.slack_api import SlackEmulator
from tests.e2e.conftest import CHANNEL, stack_env

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _start(env: dict[str, str]) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_", "FACEBOOK_", "PARLEY_"))}
    return subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env={**clean, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _cards(stack):
    return [p for p in stack.slack.posts(CHANNEL) if p.thread_ts is None]


def _wait(condition, what, process, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"parley exited early ({process.returncode}): {process.stderr.read()}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_kill_9_mid_delivery_then_restart_mirrors_each_mention_exactly_once(stack, database_url):
    total = 30
    for i in range(total):
        user = stack.x.add_user(f"crash{i}", f"Crash {i}")
        stack.x.add_tweet(user, f"@acme order {i} never arrived")
    env = stack_env(stack, database_url, PARLEY_POLL_INTERVAL="1s", PARLEY_SLACK_MIN_INTERVAL="150ms")

    first = _start(env)
    try:
        _wait(lambda: len(_cards(stack)) >= 5, "the first cards", first)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    killed_at = len(_cards(stack))
    assert killed_at < total, "the kill must land mid-delivery for this test to mean anything"

    second = _start(env)
    try:
        _wait(lambda: len(_cards(stack)) >= total, "all cards after restart", second)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=15)

    cards = _cards(stack)
    texts = [c.text for c in cards]
    keys = [c.metadata["event_payload"]["key"] for c in cards]
    assert len(cards) == total
    assert len(set(keys)) == total and len(set(texts)) == total


@pytest.mark.parametrize(("override", "variable"), [
    ({"PARLEY_POLL_INTERVAL": "every now and then"}, "PARLEY_POLL_INTERVAL"),
    ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN"),
    ({"X_ACCESS_TOKEN_SECRET": ""}, "X_ACCESS_TOKEN_SECRET"),
    ({"FACEBOOK_GRAPH_VERSION": "latest"}, "FACEBOOK_GRAPH_VERSION"),
])
def test_malformed_configuration_stops_start_up_with_a_clear_error(stack, tmp_path, override, variable):
    env = stack_env(stack, f"sqlite:///{tmp_path / 'p.db'}", **override)
    env = {k: v for k, v in env.items() if v != ""}
    process = _start(env)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert variable in stderr
    assert "sandbox-access-secret" not in stderr and SlackEmulator.TOKEN not in stderr
