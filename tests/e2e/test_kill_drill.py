"""Kill drills (issue 11): `parley run` processes killed with -9 at random moments during a spike —
one on SQLite, three replicas on one PostgreSQL database — lose nothing and post nothing twice
(bench/kill_drill.py, a few rounds of a small spike here; the benchmark runs 20).

And the loss the drill found, pinned down: `/social reply` answers Slack only once the reply is stored.
"""

from __future__ import annotations

import os
import time

import pytest
from sqlmodel import select

from bench.kill_drill import run
from bot.store.models import Direction, Message
from tests.e2e.slack_requests import mirror_x_mention, serve  # noqa: F401  (serve is a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _postgres_or_skip() -> None:
    if os.environ.get("PARLEY_TEST_POSTGRES_URL"):
        return
    if os.environ.get("CI"):
        pytest.fail("CI must run the PostgreSQL tests: PARLEY_TEST_POSTGRES_URL is not set")
    pytest.skip("PARLEY_TEST_POSTGRES_URL not set (no PostgreSQL server for this run)")


@pytest.mark.parametrize(("database", "replicas"), [
    ("sqlite", 1),
    pytest.param("postgres", 3, marks=pytest.mark.postgres),
])
def test_kill_9_during_a_spike_loses_nothing_and_posts_nothing_twice(database, replicas):
    if database == "postgres":
        _postgres_or_skip()
    lines: list[str] = []
    final, rounds = run(rounds=3, database=database, replicas=replicas, mentions=40, seed=11, settle=45.0,
                        out=lines.append)

    assert len(rounds) == 3
    assert final.mentions_sent == final.stored == 40 and final.carded == final.conversations, lines
    assert final.replies_requested > 0 and final.replies_sent == final.replies_requested, lines
    assert final.clean, "\n".join([*lines, final.line()])


def test_a_reply_command_is_answered_only_once_the_reply_is_stored(stack, serve, monkeypatch):  # noqa: F811
    """Regression (bench/kill_drill.py): Slack was answered before the reply was stored, so a kill -9
    in between lost a reply staff had been told was received."""
    session = serve()
    case = mirror_x_mention(stack, session.parley)
    queue_reply = session.parley.sender.queue_reply

    def slow_store(*args, **kwargs):
        time.sleep(0.5)  # a slow insert: an ack sent before it would arrive first
        return queue_reply(*args, **kwargs)

    monkeypatch.setattr(session.parley.sender, "queue_reply", slow_store)

    assert session.command(f"reply #{case.ref} On it, sorry for the wait").status_code == 200
    with session.parley.store.transaction() as s:  # at the moment Slack got its answer
        stored = s.exec(select(Message).where(Message.direction == Direction.OUTBOUND)).all()
    assert [m.text for m in stored] == ["On it, sorry for the wait"]
