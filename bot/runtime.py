"""The Parley container: everything one running process holds, and its start/stop/serve.

`app.build` fills it; Slack handlers (`commands/`) and scheduled jobs see it. It builds nothing
itself, so it can be imported without building anything.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from starlette.applications import Starlette

from bot.delivery.membership import join_all
from bot.delivery.slack_link import SOCKET_PING_INTERVAL, SlackLink
from bot.delivery.slack_startup import socket_mode_client
from bot.delivery.worker import OutboxWorker
from bot.doctor.watch import CheckWatch
from bot.inbound.ingest import Ingestor
from bot.inbound.poll import poll_connector
from bot.metrics import Metrics
from bot.replies.sender import Sender
from bot.reports.service_level import ServiceLevel
from bot.schedule.leader import Leadership
from bot.schedule.scheduler import build_scheduler, poll_soon
from bot.settings import Settings, secret
from bot.store.database import Store
from bot.store.models import utcnow
from bot.store.probe import database_problem
from connectors.base import Batch, Connector, InboundMessage

log = logging.getLogger("parley")
# A platform not polled successfully for this many poll intervals makes /readyz answer 503.
STALE_POLLS = 5
SLACK_PROBE_SECONDS = 15.0


@dataclass
class Parley:
    """Everything one running process holds; built by `build`, started by `start`."""

    settings: Settings
    store: Store
    connectors: list[Connector]
    ingestor: Ingestor
    outbox: OutboxWorker
    sender: Sender
    service_level: ServiceLevel
    bolt: App
    http: Starlette
    scheduler: BackgroundScheduler | None = None
    # Scheduler leadership among replicas (bot/leader.py); made by start_background().
    leader: Leadership | None = None
    # Jobs beyond polling that the scheduler runs: name -> (interval seconds, function). Issue 4's
    # reminder tick and digest add theirs here before start_background().
    jobs: dict[str, tuple[float, Callable[[], object]]] = field(default_factory=dict)
    # Platform sends run here, after Slack has been acknowledged (app.py makes it an AckFirstExecutor).
    workers: Executor = field(default_factory=lambda: ThreadPoolExecutor(8, thread_name_prefix="send"))
    slack_link: SlackLink = field(default_factory=SlackLink)
    metrics: Metrics = field(default_factory=Metrics)  # served on /metrics (bot/web.py)
    doctor: CheckWatch | None = None  # the scheduled `parley check`; its latest results feed App Home
    started_at: datetime | None = None  # when polling started (a platform never polled is stale after it)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _last_send: dict[int, Future] = field(default_factory=dict)  # per case, its latest send (send_soon)
    _sends_lock: threading.Lock = field(default_factory=threading.Lock)

    def send_soon(self, message_id: int, *, case: int | None = None) -> None:
        """Deliver a stored reply in the background (the scheduled `deliver_pending` is the safety net).
        Sends of one `case` run one after another, in the order asked for: the pool holds its work
        while Slack requests are being acknowledged, and two replies released together must still
        reach the customer in the order staff wrote them."""
        with self._sends_lock:
            previous = self._last_send.get(case) if case is not None else None

            def run() -> None:
                if previous is not None:
                    wait([previous])  # submitted earlier to the same first-in first-out pool: never waits for us
                try:
                    self.sender.deliver(message_id)
                except Exception:
                    log.exception("delivering outbound message %s failed; deliver_pending will settle it", message_id)

            future = self.workers.submit(run)
            if case is not None:
                self._last_send[case] = future
                future.add_done_callback(lambda done: self._forget_send(case, done))

    def _forget_send(self, case: int, done: Future) -> None:
        with self._sends_lock:
            if self._last_send.get(case) is done:
                del self._last_send[case]

    def poll_all(self, now: datetime | None = None) -> None:
        for connector in self.connectors:
            poll_connector(connector, self.store, self.ingestor, now or utcnow(), self.metrics)

    def deliver_webhook(self, messages: list[InboundMessage]) -> None:
        """Store a webhook delivery. Each message is first completed by its connector (`complete`); some
        events name only the sender's id (Messenger, Instagram DMs), so the name is asked of the
        message's own connector once per sender (polling would have brought it)."""
        by_platform = {c.platform: c for c in self.connectors}
        names: dict[tuple[str, str], str | None] = {}
        enriched = []
        for heard in messages:
            connector = by_platform.get(heard.platform)
            # Some deliveries carry only ids (Instagram @mentions): the connector fills them in now,
            # after the 200, or drops what is gone.
            completed = connector.complete(heard) if connector is not None else heard
            if completed is None:
                continue
            message, author = completed, completed.author
            if not author.name and connector is not None:
                key = (message.platform, author.external_id)
                if key not in names:
                    names[key] = connector.fetch_name(author.external_id)
                name = names[key]
                if name:
                    message = replace(message, author=replace(author, name=name, handle=author.handle or name))
            enriched.append(message)
        stream = f"{messages[0].platform}:webhook" if messages else "webhook"  # a log label: no cursor moves
        self.ingestor.ingest(Batch(stream=stream, messages=enriched))

    def health(self) -> tuple[bool, dict]:
        """Ready when the database takes a write where DATABASE_URL points (`bot.store.probe`), Parley
        can hear Slack (`SlackLink`), and, on the replica that polls, every platform was polled
        successfully within STALE_POLLS poll intervals (a rate-limit pause does not count against it)."""
        now = utcnow()
        db_problem = database_problem(self.store, now)
        slack_ok, slack_words = self.slack_link.status()
        platforms = {c.platform: self._platform_health(c, now) for c in self.connectors}
        ready = db_problem is None and slack_ok and not any(p["stale"] for p in platforms.values())
        scheduler = self.leader.role if self.leader is not None else "not started"
        return ready, {"database": db_problem or "ok", "slack": slack_words, "platforms": platforms,
                       "scheduler": scheduler}

    def _platform_health(self, connector: Connector, now: datetime) -> dict:
        health = connector.health
        since = health.last_success_at or self.started_at
        polling = self.leader is not None and self.leader.is_leader
        paused = health.paused_until is not None and health.paused_until > now
        limit = STALE_POLLS * self.settings.parley_poll_interval
        stale = polling and not paused and since is not None and now - since > limit
        return {
            "ok": health.ok,
            "last_success_at": health.last_success_at.isoformat() if health.last_success_at else None,
            "last_error": health.last_error,
            "paused_until": health.paused_until.isoformat() if health.paused_until else None,
            "stale": stale,
            "stale_after_seconds": int(limit / timedelta(seconds=1)),
        }

    def start_background(self) -> None:
        """Join the routed Slack channels, then start the outbox worker and the polling schedule (not
        the HTTP server)."""
        routed = [self.settings.parley_channel, *(rule.channel for rule in self.settings.routing.routing)]
        join_all(self.bolt.client, routed, self.outbox.missing_invites)
        self.started_at = utcnow()
        worker = threading.Thread(target=self.outbox.run, args=(self._stop,), name="outbox", daemon=True)
        worker.start()
        self._threads.append(worker)
        jobs = {
            c.platform: (lambda c=c: poll_connector(c, self.store, self.ingestor, utcnow(), self.metrics))
            for c in self.connectors
        }
        # Every replica runs the scheduler; only the leader's guarded jobs do work (bot/leader.py).
        self.leader = Leadership(self.store, retry_interval=self.settings.parley_leader_interval)
        self.leader.try_acquire()  # before the first ticks, so a lone process polls at once
        self.scheduler = build_scheduler(
            jobs, self.settings.parley_poll_interval, extra=self.jobs, guard=self.leader.guard,
            unguarded={"leadership": (self.leader.retry_interval.total_seconds(), self.leader.tick),
                       # every replica answers /readyz for itself
                       "slack_link": (SLACK_PROBE_SECONDS, lambda: self.slack_link.probe(self.bolt.client))})
        self.scheduler.start()
        for connector in self.connectors:  # networks that push (IMAP IDLE) make their poll run at once
            watcher = threading.Thread(target=connector.watch, args=(self._poll_soon(connector.platform), self._stop),
                                       name=f"watch:{connector.platform}", daemon=True)
            watcher.start()
            self._threads.append(watcher)

    def _poll_soon(self, platform: str) -> Callable[[], None]:
        return lambda: poll_soon(self.scheduler, platform) if self.scheduler is not None else None

    def stop(self) -> None:
        self._stop.set()
        self.outbox.wake()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.leader is not None:
            self.leader.release()
        for thread in self._threads:
            thread.join(timeout=10)
        # Slack handlers not yet started after their ack are dropped (the process is going away; each
        # person was acknowledged); running ones finish before the store closes.
        self.bolt.listener_runner.listener_executor.shutdown(wait=True, cancel_futures=True)
        self.workers.shutdown(wait=True)
        self.outbox.presence.stop()  # after the last send: what is still SENDING is taken over by others
        self.store.dispose()

    def serve(self, host: str = "0.0.0.0") -> None:
        """Block serving HTTP (Slack in HTTP mode, webhooks, /healthz); Socket Mode alongside if set."""
        if self.settings.socket_mode:
            web = socket_mode_client(self.settings.slack_api_url, self.settings.parley_startup_wait.total_seconds())
            handler = SocketModeHandler(self.bolt, secret(self.settings.slack_app_token), web_client=web,
                                        ping_interval=SOCKET_PING_INTERVAL)
            self.slack_link.socket_connected = handler.client.is_connected
            handler.connect()
            log.info("Slack: Socket Mode connected; HTTP on :%d serves webhooks and /healthz",
                     self.settings.port)
        else:
            log.info("Slack: HTTP mode on :%d/slack/events", self.settings.port)
        # What start-up built lives as long as the process: out of the cyclic collector's way, so a full
        # collection walks only what came after instead of every object (~100 ms with the interpreter
        # held, stalling every ack in flight). https://docs.python.org/3/library/gc.html#gc.freeze
        gc.freeze()
        uvicorn.Server(uvicorn.Config(self.http, host=host, port=self.settings.port, log_level="warning",
                                      access_log=False)).run()
