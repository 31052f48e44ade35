"""The database: engine, schema upgrades, and the one place sessions/transactions are opened."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.config_file import ConfigError
from bot.store import revisions
from bot.store.models import Cursor, utcnow

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)

SUPPORTED = "sqlite:///path/to/parley.db or postgresql://user:password@host:5432/dbname"


def check_database_url(url: str) -> str:
    """The URL if Parley can use it; else ValueError saying what is expected. Never echoes the URL
    (it may hold a password). A SQLite file's directory must exist (the file is created)."""
    if not url.strip():
        raise ValueError(f"must not be empty: use {SUPPORTED}")
    try:
        parsed = sa.make_url(normalise_url(url.strip()))
    except sa.exc.ArgumentError:
        raise ValueError(f"is not a database URL: use {SUPPORTED}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"{backend} is not supported (Parley supports SQLite and PostgreSQL): use {SUPPORTED}")
    if backend == "postgresql" and parsed.drivername != "postgresql+psycopg":
        raise ValueError(f"the {parsed.drivername} driver is not supported: use postgresql://… (psycopg 3)")
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:" \
            and not parsed.database.startswith("file:"):
        directory = Path(parsed.database).resolve().parent  # SQLite itself does not expand ~
        if not directory.is_dir():
            raise ValueError(f"the directory {str(directory)!r} of the SQLite file does not exist")
    return url.strip()


def normalise_url(url: str) -> str:
    """Accept the common `postgres://` / `postgresql://` spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> sa.Engine:
    """An engine whose errors never quote statement parameters: those hold customers' text, and
    error messages reach the log."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                  hide_parameters=True)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            # WAL lets the outbox worker read while a poll writes; SQLite leaves FKs off by default.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # psycopg is imported only for a PostgreSQL URL: a SQLite install never loads it.
    from psycopg import RawCursor, RawServerCursor  # noqa: PLC0415 (memory, not a cycle)

    # A server that does not answer must not hang start-up past PARLEY_STARTUP_WAIT.
    # SQLAlchemy writes PostgreSQL's own $1 placeholders and psycopg's raw cursors send the query as is
    # (https://www.psycopg.org/psycopg3/docs/advanced/cursors.html, "Raw query cursors"): the default
    # cursor re-parses every %(name)s query in Python, and a batch's multi-row INSERT (thousands of
    # placeholders, too long for psycopg's parse cache) cost about a tenth of an ingest's time.
    engine = sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, paramstyle="numeric_dollar",
                              connect_args={"connect_timeout": 10, "cursor_factory": RawCursor}, hide_parameters=True)

    @sa.event.listens_for(engine, "connect")
    def _raw_server_cursors(dbapi_conn, _record) -> None:
        dbapi_conn.server_cursor_factory = RawServerCursor  # named cursors too (yield_per reads)

    return engine


def wait_until_reachable(engine: sa.Engine, budget: float, *,
                         sleep: Callable[[float], None] = time.sleep) -> None:
    """Connect, retrying with exponential backoff (0.5 s doubling, at most 5 s apart) until `budget`
    seconds have been spent waiting; then ConfigError with the driver's reason (never the password)."""
    delay, waited = 0.5, 0.0
    if engine.dialect.name == "sqlite":
        budget = 0.0  # a local file does not come back by waiting
    while True:
        try:
            with engine.connect():
                return
        except sa.exc.OperationalError as exc:
            reason = " ".join(str(exc.orig).split())[:200]
            if waited >= budget:
                where = engine.url.render_as_string(hide_password=True)
                raise ConfigError(f"DATABASE_URL: cannot connect to {where} after {waited:.0f}s ({reason}); "
                                  "is the server running and the URL right?") from None
            # DEBUG: start-up failures end in one line on stderr; the retries are detail.
            log.debug("database not reachable (%s); retrying in %.1fs", reason, delay)
            step = min(delay, budget - waited)
            sleep(step)
            waited += step
            delay = min(delay * 2, 5.0)


# Alembic is imported only to migrate, or when bot/store/revisions.py cannot tell the schema's state:
# about 10 MB that a start on a current schema never loads (docs/ARCHITECTURE.md, "Layers and rules").
def alembic_config(engine: sa.Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig  # noqa: PLC0415 (memory, not a cycle: see above)

    script_dir = Path(str(resources.files("bot") / "store" / "migrations"))
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(script_dir))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (idempotent; safe to run on every start)."""
    from alembic import command  # noqa: PLC0415 (memory, not a cycle: see alembic_config)

    command.upgrade(alembic_config(engine), revision)


def newest_revision(engine: sa.Engine) -> str | None:
    """The migration scripts' head revision (Alembic asked only when the scripts do not say it plainly)."""
    head = revisions.newest()
    if head is not None:
        return head
    from alembic.script import ScriptDirectory  # noqa: PLC0415 (memory, not a cycle: see alembic_config)

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


class Store:
    """Owns the engine; hands out transactions. Everything else receives a Session from here."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._writer = threading.Lock()  # this process's writers through `write`, one at a time (SQLite)

    @classmethod
    def from_url(cls, url: str, *, migrate: bool = True, wait: float = 0.0) -> Store:
        """Open the database; with `wait` > 0 an unreachable server is retried with backoff for up to
        that many seconds, then a ConfigError naming DATABASE_URL (the start-up path)."""
        engine = make_engine(url)
        if wait > 0:
            wait_until_reachable(engine, wait)
        if migrate and not revisions.is_current(engine):
            upgrade(engine)
        return cls(engine)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any exception.

        `durable=False` is for work that is safely redone if its commit is lost to an operating-system
        crash or power cut (never to a process crash: a killed process loses nothing committed). It
        spares the commit's disk flush, which is most of a small transaction's cost. Used for a
        delivered item's "sent" mark (lost, the item is found in Slack by its key) and a polled ingest
        batch (lost, the poll's cursor, stored with its last batch, is lost with it and the posts are
        read again; every page of a backlog, not just the last); a claim stays durable."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                _set_durability(session, durable)
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[Session]:
        """`transaction` for a short read-then-write on the acknowledgement path, which must neither
        fail nor wait by polling under concurrent writers.

        On SQLite the transaction starts with BEGIN IMMEDIATE, so it takes the write lock before its
        first read: a deferred one that read first is refused at once ("database is locked") when
        another commit lands in between (https://www.sqlite.org/rescode.html#busy_snapshot), and had
        to be run again. Writers of this process queue on a lock here rather than in SQLite's busy
        handler, which sleeps in growing steps (https://www.sqlite.org/c3ref/busy_timeout.html);
        other writers are still waited for (busy_timeout). It also makes a nested savepoint a real
        one: the driver issues no BEGIN before a SAVEPOINT, whose RELEASE would otherwise commit.
        On PostgreSQL it is `transaction`: rows lock, writers do not refuse each other."""
        if self.is_postgres:
            with self.transaction(durable=durable) as session:
                yield session
            return
        deferred: list[Callable[[], None]] = []
        try:
            with self._writer, Session(self.engine, expire_on_commit=False) as session:
                session.info[_DEFERRED] = deferred
                try:
                    _set_durability(session, durable)  # a PRAGMA that cannot change inside a transaction
                    session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            for run in deferred:
                run()

    def cursors(self) -> dict[str, str | None]:
        with self.transaction() as session:
            return {c.stream: c.value for c in session.exec(select(Cursor)).all()}

    def dispose(self) -> None:
        self.engine.dispose()


_DEFERRED = "parley.deferred_writes"  # Session.info: what `Store.write` runs once its lock is released


def own_transaction(session: Session, write: Callable[[], None]) -> None:
    """Run `write`, which opens a transaction of its own, now; or, when `session` is a SQLite
    `Store.write` (it holds the database's one write lock, which `write` would wait for in vain),
    once that transaction has ended, committed or not."""
    deferred = session.info.get(_DEFERRED)
    if deferred is None:
        write()
    else:
        deferred.append(write)


def _set_durability(session: Session, durable: bool) -> None:
    """SQLite in WAL mode stays consistent with synchronous=NORMAL and loses only the latest commits
    to a power cut (https://www.sqlite.org/pragma.html#pragma_synchronous); PostgreSQL's
    synchronous_commit=off likewise "does not create any risk of database inconsistency"
    (https://www.postgresql.org/docs/current/runtime-config-wal.html#GUC-SYNCHRONOUS-COMMIT).
    A later durable commit flushes the earlier relaxed ones with it (the log is written in order)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        wanted = "FULL" if durable else "NORMAL"
        if connection.info.get("synchronous") != wanted:  # per DBAPI connection: set only on change
            connection.exec_driver_sql(f"PRAGMA synchronous={wanted}")
            connection.info["synchronous"] = wanted
    elif not durable:
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def set_cursor(session: Session, stream: str, value: str) -> None:
    """Persist a stream's cursor inside the caller's transaction (with the messages it covers)."""
    row = session.get(Cursor, stream)
    if row is None:
        session.add(Cursor(stream=stream, value=value))
    else:
        row.value = value
        row.updated_at = utcnow()
        session.add(row)
