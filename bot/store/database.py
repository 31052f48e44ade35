"""The database: engine, schema upgrades, and the one place sessions/transactions are opened."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlmodel import Session, select

from bot.store.models import Cursor, utcnow

log = logging.getLogger(__name__)


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
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)


def alembic_config(engine: sa.Engine) -> AlembicConfig:
    script_dir = Path(str(resources.files("bot") / "store" / "migrations"))
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(script_dir))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (idempotent; safe to run on every start)."""
    command.upgrade(alembic_config(engine), revision)


class Store:
    """Owns the engine; hands out transactions. Everything else receives a Session from here."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str, *, migrate: bool = True) -> Store:
        engine = make_engine(url)
        if migrate:
            upgrade(engine)
        return cls(engine)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any exception."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def cursors(self) -> dict[str, str | None]:
        with self.transaction() as session:
            return {c.stream: c.value for c in session.exec(select(Cursor)).all()}

    def dispose(self) -> None:
        self.engine.dispose()


def set_cursor(session: Session, stream: str, value: str) -> None:
    """Persist a stream's cursor inside the caller's transaction (with the messages it covers)."""
    row = session.get(Cursor, stream)
    if row is None:
        session.add(Cursor(stream=stream, value=value))
    else:
        row.value = value
        row.updated_at = utcnow()
        session.add(row)
