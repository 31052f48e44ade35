"""Several `parley run` processes on one PostgreSQL database: exactly one runs the scheduled jobs,
and when it is killed with -9 another takes over; every mention is mirrored exactly once throughout.

Which process polled X is told apart by the bearer token each replica is given (the X emulator
records every request's Authorization header), so the test asserts on what the emulator saw.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import CHANNEL, stack_env

ROOT = Path(__file__).resolve().parents[2]
MENTIONS = r"/2/users/[^/]+/mentions"
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@dataclass
class Replica:
    name: str
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def bearer(self) -> str:
        return f"Bearer {self.name}"

    def health(self) -> dict | None:
        """/healthz's body, or None while the process is not (yet) serving."""
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).json()
        except requests.RequestException:
            return None

    def role(self) -> str | None:
        health = self.health()
        return None if health is None else health["scheduler"]


def _start(env: dict[str, str], name: str, log: Path) -> Replica:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_", "FACEBOOK_", "PARLEY_"))}
    # Logs go to a file: an unread pipe would block a chatty process once its buffer fills.
    with log.open("w") as sink:
        process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env={**clean, **env},
                                   stdout=subprocess.DEVNULL, stderr=sink, text=True)
    return Replica(name, process, int(env["PORT"]), log)


def _wait(condition: Callable[[], bool], what: str, replicas: list[Replica], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for replica in replicas:
            if replica.process.poll() is not None:
                raise AssertionError(f"{replica.name} exited early ({replica.process.returncode}): "
                                     f"{replica.log.read_text()[-3000:]}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def replicas(stack, database_url, tmp_path) -> Iterator[Callable[[int], list[Replica]]]:
    started: list[Replica] = []

    def start(count: int) -> list[Replica]:
        for i in range(count):
            # PARLEY_LEADER_INTERVAL short so hand-over is quick; each replica its own bearer token.
            env = stack_env(stack, database_url, PARLEY_POLL_INTERVAL="1s", PARLEY_LEADER_INTERVAL="1s",
                            X_BEARER_TOKEN=f"replica-{i}")
            started.append(_start(env, f"replica-{i}", tmp_path / f"replica-{i}.log"))
        return list(started)

    yield start
    for replica in started:
        if replica.process.poll() is None:
            replica.process.send_signal(signal.SIGTERM)
    for replica in started:
        try:
            replica.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            replica.process.kill()
            replica.process.wait()


def _cards(stack) -> list:
    return [p for p in stack.slack.posts(CHANNEL) if p.thread_ts is None]


def _pollers(stack, since: int = 0) -> list[str]:
    return [c.headers.get("authorization", "") for c in stack.x.calls_to(MENTIONS)[since:]]


def _mention(stack, label: str) -> None:
    user = stack.x.add_user(f"replica_{label}", f"Replica {label}")
    stack.x.add_tweet(user, f"@acme parcel {label} is lost")


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_one_leader_polls_and_a_follower_takes_over_after_kill_9(stack, replicas):
    for i in range(5):
        _mention(stack, f"before-{i}")
    group = replicas(3)

    _wait(lambda: all(r.role() is not None for r in group), "every replica to serve /healthz", group)
    _wait(lambda: len(_cards(stack)) >= 5, "the first cards", group)
    roles = {r.name: r.role() for r in group}
    leaders = [r for r in group if roles[r.name] == "leader"]
    assert len(leaders) == 1, roles
    leader = leaders[0]
    # Let every replica run its poll and leadership ticks a few times before judging who polled.
    seen = len(_pollers(stack))
    _wait(lambda: len(_pollers(stack)) >= seen + 3, "three more X polls", group)
    assert set(_pollers(stack)) == {leader.bearer}, "a follower polled X"
    assert "this process is now the scheduler leader" in leader.log.read_text()

    leader.process.send_signal(signal.SIGKILL)
    leader.process.wait(timeout=10)
    survivors = [r for r in group if r is not leader]
    killed_at = len(_pollers(stack))
    for i in range(4):
        _mention(stack, f"after-{i}")

    _wait(lambda: any(r.role() == "leader" for r in survivors), "a follower to take over", survivors)
    _wait(lambda: len(_cards(stack)) >= 9, "the mentions made after the kill", survivors)
    roles = {r.name: r.role() for r in survivors}
    new_leaders = [r for r in survivors if roles[r.name] == "leader"]
    assert len(new_leaders) == 1, roles
    # A few more polls by the new leader: a duplicate card would have had its chance to appear.
    polled = len(_pollers(stack))
    _wait(lambda: len(_pollers(stack)) >= polled + 2, "two more X polls", survivors)
    assert set(_pollers(stack, killed_at)) == {new_leaders[0].bearer}

    cards = _cards(stack)
    keys = [c.metadata["event_payload"]["key"] for c in cards]
    assert len(cards) == 9 and len(set(keys)) == 9
    assert sorted(c.text for c in cards) == sorted(set(c.text for c in cards))
