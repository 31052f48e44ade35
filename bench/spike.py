"""A spike: N mentions from N authors arrive at once; how soon does Slack show what matters?

Against the emulators, with the Slack emulator enforcing its per-channel limit (1 post per second per
channel, answering 429 beyond it, as Slack does) and Parley pacing as in production. Seeds N
mentions (a share of them complaints, a few from large accounts), polls once (everything is already
there), runs the outbox worker, and prints:
- time until every complaint is visible: its own card, or an entry of a complaint roll-up (when
  more complaints wait than the pace can card within PARLEY_STORM_CARD_WITHIN), and how many got
  their own card by then; time until every high-reach case has its own card;
- time until every mention is visible in Slack (its own card, or an entry of a storm-mode roll-up),
  or how many were by `--budget` seconds and the projection at the measured rate; then the time
  until the spike's CSV is in the alert's thread (when the storm ends), with its row count;
- top-level messages posted (cards, roll-ups, the spike alert), 429s answered, and memory: Parley
  runs in its own (spawned) process, as deployed, so its peak RSS is Parley's alone; the
  emulators' process is printed beside it;
and beside them the floor, measured in the same run: a bare loop of tweepy (reading the mentions) +
one chat.postMessage per mention, against an unlimited Slack emulator, and what Slack's 1 msg/s
per channel allows any client at best.

The outbox worker runs from before the poll, as in production (woken as each batch commits).

    python -m bench.spike [--n 3000 | --mentions 10000] [--complaints 0.05] [--high 0.005] [--budget 400]
                          [--database-url …]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import tweepy
from slack_sdk import WebClient
from sqlmodel import col, select

from app import build
from bot import ids
from bot.cards.rollup import rollup_refs
from bot.settings import load_settings
from bot.store.models import Conversation, Customer
from bot.triage import LARGE_ACCOUNT
from connectors.x.transport import mount_base_url
from sandbox.emulators.slack_api import SlackEmulator
from sandbox.emulators.stack import EmulatorStack, free_port
from sandbox.emulators.x_api import XEmulator

CHANNEL = "C0SUPPORT"
COMPLAINT = "@acme you charged me twice and nobody answers, I want a refund now ({n})"
ROUTINE = "@acme nice dashboard, the new release looks good ({n})"


class CountingSlack(SlackEmulator):
    """The Slack emulator, counting the 429s its channel limit answers."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.rate_limited = 0
        limit = self.workspace.rate_limited

        def counted(channel):
            response = limit(channel)
            self.rate_limited += response is not None
            return response

        self.workspace.rate_limited = counted  # type: ignore[method-assign]


def seed(x: XEmulator, n: int, share: float, high: float = 0.0) -> int:
    """n mentions from n authors: every 1/share-th a complaint, every 1/high-th author a large account."""
    every = max(int(1 / share), 1) if share > 0 else 0
    large = max(int(1 / high), 1) if high > 0 else 0
    complaints = 0
    for i in range(n):
        followers = 50_000 + i if large and i % large == large // 2 else (i * 37) % 5000
        author = x.add_user(f"fan{i}", f"Fan {i}", followers=followers)
        is_complaint = every and i % every == every - 1
        complaints += bool(is_complaint)
        x.add_tweet(author, (COMPLAINT if is_complaint else ROUTINE).format(n=i))
    return complaints


def floor(n: int) -> float:
    """Posts per second of a bare tweepy + chat.postMessage loop, against an unlimited Slack emulator."""
    with XEmulator() as x, SlackEmulator() as slack:
        slack.add_channel("support", id=CHANNEL)
        seed(x, n, 0.05)
        client = tweepy.Client(bearer_token="bearer")
        mount_base_url(client.session, x.base_url)
        web = WebClient(token=SlackEmulator.TOKEN, base_url=slack.base_url + "/api/")
        started, posted, token = time.perf_counter(), 0, None
        while True:
            page = client.search_recent_tweets("@acme", max_results=100, next_token=token,
                                               tweet_fields=["author_id", "created_at"])
            for tweet in page.data or []:
                web.chat_postMessage(channel=CHANNEL, text=tweet.text)
                posted += 1
            token = page.meta.get("next_token")
            if not token:
                return posted / (time.perf_counter() - started)


@dataclass
class Seen:
    """What Slack shows of the spike at one moment."""

    carded: set[int] = field(default_factory=set)  # cases with their own card
    rolled: set[int] = field(default_factory=set)  # cases in a routine roll-up
    complaint_rolled: set[int] = field(default_factory=set)  # cases in a complaint roll-up
    rollups: int = 0
    top_level: int = 0

    @property
    def visible(self) -> set[int]:
        return self.carded | self.rolled | self.complaint_rolled


def seen(posts: list) -> Seen:
    out = Seen()
    for post in posts:
        out.top_level += not post.thread_ts
        key = (post.metadata or {}).get("event_payload", {}).get("key", "")
        if key.startswith("post_card:"):
            out.carded.add(int(key.split(":")[1]))
        title = next((b["text"]["text"] for b in post.blocks if b.get("block_id") == ids.BLOCK_ROLLUP_TITLE), None)
        if title is not None:
            out.rollups += 1
            (out.complaint_rolled if "Complaint storm" in title else out.rolled).update(rollup_refs(post.blocks))
    return out


@dataclass
class Times:
    ingested: float = 0.0
    complaints: float | None = None  # every complaint visible (own card or complaint roll-up)
    high: float | None = None  # every high-reach case has its own card
    visible: float | None = None
    csv: float | None = None
    csv_rows: int = 0


def watch(stack: EmulatorStack, cases: dict[int, tuple[bool, int]], started: float, budget: float,
          times: Times) -> None:
    """Poll what Slack shows until everything is visible and the spike's CSV is there, or `budget`."""
    complaints = {c for c, (complaint, _) in cases.items() if complaint}
    high = {c for c, (complaint, followers) in cases.items() if followers >= LARGE_ACCOUNT}
    while time.perf_counter() - started < budget:
        now, view = time.perf_counter() - started, seen(stack.slack.posts(CHANNEL))
        if times.complaints is None and complaints <= view.carded | view.complaint_rolled:
            times.complaints = now
        if times.high is None and high <= view.carded:
            times.high = now
        if times.visible is None and set(cases) <= view.visible:
            times.visible = now
        if times.csv is None and stack.slack.uploads:
            times.csv = now
            data = stack.slack.uploads[0].data or b""
            times.csv_rows = max(data.decode("utf-8-sig").count("\n") - 1, 0)
        if times.visible is not None and times.csv is not None:
            return
        time.sleep(0.25)


def rss_mb(field_name: str, pid: int | str = "self") -> float:
    """A process's current (VmRSS) or peak (VmHWM) resident memory, in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Memory:
    idle: float = 0.0  # Parley's process once built and polled once (nothing there yet)
    peak: float = 0.0  # its peak over the whole spike
    emulators: float = 0.0  # this process (emulators with the seeded mentions), for comparison


def parley_process(env: dict[str, str], pipe: Connection) -> None:
    """Parley alone in its own process, as deployed: built, polled once (a quiet new install: the
    stream's starting point), then on "go" the outbox worker starts and the spike is polled; the
    stored cases and the ingest time go back to the bench, and on "stop" the peak RSS."""
    parley = build(load_settings(_env_file=None, **{k.lower(): v for k, v in env.items() if v}))
    parley.poll_all()
    pipe.send(rss_mb("VmRSS"))
    pipe.recv()  # "go": the mentions are seeded
    stop = threading.Event()
    worker = threading.Thread(target=parley.outbox.run, args=(stop,), daemon=True)
    worker.start()
    started = time.perf_counter()
    parley.poll_all()
    ingested = time.perf_counter() - started
    with parley.store.transaction() as session:
        cases = {int(cid or 0): (bool(complaint), followers or 0) for cid, complaint, followers in session.exec(
            select(Conversation.id, Conversation.complaint, Customer.followers)
            .join(Customer, col(Customer.id) == col(Conversation.customer_id))).all()}
    pipe.send((ingested, cases))
    pipe.recv()  # "stop"
    stop.set()
    parley.outbox.wake()
    worker.join(timeout=30)
    parley.stop()
    pipe.send(rss_mb("VmHWM"))


def run(args: argparse.Namespace, url: str, stack: EmulatorStack, times: Times,
        memory: Memory) -> tuple[dict[int, tuple[bool, int]], int]:
    """The spike against Parley: its cases (id -> (complaint, followers)) and the complaints seeded.
    Parley runs in a fresh (spawned) process so its memory is its own, not the emulators'."""
    env = stack.environment(database_url=url, channel=CHANNEL, port=free_port())
    env |= {"FACEBOOK_PAGE_ID": "", "FACEBOOK_PAGE_TOKEN": "", "INSTAGRAM_ACCOUNT_ID": ""}  # X only
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    child = multiprocessing.get_context("spawn").Process(target=parley_process, args=(env, theirs), daemon=True)
    child.start()
    try:
        memory.idle = ours.recv()
        complaints = seed(stack.x, args.n, args.complaints, args.high)
        started = time.perf_counter()
        ours.send("go")
        times.ingested, cases = ours.recv()
        try:
            watch(stack, cases, started, args.budget, times)
        finally:
            ours.send("stop")
            memory.peak = ours.recv()
    finally:
        child.join(timeout=60)
    memory.emulators = rss_mb("VmHWM")
    return cases, complaints


def _at(value: float | None, budget: float) -> str:
    return f"{value:.1f}s" if value is not None else f"not within {budget:.0f}s"


def report(args: argparse.Namespace, url: str, slack: CountingSlack, cases: dict, complaints: int, times: Times,
           memory: Memory, bare: float) -> None:
    view = seen(slack.posts(CHANNEL))
    wanted = {c for c, (complaint, _) in cases.items() if complaint}
    high = sum(1 for _, followers in cases.values() if followers >= LARGE_ACCOUNT)
    print(f"database: {url.split(':')[0]}; {args.n} mentions, {complaints} complaints, {high} from large accounts "
          f"({len(cases)} cases stored)")
    print(f"ingest (one poll): {times.ingested:.1f}s = {args.n / times.ingested:.0f} mentions/s")
    print(f"every complaint visible (own card or complaint roll-up) after: {_at(times.complaints, args.budget)}; "
          f"{len(view.carded & wanted)} with their own card, {len(view.complaint_rolled & wanted)} in complaint "
          f"roll-ups   (floor for a card each at Slack's 1 msg/s per channel: {complaints}s)")
    print(f"every large-account case has its own card after: {_at(times.high, args.budget)}")
    visible = len(view.visible & set(cases))
    if times.visible is not None:
        print(f"every mention visible in Slack after: {times.visible:.1f}s   ({len(view.carded)} own cards, "
              f"{len(view.rolled | view.complaint_rolled)} in {view.rollups} roll-ups)")
    else:
        rate = visible / args.budget
        print(f"visible in Slack after {args.budget:.0f}s: {visible} of {len(cases)}; at {rate:.2f}/s all would take "
              f"{len(cases) / rate if rate else float('inf'):.0f}s")
    print(f"CSV of the whole spike in the alert's thread after: {_at(times.csv, args.budget)} ({times.csv_rows} rows)")
    print(f"top-level messages posted: {view.top_level}; HTTP 429s: {slack.rate_limited}")
    print(f"Parley's own process: peak RSS {memory.peak:.0f} MB (built and idle: {memory.idle:.0f} MB); "
          f"the emulators' process, for comparison: {memory.emulators:.0f} MB")
    print(f"bare tweepy + chat.postMessage loop, no pacing: {bare:.0f} posts/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", "--mentions", type=int, default=3000, dest="n")
    parser.add_argument("--complaints", type=float, default=0.05, help="share of the mentions that are complaints")
    parser.add_argument("--high", type=float, default=0.005, help="share of the authors with a large account")
    parser.add_argument("--budget", type=float, default=400.0, help="seconds to watch Slack before projecting")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    bare = floor(min(args.n, 1000))
    slack = CountingSlack(channel_rate_limit=(1, 1.0))
    times, memory = Times(), Memory()
    with tempfile.TemporaryDirectory() as tmp, EmulatorStack(slack=slack) as stack:
        stack.slack.add_channel("support", id=CHANNEL)
        url = args.database_url or f"sqlite:///{Path(tmp) / 'spike.db'}"
        cases, complaints = run(args, url, stack, times, memory)
        report(args, url, slack, cases, complaints, times, memory, bare)


if __name__ == "__main__":
    main()
