"""Build Parley from settings and run it. Nothing runs at import time.

`python app.py` is the same as `parley run`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime

import sqlalchemy as sa
import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from starlette.applications import Starlette

from bot.delivery.worker import OutboxWorker
from bot.inbound.ingest import Ingestor
from bot.inbound.poll import poll_connector
from bot.inbound.routing import Router
from bot.replies.permissions import AgentPolicy, parse_agents
from bot.replies.sender import Sender
from bot.reports.service_level import ServiceLevel
from bot.schedule.digest import DigestJob
from bot.schedule.leader import Leadership
from bot.schedule.reminders import ReminderTick
from bot.schedule.scheduler import build_scheduler
from bot.settings import ConfigError, Settings, secret
from bot.store.database import Store
from bot.store.models import utcnow
from bot.web import FacebookWebhookConfig, build_http_app
from connectors.base import Batch, Connector, InboundMessage, Platform

log = logging.getLogger("parley")


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
    # Platform sends run here, after Slack has been acknowledged.
    workers: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(8, thread_name_prefix="send"))
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def send_soon(self, message_id: int) -> None:
        """Deliver a stored reply in the background (the scheduled `deliver_pending` is the safety net)."""
        def run() -> None:
            try:
                self.sender.deliver(message_id)
            except Exception:
                log.exception("delivering outbound message %s failed; deliver_pending will settle it", message_id)

        self.workers.submit(run)

    def poll_all(self, now: datetime | None = None) -> None:
        for connector in self.connectors:
            poll_connector(connector, self.store, self.ingestor, now or utcnow())

    def deliver_webhook(self, messages: list[InboundMessage]) -> None:
        """Store a Facebook webhook delivery. Messenger events name only the sender's id, so the
        name is looked up once per sender (polling would have brought it)."""
        facebook = next((c for c in self.connectors if c.platform == Platform.FACEBOOK), None)
        names: dict[str, str | None] = {}
        enriched = []
        for message in messages:
            author = message.author
            if not author.name and facebook is not None:
                if author.external_id not in names:
                    names[author.external_id] = facebook.fetch_name(author.external_id)
                name = names[author.external_id]
                if name:
                    message = replace(message, author=replace(author, name=name, handle=author.handle or name))
            enriched.append(message)
        self.ingestor.ingest(Batch(stream="facebook:webhook", messages=enriched))

    def health(self) -> tuple[bool, dict]:
        try:
            with self.store.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            db_ok = True
        except sa.exc.SQLAlchemyError:
            db_ok = False
        platforms = {
            c.platform.value: {
                "ok": c.health.ok,
                "last_success_at": c.health.last_success_at.isoformat() if c.health.last_success_at else None,
                "last_error": c.health.last_error,
                "paused_until": c.health.paused_until.isoformat() if c.health.paused_until else None,
            }
            for c in self.connectors
        }
        scheduler = self.leader.role if self.leader is not None else "not started"
        return db_ok, {"database": "ok" if db_ok else "unreachable", "platforms": platforms,
                       "scheduler": scheduler}

    def start_background(self) -> None:
        """Start the outbox worker and the polling schedule (not the HTTP server)."""
        worker = threading.Thread(target=self.outbox.run, args=(self._stop,), name="outbox", daemon=True)
        worker.start()
        self._threads.append(worker)
        jobs = {
            c.platform.value: (lambda c=c: poll_connector(c, self.store, self.ingestor, utcnow()))
            for c in self.connectors
        }
        # Every replica runs the scheduler; only the leader's guarded jobs do work (bot/leader.py).
        self.leader = Leadership(self.store, retry_interval=self.settings.parley_leader_interval)
        self.leader.try_acquire()  # before the first ticks, so a lone process polls at once
        self.scheduler = build_scheduler(
            jobs, self.settings.parley_poll_interval, extra=self.jobs, guard=self.leader.guard,
            unguarded={"leadership": (self.leader.retry_interval.total_seconds(), self.leader.tick)})
        self.scheduler.start()

    def stop(self) -> None:
        self._stop.set()
        self.outbox.wake()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.leader is not None:
            self.leader.release()
        for thread in self._threads:
            thread.join(timeout=10)
        self.workers.shutdown(wait=True)
        self.store.dispose()

    def serve(self, host: str = "0.0.0.0") -> None:
        """Block serving HTTP (Slack in HTTP mode, webhooks, /healthz); Socket Mode alongside if set."""
        if self.settings.socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            SocketModeHandler(self.bolt, secret(self.settings.slack_app_token)).connect()
            log.info("Slack: Socket Mode connected; HTTP on :%d serves webhooks and /healthz",
                     self.settings.port)
        else:
            log.info("Slack: HTTP mode on :%d/slack/events", self.settings.port)
        uvicorn.Server(uvicorn.Config(self.http, host=host, port=self.settings.port, log_level="warning",
                                      access_log=False)).run()


def build_connectors(settings: Settings) -> list[Connector]:
    connectors: list[Connector] = []
    if settings.x_enabled:
        from connectors.x.connector import XConnector

        connectors.append(XConnector(
            bearer_token=secret(settings.x_bearer_token) or None,
            consumer_key=secret(settings.x_consumer_key),
            consumer_secret=secret(settings.x_consumer_secret),
            access_token=secret(settings.x_access_token),
            access_token_secret=secret(settings.x_access_token_secret),
            api_url=settings.x_api_url,
            search_queries=settings.x_search_queries,
        ))
    if settings.facebook_enabled:
        from connectors.facebook.connector import FacebookConnector

        connectors.append(FacebookConnector(
            page_id=settings.facebook_page_id or "",
            page_token=secret(settings.facebook_page_token),
            graph_url=settings.facebook_graph_url,
            graph_version=settings.facebook_graph_version,
        ))
    return connectors


def build_slack_client(settings: Settings, *, for_outbox: bool = False) -> WebClient:
    """The outbox's client retries nothing itself: a 429 must pause one channel, not sleep the worker,
    and a dropped connection or 5xx on chat.postMessage may already have posted, so the outbox looks
    the message up before sending again. Interactive calls (Bolt) may retry 429s."""
    handlers = [] if for_outbox else [RateLimitErrorRetryHandler(max_retry_count=2)]
    return WebClient(token=secret(settings.slack_bot_token), base_url=settings.slack_api_url,
                     retry_handlers=handlers)


def build_sender(settings: Settings, store: Store, connectors: list[Connector], client: WebClient, *,
                 on_committed: Callable[[], None], service_level: ServiceLevel) -> Sender:
    """Replies go out through the connectors; who may send is PARLEY_AGENTS (groups asked of Slack)."""
    def group_members(group_id: str) -> list[str]:
        return list(client.usergroups_users_list(usergroup=group_id).get("users") or [])

    x = next((c for c in connectors if c.platform == Platform.X), None)
    return Sender(
        store, {c.platform.value: c for c in connectors},
        policy=AgentPolicy(allowed=parse_agents(settings.parley_agents), resolve_group=group_members),
        nudge_template=settings.parley_nudge_template,
        x_brand_id=(lambda: x.brand()["id"]) if x is not None else None,
        on_committed=on_committed,
        pause_meter=service_level.pause_meter,
    )


def build(settings: Settings, *, migrate: bool = True) -> Parley:
    """Wire a Parley process from settings. Raises ConfigError for unusable settings."""
    if settings.slack_bot_token is None:
        raise ConfigError("SLACK_BOT_TOKEN is not set: Parley needs a bot token (xoxb-…) to post to Slack")
    if not settings.socket_mode and settings.slack_signing_secret is None:
        raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify Slack's requests "
                          "(or set SLACK_APP_TOKEN for Socket Mode)")
    if settings.parley_channel is None and not settings.routing.routing:
        raise ConfigError("PARLEY_CHANNEL is not set: name the Slack channel ID for mirrored conversations")
    store = Store.from_url(settings.database_url, migrate=migrate)
    service_level = ServiceLevel.of(settings.sla)
    client = build_slack_client(settings)
    outbox = OutboxWorker(store, build_slack_client(settings, for_outbox=True),
                          min_interval=settings.parley_slack_min_interval.total_seconds(),
                          sla_badge=service_level.badge)
    ingestor = Ingestor(store, Router(settings.routing, settings.parley_channel), on_committed=outbox.wake,
                        pause_meter=service_level.pause_meter)
    bolt = App(
        client=client,
        signing_secret=secret(settings.slack_signing_secret) or None,
        request_verification_enabled=not settings.socket_mode,
        process_before_response=False,
    )
    connectors = build_connectors(settings)
    sender = build_sender(settings, store, connectors, client, on_committed=outbox.wake,
                          service_level=service_level)
    parley = Parley(settings=settings, store=store, connectors=connectors, ingestor=ingestor, outbox=outbox,
                    sender=sender, service_level=service_level, bolt=bolt, http=Starlette())
    # A reply stored but never sent (crash between store and send) is finished or reported.
    parley.jobs["deliver_pending"] = (30.0, sender.deliver_pending)
    # SLA warnings, breaches, escalations and platform-window reminders (bot/reminders.py).
    reminder_tick = ReminderTick.from_settings(settings, store, service_level, client, on_committed=outbox.wake)
    parley.jobs["reminders"] = (settings.parley_reminder_interval.total_seconds(), reminder_tick)
    # Issue 4: the daily digest (sends once per local day at/after PARLEY_DIGEST_TIME; bot/digest.py)
    # and the App Home refresh for people who opened it recently (commands/home.py).
    from commands.home import republish_homes

    digest_job = DigestJob(store, service_level, client, managers=settings.parley_managers,
                           channel=settings.parley_digest_channel, at=settings.parley_digest_time,
                           clock=sender.clock)
    parley.jobs["digest"] = (60.0, digest_job.run)
    parley.jobs["app_home"] = (60.0, lambda: republish_homes(parley))
    from commands import register_all

    register_all(bolt, parley)
    facebook = None
    if settings.facebook_webhooks_enabled:
        facebook = FacebookWebhookConfig(page_id=settings.facebook_page_id or "",
                                         app_secret=secret(settings.facebook_app_secret),
                                         verify_token=secret(settings.facebook_verify_token),
                                         deliver=parley.deliver_webhook)
    parley.http = build_http_app(bolt=None if settings.socket_mode else bolt, facebook=facebook,
                                 health=parley.health)
    return parley


def main(argv: list[str] | None = None) -> int:
    from bot.cli import main as cli_main

    return cli_main(["run", *(argv or [])])


if __name__ == "__main__":
    raise SystemExit(main())
