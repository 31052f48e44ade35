"""Which Parley processes are alive, so that work a dead process left half done (an outbox item or a
reply in SENDING) is taken over at once, and work a live process holds is never taken from it.

Each process has one `Presence`: a random id, written as `claimed_by` on every row it marks SENDING
and cleared when it settles the row. A SENDING row whose claimer is not alive is *orphaned*.

PostgreSQL: the process holds a session-level advisory lock on (PRESENCE_KEY, id) on a dedicated
connection for its whole life (not one from the pool, which would hand the lock to whichever request
borrowed the connection next). PostgreSQL frees the lock when the session ends — kill -9, a crash, a
lost network — so whether a claimer is alive is one look at `pg_locks`, and a restarted or surviving
replica takes over at once instead of waiting out a lease.
SQLite: one process per database file, so the live claimers are the presences of this process.

As with scheduler leadership (bot/schedule/leader.py), a process cut off from the server but still
running is taken for dead; the session keepalives keep that window short.
"""

from __future__ import annotations

import contextlib
import random
import threading
from typing import Any

import sqlalchemy as sa

from bot.store.database import Store

# "pres" in ASCII; the first key of the two-key advisory lock, so it never meets the leader's lock.
PRESENCE_KEY = 0x70726573
_LOCAL: set[int] = set()  # live presences of this process (all there are on SQLite)
_LOCAL_MUTEX = threading.Lock()


def _alive_on_postgres(column: sa.ColumnElement[int | None] | Any) -> sa.ColumnElement[bool]:
    held = sa.text(
        "SELECT l.objid::bigint FROM pg_locks AS l WHERE l.locktype = 'advisory' AND l.granted "
        f"AND l.classid = {PRESENCE_KEY} AND l.objsubid = 2 "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ).columns(sa.column("objid", sa.BigInteger))
    return column.in_(held.scalar_subquery())


def orphaned(column: sa.ColumnElement[int | None] | Any, dialect: str) -> sa.ColumnElement[bool]:
    """True for a row claimed by a process that is not alive. On SQLite it takes the bind parameter
    `live` (expanding), which `Presence.params()` fills."""
    if dialect == "postgresql":
        return sa.and_(column.is_not(None), sa.not_(_alive_on_postgres(column)))
    return sa.and_(column.is_not(None), column.not_in(sa.bindparam("live", expanding=True)))


class Presence:
    """This process's claimer id, backed on PostgreSQL by a lock held for the process's life."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._mutex = threading.Lock()
        self._id: int | None = None
        self._conn: sa.Connection | None = None
        self._engine: sa.Engine | None = None

    @property
    def dialect(self) -> str:
        return "postgresql" if self._store.is_postgres else "sqlite"

    def claimer(self) -> int:
        """The id to write on a row this process claims; taken (and on PostgreSQL locked) on first use."""
        with self._mutex:
            if self._id is None:
                self._id = self._register()
            return self._id

    def params(self) -> dict[str, object]:
        """The bind parameters `orphaned` needs (SQLite: the ids alive in this process)."""
        if self._store.is_postgres:
            return {}
        self.claimer()
        with _LOCAL_MUTEX:
            return {"live": sorted(_LOCAL)}

    def is_alive(self, claimer: int) -> bool:
        """Whether the process that wrote `claimer` is alive."""
        if not self._store.is_postgres:
            with _LOCAL_MUTEX:
                return claimer in _LOCAL
        probe = sa.select(_alive_on_postgres(sa.literal(claimer, sa.BigInteger)))
        with self._store.engine.connect() as conn:
            return bool(conn.execute(probe).scalar())

    def stop(self) -> None:
        """Give the id up (its rows still in SENDING become orphans others take over)."""
        with self._mutex:
            if self._id is not None:
                with _LOCAL_MUTEX:
                    _LOCAL.discard(self._id)
            if self._conn is not None:
                with contextlib.suppress(sa.exc.SQLAlchemyError):  # closing the session frees the lock anyway
                    self._conn.close()
            if self._engine is not None:
                self._engine.dispose()
            self._id, self._conn, self._engine = None, None, None

    def _register(self) -> int:
        if not self._store.is_postgres:
            with _LOCAL_MUTEX:
                claimer = _fresh_id(_LOCAL)
                _LOCAL.add(claimer)
            return claimer
        # Its own engine without a pool: the lock must live on a connection nobody else borrows.
        # Keepalives let a process cut off from the server notice (and be noticed) in seconds.
        self._engine = sa.create_engine(
            self._store.engine.url, poolclass=sa.pool.NullPool,
            connect_args={"application_name": "parley-presence", "keepalives": 1, "keepalives_idle": 10,
                          "keepalives_interval": 5, "keepalives_count": 3})
        self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        while True:
            claimer = _fresh_id(set())
            taken = self._conn.execute(sa.text("SELECT pg_try_advisory_lock(:key, :id)"),
                                       {"key": PRESENCE_KEY, "id": claimer}).scalar()
            if taken:
                return claimer


def _fresh_id(taken: set[int]) -> int:
    while True:
        claimer = random.randint(1, 2**31 - 1)  # the advisory lock's second key is a signed int4
        if claimer not in taken:
            return claimer
