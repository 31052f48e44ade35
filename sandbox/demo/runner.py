"""`parley demo`: the real app against local emulators, on a temporary SQLite database.

Wave 1 of the bundled dataset is posted before the app starts; the app polls it and mirrors it.
Wave 2 arrives while the app runs (new posts for polling, Messenger messages also through the
signed webhook). Finally every cursor is wiped and everything polled again, to show that a repeat
read mirrors nothing twice. The demo checks its own result and exits 1 if anything is off.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import requests
import uvicorn
import yaml
from sqlmodel import delete, func, select

from bot.runtime import Parley
from bot.settings import Settings, load_settings
from bot.store.models import Conversation, Cursor, Message, OutboxItem, OutboxStatus
from sandbox.demo.dataset import Dataset, load_dataset
from sandbox.demo.seed import (
    SeededWorld,
    instagram_dm_webhook,
    messenger_webhook,
    seed_accounts,
    seed_wave,
    signed,
)
from sandbox.emulators.mail import Dovecot, MailServers
from sandbox.emulators.slack_api import SlackEmulator
from sandbox.emulators.stack import FACEBOOK_APP_SECRET, EmulatorStack, free_port
from sandbox.emulators.x_api import XEmulator

CHANNELS = {"C0SUPPORT": "social-support", "C0FACEBOOK": "social-facebook", "C0RIVAL": "competitor-watch"}
ROUTING = {"routing": [{"channel": "C0RIVAL", "query": "rival"}, {"channel": "C0FACEBOOK", "platform": "facebook"}]}
DEADLINE_S = 45.0


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"demo: timed out waiting for {what}")
        time.sleep(0.1)


class _Demo:
    def __init__(self, dataset: Dataset, workdir: Path, build: Callable[[Settings], Parley]) -> None:
        self.dataset, self.workdir, self.build = dataset, workdir, build
        brand = dataset.brand
        self.stack = EmulatorStack(
            slack=SlackEmulator(),
            # The demo compresses hours into seconds: X's 15 DM reads per 15 minutes would stall it.
            x=XEmulator(brand_username=brand.x_username, brand_name=brand.x_name, dm_events_limit=10_000),
        )
        self.stack.graph.page_name = brand.page_name
        self.port = free_port()
        self.parley: Parley | None = None
        self.server: uvicorn.Server | None = None
        self.world = SeededWorld()
        self.webhook_deliveries = 0
        # A real IMAP server (Dovecot) and SMTP server for the e-mail cases, where Dovecot is installed.
        self.mail = MailServers() if MailServers.available() else None
        if self.mail is None:
            self.dataset = dataset.without("email")

    # --- steps ----------------------------------------------------------------------------
    def start(self) -> None:
        self.stack.start()
        for channel_id, name in CHANNELS.items():
            self.stack.slack.add_channel(name, id=channel_id)
        if self.mail is not None:
            self.mail.start()
        now = datetime.now(UTC)
        self.world = seed_accounts(self.dataset, self.stack, now)
        seed_wave(self.dataset, self.stack, self.world, 1, now, self.mailbox)
        config = self.workdir / "parley.yaml"
        config.write_text(yaml.safe_dump(ROUTING))
        env = self.stack.environment(database_url=f"sqlite:///{self.workdir / 'parley.db'}", channel="C0SUPPORT",
                                     port=self.port, config=config, search_queries=dict(self.dataset.search_queries))
        env |= {"PARLEY_POLL_INTERVAL": "1s", "PARLEY_SLACK_MIN_INTERVAL": "20ms", "X_DM_INTERVAL": "1s",
                "X_DM_REQUESTS": "10000", "PARLEY_CSAT": "messenger,dm"}  # the demo asks for ratings
        env |= self.mail.environment() | {"EMAIL_POLL_INTERVAL": "1s"} if self.mail is not None else {}
        settings = load_settings(_env_file=None, **{k.lower(): v for k, v in env.items()})
        self.parley = self.build(settings)
        self.server = uvicorn.Server(uvicorn.Config(self.parley.http, host="127.0.0.1", port=self.port,
                                                    log_level="warning", access_log=False))
        threading.Thread(target=self.server.run, name="http", daemon=True).start()
        _wait_until(lambda: self.server is not None and self.server.started, "the HTTP server")
        self.parley.start_background()

    def expected_messages(self, up_to_wave: int) -> int:
        return sum(1 for i in self.dataset.items if not i.from_brand and i.wave <= up_to_wave)

    def settle(self, up_to_wave: int) -> None:
        expected = self.expected_messages(up_to_wave)
        _wait_until(lambda: self.count(Message) >= expected, f"{expected} stored messages")
        _wait_until(lambda: self.undelivered() == 0, "Slack deliveries")

    def second_wave(self) -> None:
        already, already_ig = len(self.world.messenger), len(self.world.instagram_dms)
        seed_wave(self.dataset, self.stack, self.world, 2, datetime.now(UTC), self.mailbox)
        # The new Messenger and Instagram messages also come in through the signed webhook, as Meta sends them.
        deliveries = [messenger_webhook(self.stack.graph.page_id, self.world.facebook_users[item.author], mid,
                                        item.text, datetime.now(UTC)) for item, mid in self.world.messenger[already:]]
        deliveries += [instagram_dm_webhook(self.stack, (item, mid), self.dataset.customer(item.author).username or "",
                                            datetime.now(UTC)) for item, mid in self.world.instagram_dms[already_ig:]]
        for payload in deliveries:
            body, signature = signed(payload, FACEBOOK_APP_SECRET)
            response = requests.post(f"http://127.0.0.1:{self.port}/webhooks/facebook", data=body, timeout=10,
                                     headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
            response.raise_for_status()
            self.webhook_deliveries += 1

    @property
    def mailbox(self) -> Dovecot | None:
        return self.mail.imap if self.mail is not None else None

    def repoll_from_scratch(self) -> tuple[int, int]:
        """Forget every cursor and poll again: everything is re-read, nothing is stored twice."""
        assert self.parley is not None
        assert self.parley.scheduler is not None
        self.parley.scheduler.pause()
        with self.parley.store.transaction() as session:
            session.exec(delete(Cursor))
        before = self.count(Message)
        posts_before = len(self.stack.slack.posts())
        self.parley.poll_all()
        self.parley.outbox.drain()
        return self.count(Message) - before, len(self.stack.slack.posts()) - posts_before

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.parley is not None:
            self.parley.stop()
        self.stack.stop()
        if self.mail is not None:
            self.mail.stop()

    # --- reading the result -----------------------------------------------------------------
    def count(self, model: type) -> int:
        assert self.parley is not None
        with self.parley.store.transaction() as session:
            return session.exec(select(func.count()).select_from(model)).one()

    def undelivered(self) -> int:
        assert self.parley is not None
        with self.parley.store.transaction() as session:
            return session.exec(select(func.count()).select_from(OutboxItem)
                                .where(OutboxItem.status != OutboxStatus.SENT)).one()

    def rows(self) -> tuple[list[Conversation], list[Message]]:
        assert self.parley is not None
        with self.parley.store.transaction() as session:
            return list(session.exec(select(Conversation)).all()), list(session.exec(select(Message)).all())


def _summary(demo: _Demo, elapsed: float, repoll: tuple[int, int]) -> tuple[list[str], bool]:
    conversations, messages = demo.rows()
    slack = demo.stack.slack
    cards = [p for p in slack.posts() if p.thread_ts is None]
    replies = [p for p in slack.posts() if p.thread_ts is not None]
    updates = len(slack.calls_to(r"/api/chat\.update$"))
    expected_conversations = len({demo.dataset.conversation_key(i) for i in demo.dataset.customer_items})
    by_kind = Counter(f"{m.platform}/{m.kind}" for m in messages)
    checks = [
        (len(messages) == demo.expected_messages(2), f"{len(messages)} customer messages stored "
                                                     f"(dataset: {demo.expected_messages(2)})"),
        (len(conversations) == expected_conversations, f"{len(conversations)} conversations "
                                                       f"(dataset threads: {expected_conversations})"),
        (len(cards) == len(conversations), f"{len(cards)} Slack cards, one per conversation"),
        (len(replies) == len(messages) - len(conversations), f"{len(replies)} follow-ups posted in their threads"),
        (repoll == (0, 0), f"re-poll from scratch: {repoll[0]} new messages, {repoll[1]} new Slack posts"),
        (demo.undelivered() == 0, "outbox empty"),
    ]
    lines = [
        "── summary " + "─" * 60,
        f"heard: {', '.join(f'{k} {v}' for k, v in sorted(by_kind.items()))}",
        f"languages: {dict(Counter(m.language for m in messages).most_common())}",
        f"tone: {dict(Counter(m.tone for m in messages).most_common())}   "
        f"complaints: {sum(m.complaint for m in messages)}",
        f"conversation priority: {dict(Counter(c.priority for c in conversations).most_common())}",
        f"slack: {len(cards)} cards in {len({p.channel for p in cards})} channels, {len(replies)} thread replies, "
        f"{updates} card updates; webhook deliveries: {demo.webhook_deliveries}",
    ]
    lines += [f"{'✓' if ok else '✗'} {text}" for ok, text in checks]
    lines.append(f"done in {elapsed:.1f}s")
    return lines, all(ok for ok, _ in checks)


def run_demo(build: Callable[[Settings], Parley], out: TextIO, *, verbose: bool = False) -> int:
    """Run the whole demo against `build` (the app's wiring, `app.build`); 0 when every check passed."""
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    dataset = load_dataset()
    with tempfile.TemporaryDirectory(prefix="parley-demo-") as tmp:
        demo = _Demo(dataset, Path(tmp), build)
        try:
            mail = ("a real Dovecot and SMTP server" if demo.mail is not None
                    else "no e-mail (install dovecot-imapd for its cases)")
            print(f"Parley demo: Slack, X and Facebook emulators and {mail} on 127.0.0.1; SQLite in a temp folder.",
                  file=out)
            demo.start()
            demo.settle(1)
            print(f"wave 1: {demo.count(Message)} messages mirrored; posting wave 2…", file=out)
            demo.second_wave()
            demo.settle(2)
            repoll = demo.repoll_from_scratch()
            print("", file=out)
            print(demo.stack.slack.transcript(), file=out)
            lines, ok = _summary(demo, time.monotonic() - started, repoll)
            print("\n".join(lines), file=out)
            return 0 if ok else 1
        finally:
            demo.stop()
