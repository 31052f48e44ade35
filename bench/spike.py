"""A spike: N mentions from N authors arrive at once; how soon does Slack show what matters?

Against the emulators, with the Slack emulator enforcing its per-channel limit (1 post per second per
channel, answering 429 beyond it, as Slack does) and Parley pacing as in production. Seeds N
mentions (a share of them complaints), polls once (everything is already there), runs the outbox
worker, and prints:
- time until every complaint has its own card;
- time until every mention is visible in Slack (its own card, or an entry of a storm-mode roll-up),
  or how many were by `--budget` seconds and the projection at the measured rate;
- top-level messages posted (cards, roll-ups, the spike alert), 429s answered, peak RSS of this
  process (which also hosts the emulators);
and beside them the floor, measured in the same run: a bare loop of tweepy (reading the mentions) +
one chat.postMessage per mention, against an unlimited Slack emulator, and what Slack's 1 msg/s
per channel allows any client at best.

The outbox worker runs from before the poll, as in production (woken as each batch commits).

    python -m bench.spike [--n 3000] [--complaints 0.05] [--budget 400] [--database-url …]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time
from pathlib import Path

import tweepy
from slack_sdk import WebClient
from sqlmodel import select

from app import build
from bot import ids
from bot.settings import load_settings
from bot.store.models import Conversation
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


def seed(x: XEmulator, n: int, share: float) -> int:
    every = max(int(1 / share), 1) if share > 0 else 0
    complaints = 0
    for i in range(n):
        author = x.add_user(f"fan{i}", f"Fan {i}", followers=(i * 37) % 5000)
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


def visible_in(posts: list) -> tuple[set[int], set[int]]:
    """(cases with their own card, cases shown in a roll-up) among these posts."""
    carded, rolled = set(), set()
    for post in posts:
        key = (post.metadata or {}).get("event_payload", {}).get("key", "")
        if key.startswith("post_card:"):
            carded.add(int(key.split(":")[1]))
        rolled.update(int(b["accessory"]["value"]) for b in post.blocks
                      if b.get("accessory", {}).get("action_id") == ids.ACTION_OPEN_AS_CARD)
    return carded, rolled


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--complaints", type=float, default=0.05, help="share of the mentions that are complaints")
    parser.add_argument("--budget", type=float, default=400.0, help="seconds to watch Slack before projecting")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    bare = floor(min(args.n, 1000))
    slack = CountingSlack(channel_rate_limit=(1, 1.0))
    with tempfile.TemporaryDirectory() as tmp, EmulatorStack(slack=slack) as stack:
        stack.slack.add_channel("support", id=CHANNEL)
        url = args.database_url or f"sqlite:///{Path(tmp) / 'spike.db'}"
        env = stack.environment(database_url=url, channel=CHANNEL, port=free_port())
        env |= {"FACEBOOK_PAGE_ID": "", "FACEBOOK_PAGE_TOKEN": "", "INSTAGRAM_ACCOUNT_ID": ""}  # X only
        parley = build(load_settings(_env_file=None, **{k.lower(): v for k, v in env.items() if v}))
        parley.poll_all()  # a quiet new install: the stream's starting point
        complaints = seed(stack.x, args.n, args.complaints)

        stop = threading.Event()
        worker = threading.Thread(target=parley.outbox.run, args=(stop,), daemon=True)
        worker.start()
        started = time.perf_counter()
        parley.poll_all()
        ingested = time.perf_counter() - started
        with parley.store.transaction() as session:
            cases = dict(session.exec(select(Conversation.id, Conversation.complaint)).all())
        wanted = {c for c, complaint in cases.items() if complaint}
        complaints_at = None
        while time.perf_counter() - started < args.budget:
            carded, rolled = visible_in(stack.slack.posts(CHANNEL))
            if complaints_at is None and wanted <= carded:
                complaints_at = time.perf_counter() - started
            if set(cases) <= carded | rolled:
                break
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        stop.set()
        parley.outbox.wake()
        worker.join(timeout=30)
        posts = stack.slack.posts(CHANNEL)
        carded, rolled = visible_in(posts)
        visible, complaints_shown = len((carded | rolled) & set(cases)), len(carded & wanted)
        top_level = sum(1 for p in posts if not p.thread_ts)
        rollups = sum(1 for p in posts if any(b.get("block_id") == ids.BLOCK_ROLLUP_TITLE for b in p.blocks))
        parley.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = visible / elapsed if elapsed else 0.0
    print(f"database: {url.split(':')[0]}; {args.n} mentions, {complaints} complaints ({len(cases)} cases stored)")
    print(f"ingest (one poll): {ingested:.1f}s = {args.n / ingested:.0f} mentions/s")
    print("every complaint has its own card after: "
          + (f"{complaints_at:.1f}s" if complaints_at is not None else f"not within {args.budget:.0f}s")
          + f"   (floor at Slack's 1 msg/s per channel: {complaints}s); {complaints_shown} of {complaints} by then")
    if visible == len(cases):
        print(f"every mention visible in Slack after: {elapsed:.1f}s   ({len(carded)} own cards, {len(rolled)} in "
              f"{rollups} roll-ups)")
    else:
        print(f"visible in Slack after {elapsed:.0f}s: {visible} of {len(cases)}; at {rate:.2f}/s all would take "
              f"{len(cases) / rate if rate else float('inf'):.0f}s")
    print(f"top-level messages posted: {top_level}; HTTP 429s: {stack.slack.rate_limited}; "
          f"peak RSS {peak_mb:.0f} MB (this process, emulators included)")
    print(f"bare tweepy + chat.postMessage loop, no pacing: {bare:.0f} posts/s")


if __name__ == "__main__":
    main()
