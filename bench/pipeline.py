"""Throughput of the ingest → Slack path against the local emulators.

Seeds N X mentions (each its own conversation) and M follow-ups, then times: one poll that stores
them all (tweepy paging + triage + rows + outbox, per transaction batch), and the outbox draining
them to the Slack emulator with pacing off. Prints numbers; asserts nothing.

    python bench/pipeline.py [--mentions 500] [--database-url sqlite:///…|postgresql://…]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlmodel import func, select

from app import build
from bot.settings import load_settings
from bot.store.models import Message, OutboxItem, OutboxStatus
from sandbox.emulators.stack import EmulatorStack, free_port


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=400)
    parser.add_argument("--followups", type=int, default=100)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmulatorStack() as stack:
        stack.slack.add_channel("support", id="C0SUPPORT")
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        env = stack.environment(database_url=url, channel="C0SUPPORT", port=free_port())
        env |= {"PARLEY_SLACK_MIN_INTERVAL": "1ms", "FACEBOOK_PAGE_ID": "", "FACEBOOK_PAGE_TOKEN": ""}
        parley = build(load_settings(_env_file=None, **{k.lower(): v for k, v in env.items() if v}))
        roots = []
        for i in range(args.mentions):
            user = stack.x.add_user(f"bench{i}", f"Bench {i}", followers=i * 37)
            roots.append((user, stack.x.add_tweet(user, f"@acme order {i} is late and support is not answering")))
        for user, root in roots[: args.followups]:
            stack.x.add_tweet(user, "any news? still waiting", in_reply_to=root)
        # The first poll of a stream reads at most 5 pages of 100 (no unbounded backfill), so stay within it.
        total = args.mentions + args.followups

        started = time.perf_counter()
        parley.poll_all()
        polled = time.perf_counter() - started
        with parley.store.transaction() as session:
            stored = session.exec(select(func.count()).select_from(Message)).one()
        started = time.perf_counter()
        sent, idle_rounds = 0, 0
        while idle_rounds < 50:  # a drain may return 0 while items wait for their card's ts
            n = parley.outbox.drain()
            sent += n
            idle_rounds = 0 if n else idle_rounds + 1
            if not n:
                time.sleep(0.01)
        drained = time.perf_counter() - started
        with parley.store.transaction() as session:
            left = session.exec(select(func.count()).select_from(OutboxItem)
                                .where(OutboxItem.status != OutboxStatus.SENT)).one()
        posts = len(stack.slack.posts())
        updates = len(stack.slack.calls_to(r"chat\.update$"))
        parley.stop()
    print(f"database: {url.split(':')[0]}")
    print(f"poll + store: {stored} of {total} messages in {polled:.2f}s = {total / polled:.0f} msg/s "
          f"(tweepy paging, triage, rows, outbox rows)")
    print(f"outbox → Slack emulator: {sent} deliveries ({posts} posts, {updates} card updates) in {drained:.2f}s "
          f"= {sent / drained:.0f}/s, {left} left undelivered (pacing off; production paces 1/s per channel)")


if __name__ == "__main__":
    main()
