"""Throughput of the ingest → Slack path against the local emulators.

Seeds N X mentions (each its own conversation) and M follow-ups, then times: one poll that stores
them all (tweepy paging + triage + rows + outbox, per transaction batch), and the outbox draining
them to the Slack emulator with pacing off. Runs once per `--database-url` (SQLite in a temporary
file when none is given; `--postgres` adds the server named by PARLEY_TEST_POSTGRES_URL), and
prints each beside the floor measured in the same run: a bare loop of tweepy (reading the same
mentions) + one chat.postMessage per mention. Prints numbers; asserts nothing.

    python bench/pipeline.py [--mentions 400] [--database-url sqlite:///…|postgresql://…]… [--postgres]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
import tweepy
from slack_sdk import WebClient
from sqlmodel import func, select

from app import build
from bot.settings import load_settings
from bot.store.database import make_engine
from bot.store.models import Message, OutboxItem, OutboxStatus
from connectors.x.transport import mount_base_url
from sandbox.emulators.slack_api import SlackEmulator
from sandbox.emulators.stack import EmulatorStack, free_port
from sandbox.emulators.x_api import XEmulator


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=400)
    parser.add_argument("--followups", type=int, default=100)
    parser.add_argument("--database-url", action="append", default=[])
    parser.add_argument("--postgres", action="store_true",
                        help="also run on a fresh database on the server PARLEY_TEST_POSTGRES_URL names")
    args = parser.parse_args()
    floor = bare_loop(args.mentions)
    print(f"floor: bare tweepy + chat.postMessage loop: {floor:.0f} mentions/s")
    with tempfile.TemporaryDirectory() as tmp:
        urls = args.database_url or [f"sqlite:///{Path(tmp) / 'bench.db'}"]
        for url in urls:
            run(url, args, floor)
        if args.postgres:
            admin = make_engine(os.environ["PARLEY_TEST_POSTGRES_URL"]).execution_options(isolation_level="AUTOCOMMIT")
            name = f"parley_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            try:
                run(admin.url.set(database=name).render_as_string(hide_password=False), args, floor)
            finally:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                admin.dispose()


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


def run(url: str, args: argparse.Namespace, floor: float) -> None:
    with EmulatorStack() as stack:
        stack.slack.add_channel("support", id="C0SUPPORT")
        env = stack.environment(database_url=url, channel="C0SUPPORT", port=free_port())
        env |= {"PARLEY_SLACK_MIN_INTERVAL": "1ms", "FACEBOOK_PAGE_ID": "", "FACEBOOK_PAGE_TOKEN": "",
                "INSTAGRAM_ACCOUNT_ID": ""}
        parley = build(load_settings(_env_file=None, **{k.lower(): v for k, v in env.items() if v}))
        roots = []
        for i in range(args.mentions):
            user = stack.x.add_user(f"bench{i}", f"Bench {i}", followers=i * 37)
            roots.append((user, stack.x.add_tweet(user, f"@acme order {i} is late and support is not answering")))
        for user, root in roots[: args.followups]:
            stack.x.add_tweet(user, "any news? still waiting", in_reply_to=root)
        total = args.mentions + args.followups

        started = time.perf_counter()
        parley.poll_all()
        polled = time.perf_counter() - started
        with parley.store.transaction() as session:
            stored = session.exec(select(func.count()).select_from(Message)).one()
        started = time.perf_counter()
        sent, left, idle_rounds = 0, 1, 0
        while left and idle_rounds < 50:  # stop when all is sent (or nothing moves for a while)
            n = parley.outbox.drain()
            sent += n
            with parley.store.transaction() as session:
                left = session.exec(select(func.count()).select_from(OutboxItem)
                                    .where(OutboxItem.status != OutboxStatus.SENT)).one()
            idle_rounds = 0 if n else idle_rounds + 1
        drained = time.perf_counter() - started
        posts = len(stack.slack.posts())
        updates = len(stack.slack.calls_to(r"chat\.update$"))
        parley.stop()
    print(f"database: {url.split(':')[0]}")
    print(f"  poll + store: {stored} of {total} messages in {polled:.2f}s = {total / polled:.0f} msg/s "
          f"(tweepy paging, triage, rows, outbox rows) = {total / polled / floor:.2f}x the bare loop")
    print(f"  outbox → Slack emulator: {sent} deliveries ({posts} posts, {updates} card updates) in {drained:.2f}s "
          f"= {sent / drained:.0f}/s = {sent / drained / floor:.2f}x the bare loop, {left} left undelivered "
          f"(pacing off; production paces 1/s per channel)")
    both = total / (polled + drained)
    print(f"  end to end: {both:.0f} mentions/s = {both / floor:.2f}x the bare loop")


if __name__ == "__main__":
    main()
