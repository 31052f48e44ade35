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
from sandbox.emulators.stack import free_port
from tests.e2e.conftest import CHANNEL, stack_env

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_", "FACEBOOK_", "PARLEY_"))}


def _start(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env={**_clean_environment(), **env},
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


def kill_9_then_restart(stack, env: dict[str, str], total: int) -> list:
    """Start the real app, SIGKILL it once at least 5 of `total` cards are out (asserting the kill
    landed mid-delivery), start it again and wait for all of them; the top-level posts."""
    first = _start(env)
    try:
        _wait(lambda: len(_cards(stack)) >= 5, "the first cards", first)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert len(_cards(stack)) < total, "the kill must land mid-delivery for this test to mean anything"

    second = _start(env)
    try:
        _wait(lambda: len(_cards(stack)) >= total, "all cards after restart", second)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=15)
    return _cards(stack)


def card_keys(cards: list) -> list[str]:
    """The outbox keys of the card posts (not an SLA notice a slow run may add)."""
    keys = [c.metadata["event_payload"]["key"] for c in cards]
    return [k for k in keys if k.startswith("post_card:")]


def test_kill_9_mid_delivery_then_restart_mirrors_each_mention_exactly_once(stack, database_url):
    total = 30
    for i in range(total):
        user = stack.x.add_user(f"crash{i}", f"Crash {i}")
        stack.x.add_tweet(user, f"@acme order {i} never arrived")
    env = stack_env(stack, database_url, PARLEY_POLL_INTERVAL="1s", PARLEY_SLACK_MIN_INTERVAL="150ms")
    cards = kill_9_then_restart(stack, env, total)
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


def _refused(env: dict[str, str], timeout: float = 60) -> str:
    """Run `parley run` to its exit; the exit must be 2 with exactly one line on stderr."""
    process = _start(env)
    _, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 2, stderr
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1, stderr
    return stderr


@pytest.mark.parametrize(("override", "variable"), [
    ({"DATABASE_URL": ""}, "DATABASE_URL"),
    ({"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
    ({"DATABASE_URL": "mysql://parley:hunter22@db/parley"}, "DATABASE_URL"),
    ({"DATABASE_URL": "sqlite:////no/such/directory/parley.db"}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgresql://parley:hunter22@127.0.0.1:1/parley"}, "DATABASE_URL"),
    ({"PARLEY_POLL_INTERVAL": "99999999999999999999s"}, "PARLEY_POLL_INTERVAL"),
    ({"PARLEY_REMINDER_INTERVAL": "0.0000001s"}, "PARLEY_REMINDER_INTERVAL"),
    ({"PARLEY_CHANNEL": ""}, "PARLEY_CHANNEL"),
    ({"PARLEY_CHANNEL": "#no-such-channel"}, "PARLEY_CHANNEL"),
    ({"SLACK_BOT_TOKEN": "xoxb-revoked"}, "SLACK_BOT_TOKEN"),
    ({"SLACK_BOT_TOKEN": "xoxp-a-user-token"}, "SLACK_BOT_TOKEN"),
    ({"SLACK_APP_TOKEN": SlackEmulator.TOKEN}, "SLACK_APP_TOKEN"),
])
def test_each_bad_setting_is_one_line_naming_it_and_exit_2(stack, tmp_path, override, variable):
    env = stack_env(stack, f"sqlite:///{tmp_path / 'p.db'}", PARLEY_STARTUP_WAIT="2s", **override)
    stderr = _refused(env)
    assert stderr.startswith(f"parley: {variable}: ")
    assert "hunter22" not in stderr and SlackEmulator.TOKEN not in stderr


def test_an_unknown_section_in_parley_config_is_named(stack, tmp_path):
    config = tmp_path / "parley.yaml"
    config.write_text("routes:\n  - {channel: C0SUPPORT, platform: x}\n")
    stderr = _refused(stack_env(stack, f"sqlite:///{tmp_path / 'p.db'}", PARLEY_CONFIG=str(config)))
    assert stderr.startswith(f"parley: PARLEY_CONFIG: {config}: unknown section 'routes'")


def test_a_binary_dotenv_is_one_line(stack, tmp_path):
    (tmp_path / ".env").write_bytes(b"\x00\xff\xfe\x80 not text\n")
    env = stack_env(stack, f"sqlite:///{tmp_path / 'p.db'}")
    process = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=tmp_path,
                               env={**_clean_environment(), **env, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2 and len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("parley: .env (in ") and "is not UTF-8 text" in stderr


def test_slack_refusing_connections_is_retried_then_one_line(stack, tmp_path):
    env = stack_env(stack, f"sqlite:///{tmp_path / 'p.db'}", PARLEY_STARTUP_WAIT="2s",
                    SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/")
    started = time.monotonic()
    stderr = _refused(env)
    assert time.monotonic() - started >= 2.0  # the backoff was waited out, not skipped
    assert stderr.startswith("parley: SLACK_API_URL: cannot reach Slack at ") and "after retrying for 2s" in stderr


def test_one_503_from_slack_at_start_up_is_retried_and_parley_starts(stack, tmp_path):
    stack.slack.fail_next(r"/api/auth\.test", 503, body={"ok": False, "error": "service_unavailable"})
    env = stack_env(stack, f"sqlite:///{tmp_path / 'p.db'}", PARLEY_CHANNEL="#social-support")
    user = stack.x.add_user("startup503", "Start Up")
    stack.x.add_tweet(user, "@acme is anyone there?")
    process = _start(env)
    try:
        _wait(lambda: len(_cards(stack)) >= 1, "the first card in the #name-resolved channel", process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
    assert len(stack.slack.calls_to(r"/api/auth\.test")) >= 2  # the 503, then the retry (Bolt asks again later)
