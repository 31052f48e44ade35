"""Where the CPU went while replicas drained the outbox (bench/pipeline.py): the replica processes,
the bench process (it hosts the Slack and X emulators), and the PostgreSQL backends serving the
bench database — beside what the machine's cores could give in that time. On a 2-core machine the
replicas, the emulator and PostgreSQL compete for the same cores, so adding a replica adds work
without adding capacity; these numbers show how close to that ceiling a run was.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import sqlalchemy as sa

from bot.store.database import make_engine

_TICK = os.sysconf("SC_CLK_TCK")


def backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the bench database (the server runs
    on this machine: read from /proc; a backend already gone counts as 0)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            pids = [row[0] for row in conn.execute(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"))]
    finally:
        engine.dispose()
    return {pid: _proc_cpu(pid) for pid in pids}


def _proc_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


@dataclass
class Share:
    wall: float
    replicas: float  # CPU seconds of the replica processes while draining
    in_sql: float  # seconds the replicas waited in SQL statements (wall, summed over threads)
    bench: float  # CPU seconds of this process (the emulators)
    database: float  # CPU seconds of the PostgreSQL backends of the bench database
    items: int
    idle: int  # drains that found nothing due (the rest held by other replicas)

    def line(self) -> str:
        cores = os.cpu_count() or 1
        used = self.replicas + self.bench + self.database
        per = 1000 / max(self.items, 1)
        return (f"  CPU while draining ({cores} cores x {self.wall:.2f}s = {cores * self.wall:.2f} core-s): "
                f"replicas {self.replicas:.2f}s ({self.replicas * per:.2f} ms/item), PostgreSQL backends "
                f"{self.database:.2f}s ({self.database * per:.2f} ms/item), emulators {self.bench:.2f}s; "
                f"{used / (cores * self.wall):.0%} of the machine; replicas waited {self.in_sql:.2f}s in SQL, "
                f"{self.idle} drains found nothing due")


class Meter:
    """Started when the replicas are told to go, stopped when the last one reports."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.backends = backend_cpu(url)
        self.started, self.cpu = time.perf_counter(), time.process_time()

    def stop(self, reports: list[dict[str, float]]) -> Share:
        wall, cpu = time.perf_counter() - self.started, time.process_time() - self.cpu
        after = backend_cpu(self.url)
        database = sum(after[pid] - self.backends.get(pid, 0.0) for pid in after)
        return Share(wall, sum(r["cpu"] for r in reports), sum(r["sql"] for r in reports), cpu, database,
                     int(sum(r["sent"] for r in reports)), int(sum(r["idle"] for r in reports)))


class SqlClock:
    """Seconds spent in SQL statements on an engine, over all its connections (a replica's lanes)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.seconds = 0.0
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, params, context, executemany) -> None:  # type: ignore[no-untyped-def]
        conn.info["sql_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, params, context, executemany) -> None:  # type: ignore[no-untyped-def]
        self.seconds += time.perf_counter() - conn.info.pop("sql_started", time.perf_counter())
