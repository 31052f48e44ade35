"""Throughput of the ingest → Slack path against the local emulators.

Seeds N X mentions (each its own conversation) and M follow-ups, then times: one poll that stores
them all (tweepy paging + triage + rows + outbox, per transaction batch), and the outbox draining
them to the Slack emulator with pacing off (the worker's pace set to 0 after start-up:
PARLEY_SLACK_MIN_INTERVAL's floor is 1 ms, a guard for production). Runs once per
`--database-url` (SQLite in a temporary file when none is given; `--postgres` adds a fresh database
on the server PARLEY_TEST_POSTGRES_URL names, drained by 1, 2 and 3 replica processes sharing it),
and prints each beside the floor measured in the same run: a bare loop of tweepy (reading the same
mentions) + one chat.postMessage per mention. The language model is loaded before the clock starts
(a process loads it once). Prints numbers, and duplicates seen in Slack; asserts nothing.

    python bench/pipeline.py [--mentions 400] [--database-url sqlite:///…|postgresql://…]… [--postgres]
                             [--replicas 1,2,3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
import tweepy
from slack_sdk import WebClient
from sqlmodel import func, select

from app import build
from bench import cpu_share
from bot.delivery.slack import key_of
from bot.settings import load_settings
from bot.store.database import make_engine
from bot.store.models import Message, OutboxItem, OutboxStatus
from bot.triage import classify
from connectors.x.transport import mount_base_url
from sandbox.emulators.slack_api import SlackEmulator
from sandbox.emulators.stack import EmulatorStack, free_port
from sandbox.emulators.x_api import XEmulator

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=400)
    parser.add_argument("--followups", type=int, default=100)
    parser.add_argument("--database-url", action="append", default=[])
    parser.add_argument("--postgres", action="store_true",
                        help="also run on a fresh database on the server PARLEY_TEST_POSTGRES_URL names")
    parser.add_argument("--replicas", default="1,2,3", help="replica counts to drain PostgreSQL with")
    parser.add_argument("--replica-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replica_worker:
        replica_worker()
        return
    classify("warm up the language model", followers=0, verified=False, lang_hint=None)
    with tempfile.TemporaryDirectory() as tmp:
        for url in args.database_url or [f"sqlite:///{Path(tmp) / 'bench.db'}"]:
            beside_floor(lambda url=url: run(url, args, replicas=0), args.mentions)
        if args.postgres:
            for replicas in (int(n) for n in args.replicas.split(",")):
                with fresh_postgres() as url:
                    beside_floor(lambda url=url, n=replicas: run(url, args, replicas=n), args.mentions)


@dataclass
class Result:
    label: str
    total: int
    stored: int
    polled: float  # seconds
    sent: int
    posts: int
    updates: int
    drained: float  # seconds
    left: int
    duplicates: int
    note: str  # where the CPU went (replica runs)


def beside_floor(measure: Callable[[], Result], mentions: int) -> None:
    """Run `measure` between two floor runs: on a shared machine the load drifts, so each result is
    compared with the mean of the floors measured just before and just after it."""
    before = bare_loop(mentions)
    r = measure()
    after = bare_loop(mentions)
    floor = (before + after) / 2
    print(f"{r.label} — floor (bare tweepy + chat.postMessage loop): {before:.0f} before, {after:.0f} after, "
          f"mean {floor:.0f} mentions/s")
    print(f"  poll + store: {r.stored} of {r.total} messages in {r.polled:.2f}s = {r.total / r.polled:.0f} msg/s "
          f"(tweepy paging, triage, rows, outbox rows) = {r.total / r.polled / floor:.2f}x the bare loop")
    print(f"  outbox → Slack emulator: {r.sent} deliveries ({r.posts} posts, {r.updates} card updates) "
          f"in {r.drained:.2f}s = {r.sent / r.drained:.0f}/s = {r.sent / r.drained / floor:.2f}x the bare loop, "
          f"{r.left} left undelivered, {r.duplicates} duplicate posts (pacing off; production paces 1/s per channel)")
    if r.note:
        print(r.note)
    both = r.total / (r.polled + r.drained)
    print(f"  end to end: {both:.0f} mentions/s = {both / floor:.2f}x the bare loop", flush=True)


class fresh_postgres:
    """A new database on the test server, dropped afterwards."""

    def __enter__(self) -> str:
        self.admin = make_engine(os.environ["PARLEY_TEST_POSTGRES_URL"]).execution_options(isolation_level="AUTOCOMMIT")
        self.name = f"parley_bench_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        return self.admin.url.set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *exc: object) -> None:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def bare_loop(n: int) -> float:
    """Mentions per second of tweepy reading them + one chat.postMessage each, nothing stored."""
    with XEmulator() as x, SlackEmulator() as slack:
        slack.add_channel("support", id="C0SUPPORT")
        for i in range(n):
            x.add_tweet(x.add_user(f"bare{i}", f"Bare {i}"), f"@acme order {i} is late and support is not answering")
        client = tweepy.Client(bearer_token="bearer")
        mount_base_url(client.session, x.base_url)
        web = WebClient(token=SlackEmulator.TOKEN, base_url=slack.base_url + "/api/")
        started, posted, token = time.perf_counter(), 0, None
        while True:
            page = client.search_recent_tweets("@acme", max_results=100, next_token=token,
                                               tweet_fields=["author_id", "created_at"])
            for tweet in page.data or []:
                web.chat_postMessage(channel="C0SUPPORT", text=tweet.text)
                posted += 1
            token = page.meta.get("next_token")
            if not token:
                return posted / (time.perf_counter() - started)


def settings_env(stack: EmulatorStack, url: str) -> dict[str, str]:
    env = stack.environment(database_url=url, channel="C0SUPPORT", port=free_port())
    env |= {"PARLEY_SLACK_MIN_INTERVAL": "1ms", "FACEBOOK_PAGE_ID": "", "FACEBOOK_PAGE_TOKEN": "",
            "INSTAGRAM_ACCOUNT_ID": ""}
    return {k.lower(): v for k, v in env.items() if v}


def run(url: str, args: argparse.Namespace, *, replicas: int) -> Result:
    with EmulatorStack() as stack:
        stack.slack.add_channel("support", id="C0SUPPORT")
        env = settings_env(stack, url)
        parley = build(load_settings(_env_file=None, **env))
        pacing_off(parley)
        roots = []
        for i in range(args.mentions):
            user = stack.x.add_user(f"bench{i}", f"Bench {i}", followers=i * 37)
            roots.append((user, stack.x.add_tweet(user, f"@acme order {i} is late and support is not answering")))
        for user, root in roots[: args.followups]:
            stack.x.add_tweet(user, "any news? still waiting", in_reply_to=root)

        started = time.perf_counter()
        parley.poll_all()
        polled = time.perf_counter() - started
        with parley.store.transaction() as session:
            stored = session.exec(select(func.count()).select_from(Message)).one()
        if replicas:
            parley.stop()
            sent, drained, note = drain_with_replicas(env, replicas)
        else:
            (sent, drained), note = drain_here(parley), ""
            parley.stop()
        left = _left(parley)
        posts = stack.slack.posts()
        keys = Counter(key_of({"metadata": p.metadata}) for p in posts)
        updates = len(stack.slack.calls_to(r"chat\.update$"))
    label = f"database: {url.split(':')[0]}" + (f", {replicas} replica process(es) delivering" if replicas else "")
    return Result(label, args.mentions + args.followups, stored, polled, sent, len(posts), updates, drained, left,
                  sum(n - 1 for n in keys.values()), note)


def pacing_off(parley) -> None:  # type: ignore[no-untyped-def]
    """No wait between posts: the bench measures the cost per item, not Slack's pace."""
    parley.outbox._min_interval = timedelta(0)


def drain_here(parley) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    sent, idle_rounds = 0, 0
    while idle_rounds < 50:  # stop when all is sent (or nothing moves for a while)
        n = parley.outbox.drain()
        sent += n
        if not n and not _left(parley):
            break
        idle_rounds = 0 if n else idle_rounds + 1
    return sent, time.perf_counter() - started


def _left(parley) -> int:  # type: ignore[no-untyped-def]
    with parley.store.transaction() as session:
        return session.exec(select(func.count()).select_from(OutboxItem)
                            .where(OutboxItem.status != OutboxStatus.SENT)).one()


def drain_with_replicas(env: dict[str, str], replicas: int) -> tuple[int, float, str]:
    """Start `replicas` processes that each drain the shared outbox; time them from a common start,
    and say where the CPU went meanwhile (bench/cpu_share.py)."""
    procs = [subprocess.Popen([sys.executable, __file__, "--replica-worker"], cwd=ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=os.environ | {"PYTHONPATH": str(ROOT)})
             for _ in range(replicas)]
    for proc in procs:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(env) + "\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "ready"
    meter = cpu_share.Meter(env["database_url"])
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    reports = [json.loads(proc.stdout.readline()) for proc in procs if proc.stdout is not None]
    share = meter.stop(reports)
    for proc in procs:
        proc.communicate("exit\n")
    return share.items, share.wall, share.line()


def replica_worker() -> None:
    """One replica: build the app from the settings on stdin, drain when told, report what it sent
    (and its CPU and SQL time) as JSON, stop when told. Its first drain does not take over SENDING
    items (they belong to the other replicas)."""
    env = json.loads(sys.stdin.readline())
    parley = build(load_settings(_env_file=None, **env))
    pacing_off(parley)
    parley.outbox._recovering = False  # several replicas start at once and none crashed: nothing to recover
    sql = cpu_share.SqlClock(parley.store.engine)
    print("ready", flush=True)
    sys.stdin.readline()
    cpu, sent, idle_rounds = time.process_time(), 0, 0
    while idle_rounds < 400:
        n = parley.outbox.drain()
        sent += n
        if not n:
            if not _left(parley):
                break
            idle_rounds += 1  # others hold the rest (or the cards its thread items wait for): look again soon
            time.sleep(0.005)
    print(json.dumps({"sent": sent, "cpu": time.process_time() - cpu, "sql": sql.seconds, "idle": idle_rounds}),
          flush=True)
    sys.stdin.readline()
    parley.stop()


if __name__ == "__main__":
    main()
