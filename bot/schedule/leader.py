"""Which process runs the scheduled jobs when several `parley run` replicas share one database.

SQLite: the documented rule is one process per database file, so that process always leads.

PostgreSQL: the leader holds a session-level advisory lock (`pg_try_advisory_lock`) on a dedicated
connection that is kept open for as long as it leads (not one from the request pool, which would
hand the lock to whichever request borrowed the connection next). PostgreSQL frees the lock when that
session ends, so when the leader dies (kill -9, crash, lost network) a follower's next `try_acquire`
takes it.

Every replica runs the same scheduler; each job is wrapped by `guard`, which runs it only while
this process leads, and `tick` (its own interval job, every `retry_interval`) re-checks or tries to
take the lock. Why not start the scheduler only on the leader: a follower's jobs are already
scheduled, so the first tick after it takes the lock runs them, with no start-up step that could
fail half way. Work is never lost in the hand-over gap (at most `retry_interval`): polls resume
from the stored cursors and reminders are computed from the database state on the next tick.

Two leaders at once are possible only briefly (the server ended the old leader's session but the
old process has not yet noticed); `guard` pings the lock connection before each run to keep that
window to one job's length, and once-only work is protected by claim rows (bot/claims.py) anyway.
The outbox worker and HTTP serving run on every replica: they are safe with SKIP LOCKED claims.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from bot.store.database import Store

log = logging.getLogger(__name__)

# "parley" in ASCII: one constant key per database (advisory locks are local to a database).
SCHEDULER_LOCK_KEY = 0x7061726C6579
DEFAULT_RETRY_INTERVAL = timedelta(seconds=5)

T = TypeVar("T")


class Leadership:
    """Whether this process is the scheduler leader; `try_acquire`/`tick` keep that answer fresh."""

    def __init__(self, store: Store, *, key: int = SCHEDULER_LOCK_KEY,
                 retry_interval: timedelta = DEFAULT_RETRY_INTERVAL) -> None:
        self.key = key
        self.retry_interval = retry_interval
        self._store = store
        self._mutex = threading.Lock()  # the lock connection is used from several scheduler threads
        self._conn: sa.Connection | None = None
        self._engine: sa.Engine | None = None
        self._leader = not store.is_postgres
        if not store.is_postgres:
            log.info("this process is the scheduler leader (SQLite: one process per database file)")
        else:
            # Its own engine without a pool: the lock must live on a connection nobody else borrows.
            # Keepalives let a leader cut off from the server notice instead of leading on alone.
            self._engine = sa.create_engine(
                store.engine.url, poolclass=NullPool,
                connect_args={"application_name": "parley-leader", "keepalives": 1, "keepalives_idle": 10,
                              "keepalives_interval": 5, "keepalives_count": 3},
            )

    @property
    def is_leader(self) -> bool:
        return self._leader

    @property
    def role(self) -> str:
        """"leader" or "follower", for /healthz."""
        return "leader" if self._leader else "follower"

    def try_acquire(self) -> bool:
        """Take the lock if it is free, or confirm it is still held; return whether this process leads.

        A lock connection found dead means leadership is already gone (the server released the lock
        with the session): stop leading at once, then try again on a new connection.
        """
        if self._engine is None:
            return True
        with self._mutex:
            if self._leader and self._alive():
                return True
            if self._leader:
                self._set_leader(False, "its database connection was lost")
            try:
                if self._conn is None or not self._alive():
                    self._reconnect()
                assert self._conn is not None
                taken = bool(self._conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"),
                                                {"key": self.key}).scalar())
            except sa.exc.SQLAlchemyError as exc:
                log.warning("scheduler leadership: cannot reach the database (%s); will retry",
                            type(exc).__name__)
                self._close()
                return False
            if taken:
                self._set_leader(True, "took the advisory lock")
            return taken

    tick = try_acquire  # the scheduler's interval job

    def verify(self) -> bool:
        """Still the leader? A cheap round trip on the lock connection (no new lock is taken)."""
        if self._engine is None:
            return True
        with self._mutex:
            if self._leader and not self._alive():
                self._set_leader(False, "its database connection was lost")
            return self._leader

    def guard(self, job: Callable[[], T]) -> Callable[[], T | None]:
        """Wrap a scheduled job so it runs only while this process is the leader (None otherwise)."""

        @functools.wraps(job)
        def guarded() -> T | None:
            if not self.verify():
                return None
            return job()

        return guarded

    def release(self) -> None:
        """Stop leading and close the lock connection (a follower takes over at its next try)."""
        if self._engine is None:
            return
        with self._mutex:
            if self._leader and self._conn is not None:
                # If this fails, closing the session below frees the lock all the same.
                with contextlib.suppress(sa.exc.SQLAlchemyError):
                    self._conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            if self._leader:
                self._set_leader(False, "released on shutdown")
            self._close()
            self._engine.dispose()

    def backend_pid(self) -> int | None:
        """The server process id of the lock session (for operators and tests), if connected."""
        with self._mutex:
            if self._conn is None:
                return None
            return int(self._conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())

    # --- internals (called with _mutex held) ------------------------------------------------------
    def _alive(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            self._close()
            return False

    def _reconnect(self) -> None:
        self._close()
        assert self._engine is not None
        # Autocommit: no transaction stays open on the idle lock session (session locks need none).
        self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sa.exc.SQLAlchemyError):  # already broken: nothing to release
                self._conn.close()
            self._conn = None

    def _set_leader(self, leader: bool, why: str) -> None:
        if leader == self._leader:
            return
        self._leader = leader
        if leader:
            log.info("this process is now the scheduler leader (%s)", why)
        else:
            log.info("this process is no longer the scheduler leader (%s)", why)
