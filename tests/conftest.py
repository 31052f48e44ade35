"""Shared fixtures.

`store` runs each storage/pipeline test on SQLite and on a real PostgreSQL server. The PostgreSQL
URL comes from PARLEY_TEST_POSTGRES_URL (".ci/run" installs and starts a server and sets it). On a
developer machine without one the PostgreSQL variants are skipped with that reason; under CI
(CI=true) a missing server is an error, so CI can never pass without them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.store.database import Store, make_engine, upgrade

POSTGRES_URL = os.environ.get("PARLEY_TEST_POSTGRES_URL")


def _postgres_or_skip() -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    if os.environ.get("CI"):
        pytest.fail("CI must run the PostgreSQL tests: PARLEY_TEST_POSTGRES_URL is not set")
    pytest.skip("PARLEY_TEST_POSTGRES_URL not set (no PostgreSQL server for this run)")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh database on the test server, migrated once, dropped at the end."""
    admin_url = _postgres_or_skip()
    name = f"parley_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(make_engine(admin_url).url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename<>'alembic_version'")
            )
        ]
        if tables:
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite store migrated once per session; each test gets a copy (running the
    migrations costs about a tenth of a second, copying the file a millisecond)."""
    path = tmp_path_factory.mktemp("schema") / "parley.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection's close folds the WAL into the file
    return path


def sqlite_copy(migrated_sqlite: Path, tmp_path: Path) -> str:
    target = tmp_path / "parley.db"
    shutil.copyfile(migrated_sqlite, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A migrated, empty database URL: SQLite in tmp_path, or the shared PostgreSQL test database."""
    if request.param == "sqlite":
        return sqlite_copy(request.getfixturevalue("migrated_sqlite"), tmp_path)
    url = request.getfixturevalue("postgres_database")
    engine = make_engine(url)
    _truncate_all(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A database with no schema at all, for a migration's test on a store with data: SQLite in
    tmp_path, or a new database on the test server (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    admin_url = os.environ.get("PARLEY_TEST_POSTGRES_URL") or request.getfixturevalue("postgres_database")
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"parley_old_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store.from_url(database_url, migrate=False)
    yield store
    store.dispose()


@pytest.fixture
def sqlite_store(migrated_sqlite: Path, tmp_path) -> Iterator[Store]:
    """SQLite only, for tests whose subject is not storage."""
    store = Store.from_url(sqlite_copy(migrated_sqlite, tmp_path), migrate=False)
    yield store
    store.dispose()
