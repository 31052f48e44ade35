"""Scheduler leadership: one leader per PostgreSQL database, hand-over when its session ends;
SQLite always leads. Driven directly (try_acquire / guard), no scheduler threads."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.schedule.leader import Leadership
from bot.schedule.scheduler import build_scheduler
from bot.store.database import Store, make_engine

postgres_only = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)


@pytest.fixture
def make_leadership(store: Store) -> Iterator:
    # A key of its own per test: a Leadership left over by a failing test cannot block the next one.
    key = uuid.uuid4().int % (2**62)
    made: list[Leadership] = []

    def make() -> Leadership:
        leadership = Leadership(store, key=key)
        made.append(leadership)
        return leadership

    yield make
    for leadership in made:
        leadership.release()


def _terminate(database_url: str, backend_pid: int) -> None:
    admin = make_engine(database_url)
    with admin.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend_pid}).scalar()
        # Wait (server side, bounded) until the session is gone and its locks with it.
        conn.execute(sa.text(
            "DO $$ BEGIN FOR i IN 1..500 LOOP "
            "EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = " + str(int(backend_pid)) + "); "
            "PERFORM pg_sleep(0.01); END LOOP; END $$"))
    admin.dispose()


def test_sqlite_process_always_leads(sqlite_store):
    leadership = Leadership(sqlite_store)
    assert leadership.is_leader and leadership.try_acquire() and leadership.verify()
    assert leadership.role == "leader"
    assert leadership.guard(lambda: "ran")() == "ran"
    leadership.release()  # nothing to release; still the only process
    assert leadership.is_leader


@postgres_only
def test_exactly_one_of_two_processes_leads(make_leadership):
    first, second = make_leadership(), make_leadership()
    assert first.try_acquire() is True
    assert second.try_acquire() is False
    # Asking again changes nothing: the leader confirms, the follower still cannot take the lock.
    assert first.try_acquire() is True and second.try_acquire() is False
    assert (first.role, second.role) == ("leader", "follower")
    assert first.backend_pid() != second.backend_pid()  # each on a dedicated session


@postgres_only
def test_guard_runs_jobs_only_on_the_leader(make_leadership):
    leader, follower = make_leadership(), make_leadership()
    leader.try_acquire()
    follower.try_acquire()
    ran: list[str] = []
    leader_job = leader.guard(lambda: ran.append("leader"))
    follower_job = follower.guard(lambda: ran.append("follower"))
    for _ in range(3):
        leader_job()
        follower_job()
    assert ran == ["leader"] * 3


@postgres_only
def test_release_hands_over_at_the_followers_next_try(make_leadership):
    first, second = make_leadership(), make_leadership()
    assert first.try_acquire() and not second.try_acquire()
    first.release()
    assert not first.is_leader
    assert second.try_acquire() is True
    assert first.try_acquire() is False


@postgres_only
def test_a_terminated_leader_session_hands_over_and_the_old_leader_stops(make_leadership, database_url, caplog):
    old, new = make_leadership(), make_leadership()
    assert old.try_acquire() and not new.try_acquire()
    ran: list[str] = []
    old_job = old.guard(lambda: ran.append("old"))

    _terminate(database_url, old.backend_pid())  # what PostgreSQL does when the leader process dies

    assert new.try_acquire() is True
    with caplog.at_level(logging.INFO, logger="bot.schedule.leader"):
        old_job()  # the guard's ping finds the session gone: no run, leadership dropped at once
    assert ran == []
    assert not old.is_leader
    assert "no longer the scheduler leader" in caplog.text
    assert old.try_acquire() is False  # it reconnects, but the lock is the new leader's now


@postgres_only
def test_a_leader_whose_session_was_lost_reacquires_on_a_new_connection(make_leadership, database_url):
    leadership = make_leadership()
    assert leadership.try_acquire()
    lost = leadership.backend_pid()
    _terminate(database_url, lost)
    assert leadership.try_acquire() is True
    assert leadership.backend_pid() != lost


@postgres_only
def test_a_scheduler_built_with_the_guard_skips_jobs_on_a_follower(make_leadership):
    leader, follower = make_leadership(), make_leadership()
    leader.try_acquire()
    ran: list[str] = []
    ticks: list[str] = []
    scheduler = build_scheduler({"x": lambda: ran.append("poll")}, timedelta(seconds=60),
                                extra={"remind": (60.0, lambda: ran.append("remind"))}, guard=follower.guard,
                                unguarded={"leadership": (5.0, lambda: ticks.append("tick"))})
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"poll:x", "remind", "leadership"}
    for job in jobs.values():
        job.func()
    assert ran == [] and ticks == ["tick"]
