import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.config_file import ConfigError
from bot.store.database import (
    Store,
    check_database_url,
    make_engine,
    own_transaction,
    set_cursor,
    wait_until_reachable,
)
from bot.store.models import Cursor


def test_cursor_round_trip(store):
    with store.transaction() as s:
        set_cursor(s, "x:mentions", "100")
    with store.transaction() as s:
        set_cursor(s, "x:mentions", "200")
    assert store.cursors() == {"x:mentions": "200"}


def test_failed_transaction_leaves_cursor_untouched(store):
    try:
        with store.transaction() as s:
            set_cursor(s, "x:mentions", "300")
            raise RuntimeError("crash mid-batch")
    except RuntimeError:
        pass
    with store.transaction() as s:
        assert s.exec(select(Cursor)).all() == []


def test_a_reachable_database_is_not_waited_for(tmp_path):
    slept: list[float] = []
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    wait_until_reachable(engine, 30, sleep=slept.append)
    assert slept == []


def test_an_unreachable_postgres_is_retried_with_backoff_then_one_line():
    slept: list[float] = []
    engine = make_engine("postgresql://parley:hunter22@127.0.0.1:1/parley")
    with pytest.raises(ConfigError) as caught:
        wait_until_reachable(engine, 8, sleep=slept.append)
    assert slept == [0.5, 1.0, 2.0, 4.0, 0.5]  # doubling, cut to the budget
    message = str(caught.value)
    assert message.startswith("DATABASE_URL: cannot connect to postgresql+psycopg://parley:***@127.0.0.1:1/parley "
                               "after 8s (")
    assert "hunter22" not in message and "\n" not in message


def test_a_sqlite_file_that_cannot_be_opened_is_not_retried(tmp_path):
    slept: list[float] = []
    (tmp_path / "a-directory.db").mkdir()
    engine = make_engine(f"sqlite:///{tmp_path / 'a-directory.db'}")
    with pytest.raises(ConfigError, match=r"^DATABASE_URL: cannot connect"):
        wait_until_reachable(engine, 30, sleep=slept.append)
    assert slept == []


def test_store_from_url_waits_only_when_asked(tmp_path):
    store = Store.from_url(f"sqlite:///{tmp_path / 'p.db'}", wait=5)
    assert store.cursors() == {}
    store.dispose()


@pytest.mark.parametrize("url", ["sqlite:///parley.db", "sqlite://", "postgres://u:p@db/parley",
                                 "postgresql://u:p@db:5432/parley", "sqlite:///:memory:"])
def test_usable_database_urls(url):
    assert check_database_url(f"  {url} ") == url


def _synchronous(session) -> str:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        return {1: "relaxed", 2: "durable"}[connection.exec_driver_sql("PRAGMA synchronous").scalar()]
    return {"off": "relaxed", "on": "durable"}[connection.exec_driver_sql("SHOW synchronous_commit").scalar()]


def test_only_a_relaxed_transaction_skips_the_disk_flush(store):
    # SET LOCAL lasts one transaction: the pooled connection's next, durable, one flushes again.
    for durable in (False, True, False, True):
        with store.transaction(durable=durable) as s:
            assert _synchronous(s) == ("durable" if durable else "relaxed")


def test_statements_with_percent_signs_and_repeated_parameters_run_as_written(store):
    # PostgreSQL gets its own $1 placeholders, sent as written (bot/store/database.py, RawCursor).
    with store.transaction() as s:
        row = s.connection().execute(sa.text("SELECT '100%' || :a || :b || :a"), {"a": "%s", "b": "%(x)s"}).one()
    assert row[0] == "100%%s%(x)s%s"


def test_a_write_is_one_transaction_its_savepoints_included(store):
    # SQLite's driver issues no BEGIN before a SAVEPOINT, whose RELEASE would then commit on its own.
    with pytest.raises(RuntimeError), store.write() as s:
        with s.begin_nested():
            set_cursor(s, "x:mentions", "1")
        raise RuntimeError("refused after the savepoint")
    assert store.cursors() == {}


def test_concurrent_read_then_write_on_sqlite_queue_and_all_commit(sqlite_store):
    # Each reads, then writes what it read plus one: none is refused ("database is locked") and
    # none overwrites another's commit, because each takes the write lock before its first read.
    def bump() -> None:
        with sqlite_store.write(durable=False) as s:
            row = s.get(Cursor, "n")
            time.sleep(0.005)  # other writers arrive meanwhile
            set_cursor(s, "n", str(int(row.value if row and row.value else "0") + 1))

    with ThreadPoolExecutor(8) as pool:
        for future in [pool.submit(bump) for _ in range(16)]:
            future.result()
    assert sqlite_store.cursors() == {"n": "16"}


def test_a_separate_transaction_asked_for_inside_a_write_runs_after_it_and_survives_its_rollback(store):
    def audit() -> None:  # on SQLite, run at once it would wait for the write lock its caller holds
        with store.transaction() as own:
            set_cursor(own, "audit", "refused")

    with pytest.raises(RuntimeError), store.write() as s:
        set_cursor(s, "x:mentions", "1")
        own_transaction(s, audit)
        raise RuntimeError("refused")
    assert store.cursors() == {"audit": "refused"}
