"""Large stores stay fast: N stored conversations (default 1 000 000) and the operations staff and the
scheduler run against them, timed through Parley's own code paths.

Per database (SQLite in a temporary file; `--postgres` adds a fresh database on the server
PARLEY_TEST_POSTGRES_URL names): the schema is migrated to 0007, N conversations are seeded in bulk
(bench/large_store_seed.py; the time is printed, it is not a target), then upgraded to head — so
revisions 0009 and 0011 index an existing store and 0010 measures its stored first-response and
resolution times, and that time is printed too. A fresh process then times
each operation `--repeat` times after one warm-up call (shown as "first"), with the start-up objects
frozen out of the cyclic collector as `Parley.serve` does (gc.freeze), and reports p50/p95 beside
a floor measured in the same process (SELECT 1 through a Store transaction), and its peak RSS:

- reminder tick   `ReminderTick.run(now)` (its first call claims and queues what is due)
- queue, mine, find, customer   the `/social` handlers in commands/lookup.py, with a stub respond
- stats 30d       what `/social stats 30d` shows: `figures` + the `stats` card (the charts follow in
                  the person's DM from a child process, after the answer: not timed here)
- App Home        `build_home` (commands/home.py)

    python bench/large_store.py [--conversations 1000000] [--days 1460] [--repeat 20] [--postgres]
           [--no-sqlite] [--keep DIR]

Prints numbers; asserts nothing. Seeding 1M takes several minutes per database.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa

import commands.lookup as lookup
from bench.large_store_seed import seed
from bot.cards import stats
from bot.reports.figures import figures, parse_period
from bot.reports.service_level import ServiceLevel
from bot.schedule.reminders import ReminderTick
from bot.sla.policy import SlaConfig
from bot.store.database import Store, make_engine, upgrade
from bot.store.models import Customer
from commands.home import build_home
from commands.social import Invocation

FIND_QUERIES = ["refund", "refund late", "damaged package", "zorblex", "devolución", "tracking delivered",
                "vexpad crashes", "#A12345", "nobody answered yesterday", "garcía", "kelmax", "cancel"]
TARGET_MS = 100.0


def _seed_child(url: str, total: int, days: int, now: datetime) -> None:
    engine = make_engine(url)
    upgrade(engine, "0007")
    started = time.perf_counter()
    seed(engine, total, now, days)
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    upgrade(engine)  # 0009-0011: search and report indexes, stored times, over the rows already stored
    # What autovacuum does to a store soon after a bulk load on PostgreSQL (statistics, and the visibility
    # map index-only scans need); SQLite has no visibility map: ANALYZE only.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    print(f"  seeded {total:,} conversations in {seeded:.0f} s; upgrade to head (indexing them) "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    engine.dispose()


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, list[float]]:
    started = time.perf_counter()
    fn()
    first = (time.perf_counter() - started) * 1000
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return first, samples


def _operations(url: str, now: datetime) -> dict[str, Callable[[], object]]:
    store = Store.from_url(url, migrate=False)
    service_level = ServiceLevel.of(SlaConfig())
    parley = SimpleNamespace(store=store, service_level=service_level, sender=SimpleNamespace(clock=lambda: now),
                             connectors=[], doctor=None)
    shown: list[dict] = []
    tick = ReminderTick(store, service_level)
    with store.transaction() as session:  # repeat customers (low ids write most) and a one-off
        handles = [session.get(Customer, i).handle for i in (1, 2, 3, 10, 100, 1000)]  # type: ignore[union-attr]
    counter = {"find": 0, "customer": 0}

    def ask(handler: Callable, args: str, user: str = "U0AGENT3", key: str = "") -> Callable[[], object]:
        def run() -> object:
            text = args
            if key:
                pool = FIND_QUERIES if key == "find" else [f"@{h}" for h in handles]
                text = pool[counter[key] % len(pool)]
                counter[key] += 1
            return handler(parley, Invocation(user, "C0SUPPORT", text), lambda **kw: shown.append(kw))
        return run

    def stats_30d() -> object:
        period = parse_period("30d", now)
        with store.transaction() as session:
            report = figures(session, period, service_level, now)
        return stats(report, now=now, spend=()).payload()

    def floor() -> object:
        with store.transaction() as session:
            return session.execute(sa.text("SELECT 1")).scalar()

    return {"floor (SELECT 1)": floor, "reminder tick": lambda: tick.run(now),
            "/social queue": ask(lookup.queue, ""), "/social mine": ask(lookup.mine, ""),
            "/social find": ask(lookup.find, "", key="find"),
            "/social customer": ask(lookup.customer, "", key="customer"),
            "/social stats 30d": stats_30d, "App Home": lambda: build_home(parley, "U0AGENT3", now)}  # type: ignore[arg-type]


def _time_child(url: str, now: datetime, repeat: int, results: multiprocessing.Queue) -> None:
    operations = _operations(url, now)
    gc.freeze()  # as `Parley.serve` does after start-up: what lives as long as the process is not re-walked
    imported = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {}
    for name, fn in operations.items():
        first, samples = _timed(fn, repeat)
        ordered = sorted(samples)
        out[name] = (first, statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results.put((out, imported, peak))


def run(url: str, label: str, args: argparse.Namespace) -> None:
    spawn = multiprocessing.get_context("spawn")
    now = datetime.now(UTC)
    if not args.store:
        print(f"{label}: seeding {args.conversations:,} conversations over {args.days} days …", flush=True)
        seeder = spawn.Process(target=_seed_child, args=(url, args.conversations, args.days, now))
        seeder.start()
        seeder.join()
        if seeder.exitcode != 0:
            raise SystemExit(f"seeding {label} failed")
    results: multiprocessing.Queue = spawn.Queue()
    timer = spawn.Process(target=_time_child, args=(url, now, args.repeat, results))
    timer.start()
    out, imported, peak = results.get()
    timer.join()
    with Store.from_url(url, migrate=False).engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM conversations")).scalar_one()
    print(f"\n{label}, {stored:,} conversations, {args.repeat} calls each after one warm-up:")
    print(f"  {'operation':<20} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8}  target p95 < {TARGET_MS:.0f} ms")
    for name, (first, p50, p95) in out.items():
        verdict = "" if name.startswith("floor") else ("ok" if p95 < TARGET_MS else "OVER")
        print(f"  {name:<20} {first:9.1f} {p50:8.1f} {p95:8.1f}  {verdict}")
    print(f"  peak RSS {peak:.0f} MB (after imports and opening the store: {imported:.0f} MB)\n",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=1460, help="how far back the store goes")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--keep", help="put the SQLite file here and keep it (and keep the PostgreSQL database)")
    parser.add_argument("--store", action="append", default=[],
                        help="time an already seeded database URL instead (repeatable; seeding skipped)")
    args = parser.parse_args()
    for url in args.store:
        run(url, url.split(":", 1)[0], args)
    if args.store:
        return
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            run(f"sqlite:///{Path(args.keep or tmp) / f'large-{uuid.uuid4().hex[:6]}.db'}", "SQLite", args)
        if args.postgres:
            admin = make_engine(os.environ["PARLEY_TEST_POSTGRES_URL"]).execution_options(isolation_level="AUTOCOMMIT")
            name = f"parley_large_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            try:
                run(admin.url.set(database=name).render_as_string(hide_password=False), "PostgreSQL", args)
            finally:
                if not args.keep:
                    with admin.connect() as conn:
                        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
