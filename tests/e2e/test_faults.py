"""Faults an unlucky operator meets, against the real app and the emulators (issue 9): the disk full
(a 2 MB tmpfs), the database file read-only (the tmpfs remounted read-only), and PostgreSQL stopped
and started while mentions arrive (a throwaway cluster of our own, not the shared test server).

Asserted: while the fault lasts `/readyz` is 503 and `/social note` gets an answer; afterwards
`/readyz` is 200, every mention is stored exactly once and carded exactly once, and nothing at all
was written to X or Facebook.

tmpfs needs root (CI runs as root, so these run there); elsewhere they are skipped with that reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlmodel import select

from bot.store.database import make_engine, upgrade
from bot.store.models import Message
from sandbox.emulators.stack import EmulatorStack, free_port
from tests.e2e.conftest import CHANNEL, run_until, undelivered
from tests.e2e.slack_requests import SlackSession, serve  # noqa: F401  (serve is a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


# --- the faults ----------------------------------------------------------------------------------
def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=60)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs of our own (needs root: CI runs as root)."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs for the disk-full and read-only cases needs root (CI runs as root)")
    try:
        _run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount))
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"mount -t tmpfs is not permitted here: {exc.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False, capture_output=True, timeout=60)


def fill(directory: Path) -> Path:
    """Fill the filesystem holding `directory` to the last byte; the filler file is returned."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while out.write(b"\0" * 4096):
                pass
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


@dataclass
class OwnPostgres:
    """A throwaway PostgreSQL cluster on a free port, stopped and started at will."""

    binary: Path
    home: Path
    runner: list[str]
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        _run(*self.runner, str(self.binary / "pg_ctl"), "-D", str(self.home / "data"), *args)

    def start(self) -> None:
        self._ctl("-l", str(self.home / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop")


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    """Our own cluster (initdb as the postgres user when root, as scripts/test.sh does): stopping
    the shared test server would break every other test running against it."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                  key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()])
    if not bins:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL fault case: no /usr/lib/postgresql/*/bin")
        pytest.skip("no PostgreSQL binaries in /usr/lib/postgresql/*/bin")
    home = Path(tempfile.mkdtemp(prefix="parley-fault-pg."))
    runner: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(home, "postgres")
        runner = ["runuser", "-u", "postgres", "--"]
    cluster = OwnPostgres(bins[-1], home, runner)
    _run(*runner, str(cluster.binary / "initdb"), "-D", str(home / "data"), "-A", "trust", "-U", "postgres")
    cluster.start()
    engine = make_engine(cluster.url)
    upgrade(engine)
    engine.dispose()
    yield cluster
    with contextlib.suppress(subprocess.CalledProcessError):
        cluster.stop("immediate")
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Each test here names its own database (on a tmpfs, or its own cluster); this one is unused."""
    return f"sqlite:///{tmp_path / 'unused.db'}"


# --- the scenario ----------------------------------------------------------------------------------
def mention(stack: EmulatorStack, n: int) -> str:
    user = next((uid for uid, u in stack.x.users.items() if u.username == "faulty"), None)
    user = user or stack.x.add_user("faulty", "Fay Ulty")
    stack.x.add_tweet(user, f"@acme [fault-{n}] where is my order?")
    return f"[fault-{n}]"


def ready(session: SlackSession) -> int:
    return requests.get(f"{session.base_url}/readyz", timeout=10).status_code


def try_poll(session: SlackSession) -> None:
    """One poll and drain while the database fails: either may raise, nothing may be lost."""
    for job in (session.parley.poll_all, session.parley.outbox.drain):
        with contextlib.suppress(Exception):
            job()


def stored(session: SlackSession) -> list[str]:
    with session.parley.store.transaction() as db:
        return [m for t in db.exec(select(Message.text)).all() for m in re.findall(r"\[fault-\d+\]", t)]


def cards(stack: EmulatorStack) -> list[str]:
    return [p.text + str(p.blocks) for p in stack.slack.posts(CHANNEL) if p.thread_ts is None]


def assert_recovered(stack: EmulatorStack, session: SlackSession, markers: list[str]) -> None:
    """After the fault: ready, every mention stored once and carded once, nothing sent anywhere."""
    run_until(session.parley, lambda: len(stored(session)) >= len(markers) and undelivered(session.parley) == 0
              and sum(any(m in c for c in cards(stack)) for m in markers) == len(markers), timeout=60)
    session.parley.poll_all()
    session.parley.outbox.drain()
    assert ready(session) == 200
    assert sorted(stored(session)) == sorted(markers)
    for marker in markers:
        assert sum(marker in card for card in cards(stack)) == 1, marker
    assert [c for c in (*stack.x.calls, *stack.graph.calls) if c.method != "GET"] == []


def note_answered(session: SlackSession, ref: int = 1) -> bool:
    before = len(session.receiver.calls_to("/respond"))
    assert session.command(f"note #{ref} customer called while the database was down").status_code == 200
    with contextlib.suppress(AssertionError):
        session.responses(before + 1, timeout=5)
        return True
    return False


@contextlib.contextmanager
def sqlite_fault(kind: str, tmpfs: Path, session: SlackSession) -> Iterator[None]:
    """The disk full, or the filesystem read-only, until the block ends."""
    if kind == "disk_full":
        filler = fill(tmpfs)
        yield
        filler.unlink()
        return
    session.parley.store.engine.dispose()  # a filesystem with files open for writing cannot go read-only
    _run("mount", "-o", "remount,ro", str(tmpfs))
    yield
    _run("mount", "-o", "remount,rw", str(tmpfs))


def start_on_tmpfs(serve, tmpfs: Path) -> SlackSession:  # noqa: F811
    url = f"sqlite:///{tmpfs / 'parley.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return serve(DATABASE_URL=url)


# --- the tests -------------------------------------------------------------------------------------
@pytest.fixture(params=["disk_full", "read_only"])
def sqlite_kind(request: pytest.FixtureRequest) -> str:
    return request.param


def test_sqlite_fault_loses_nothing_and_readyz_tells(stack, serve, tmpfs, sqlite_kind):  # noqa: F811
    session = start_on_tmpfs(serve, tmpfs)
    markers = [mention(stack, 1)]
    run_until(session.parley, lambda: len(cards(stack)) == 1)
    assert ready(session) == 200

    with sqlite_fault(sqlite_kind, tmpfs, session):
        markers += [mention(stack, n) for n in (2, 3)]
        try_poll(session)
        try_poll(session)
        assert ready(session) == 503

    assert_recovered(stack, session, markers)


def test_sqlite_fault_note_gets_an_answer(stack, serve, tmpfs, sqlite_kind):  # noqa: F811
    session = start_on_tmpfs(serve, tmpfs)
    mention(stack, 1)
    run_until(session.parley, lambda: len(cards(stack)) == 1)
    with sqlite_fault(sqlite_kind, tmpfs, session):
        answered = note_answered(session)
    assert answered


def test_postgres_stopped_and_started_loses_nothing_and_readyz_tells(stack, serve, own_postgres):  # noqa: F811
    session = serve(DATABASE_URL=own_postgres.url)
    markers = [mention(stack, 1)]
    run_until(session.parley, lambda: len(cards(stack)) == 1)
    assert ready(session) == 200

    own_postgres.stop()
    try:
        markers += [mention(stack, n) for n in (2, 3)]
        try_poll(session)
        try_poll(session)
        assert ready(session) == 503
    finally:
        own_postgres.start()

    assert_recovered(stack, session, markers)


def test_postgres_stopped_note_gets_an_answer(stack, serve, own_postgres):  # noqa: F811
    session = serve(DATABASE_URL=own_postgres.url)
    mention(stack, 1)
    run_until(session.parley, lambda: len(cards(stack)) == 1)
    own_postgres.stop()
    try:
        answered = note_answered(session)
    finally:
        own_postgres.start()
    assert answered
