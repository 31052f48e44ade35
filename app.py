"""Build Parley from settings and run it. Nothing runs at import time.

`python app.py` is the same as `parley run`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from starlette.applications import Starlette

from bot.ack_first import AckFirstExecutor
from bot.cli import main as cli_main
from bot.delivery.directory import SlackDirectory
from bot.delivery.metered import MeteredWebClient
from bot.delivery.queue_metrics import QueueCollector
from bot.delivery.storm import StormPolicy
from bot.delivery.worker import OutboxWorker
from bot.doctor.run import run_checks
from bot.doctor.watch import WATCH_INTERVAL, CheckWatch
from bot.inbound.ingest import Ingestor
from bot.inbound.routing import Router
from bot.metrics import Metrics
from bot.replies.permissions import AgentPolicy, parse_agents
from bot.replies.sender import Sender
from bot.reports.service_level import ServiceLevel
from bot.runtime import Parley
from bot.schedule.digest import DigestJob
from bot.schedule.expiry import INTERVAL as EXPIRY_INTERVAL
from bot.schedule.expiry import TokenExpiryJob
from bot.schedule.reminders import ReminderTick
from bot.schedule.spend_watch import SPEND_WATCH_INTERVAL, SpendWatch
from bot.settings import ConfigError, Settings, secret
from bot.store.database import Store
from bot.store.models import utcnow
from bot.store.presence import Presence
from bot.store.spend import StoreLedger
from bot.web import EarlyAnswer, FacebookWebhookConfig, build_http_app
from commands import register_all
from commands.early import answered_at_once
from commands.home import republish_homes
from connectors.email.connector import EmailConnector
from connectors.facebook.connector import FacebookConnector
from connectors.instagram.connector import InstagramConnector
from connectors.registry import SHIPPED, Registry, UnknownPlatform
from connectors.x.connector import XConnector
from connectors.x.spend import Spend

log = logging.getLogger("parley")
# Channels the outbox sends to at the same time; each channel stays one paced message at a time.
OUTBOX_LANES = 4
# Handlers (the work after an ack) that run at once; more wait their turn in order.
SLACK_WORKERS = 8
SEND_WORKERS = 8  # replies' platform sends, held like the handlers while Slack is being acknowledged


def build_registry(settings: Settings) -> Registry:
    """One line per network: each configured network's connector, registered under its platform id."""
    registry = Registry()
    if settings.x_enabled:
        registry.register(_x(settings))
    if settings.facebook_enabled:
        registry.register(_facebook(settings))
    if settings.instagram_enabled:
        registry.register(_instagram(settings))
    if settings.email_enabled:
        registry.register(_email(settings))
    return registry


def _x(settings: Settings) -> XConnector:
    return XConnector(
        bearer_token=secret(settings.x_bearer_token) or None,
        consumer_key=secret(settings.x_consumer_key),
        consumer_secret=secret(settings.x_consumer_secret),
        access_token=secret(settings.x_access_token),
        access_token_secret=secret(settings.x_access_token_secret),
        api_url=settings.x_api_url,
        search_queries=settings.x_search_queries,
        backfill=settings.parley_backfill,
        enterprise=settings.x_enterprise,
        meter=Spend(prices=settings.x_prices, daily_budget=settings.x_daily_budget,
                    monthly_budget=settings.x_monthly_budget),  # kept in memory until the store is open
        dm_interval=settings.x_dm_interval,
        dm_requests=settings.x_dm_requests,
    )


def _facebook(settings: Settings) -> FacebookConnector:
    return FacebookConnector(
        page_id=settings.facebook_page_id or "",
        page_token=secret(settings.facebook_page_token),
        graph_url=settings.facebook_graph_url,
        graph_version=settings.facebook_graph_version,
        backfill=settings.parley_backfill,
        webhooks=settings.facebook_webhooks_enabled,
    )


def _instagram(settings: Settings) -> InstagramConnector:
    return InstagramConnector(
        account_id=settings.instagram_account_id or "",
        token=secret(settings.instagram_token) or secret(settings.facebook_page_token),
        page_id=settings.facebook_page_id or "me",  # "me" is the Page itself with a Page token
        graph_url=settings.facebook_graph_url,
        graph_version=settings.facebook_graph_version,
        backfill=settings.parley_backfill,
        webhooks=settings.facebook_webhooks_enabled,
    )


def keep_spend(registry: Registry, store: Store) -> Registry:
    """Count what X bills in the database (`x_charges`), shared by every replica and `parley check`."""
    for connector in registry:
        if isinstance(connector, XConnector):
            connector.spend.ledger = StoreLedger(store)
    return registry


def _email(settings: Settings) -> EmailConnector:
    return EmailConnector(
        imap_url=settings.email_imap_url or "", smtp_url=settings.email_smtp_url or "",
        address=settings.email_address or "", username=settings.email_login,
        password=secret(settings.email_password), folders=settings.email_folders,
        interval=settings.email_poll_interval, backfill=settings.parley_backfill,
        sender_name=settings.email_sender_name, ca_file=settings.email_ca_file,
        sent_folder=settings.email_sent_folder or None,
    )


def check_platforms(settings: Settings, registry: Registry) -> None:
    """ConfigError at start-up, naming the key, for a routing rule whose platform is not a configured
    network, or an SLA override naming a platform no network (configured or shipped) has: better
    than a conversation routed nowhere or a target that never applies."""
    try:
        for key, platform in settings.routing.platforms_named():
            registry.require(platform, f"PARLEY_CONFIG {key}")
    except UnknownPlatform as unknown:
        raise ConfigError(str(unknown)) from None
    overrides = getattr(settings.sla, "overrides", ()) or ()
    for i, override in enumerate(overrides):
        if override.platform and override.platform not in registry and override.platform not in SHIPPED:
            raise ConfigError(f"PARLEY_CONFIG sla.overrides.{i}.platform: {override.platform!r} is not a network "
                              f"Parley knows; known: {', '.join(sorted(set(SHIPPED) | set(registry.platforms)))}.")


def build_slack_client(settings: Settings, *, for_outbox: bool = False, metrics: Metrics | None = None) -> WebClient:
    """The outbox's client retries nothing itself: a 429 must pause one channel, not sleep the worker,
    and a dropped connection or 5xx on chat.postMessage may already have posted, so the outbox looks
    the message up before sending again. Interactive calls (Bolt) may retry 429s."""
    handlers: list[RetryHandler] = [] if for_outbox else [RateLimitErrorRetryHandler(max_retry_count=2)]
    if metrics is not None:  # counts posts and 429s for /metrics
        return MeteredWebClient(token=secret(settings.slack_bot_token), base_url=settings.slack_api_url,
                                retry_handlers=handlers, metrics=metrics)
    return WebClient(token=secret(settings.slack_bot_token), base_url=settings.slack_api_url,
                     retry_handlers=handlers)


def storm_policy(settings: Settings) -> StormPolicy:
    """Storm mode (issue 11); its alert also goes where managers read the digest."""
    return StormPolicy(enabled=settings.parley_storm_mode, window=settings.parley_storm_window,
                       update_every=settings.parley_storm_alert_every,
                       card_within=settings.parley_storm_card_within,
                       alert_channels=tuple(filter(None, [settings.parley_digest_channel])))


def build_sender(settings: Settings, store: Store, registry: Registry, client: WebClient, *,
                 on_committed: Callable[[], None], service_level: ServiceLevel, presence: Presence) -> Sender:
    """Replies go out through the registry's connectors; who may send is PARLEY_AGENTS (groups asked
    of Slack)."""
    return Sender(
        store, registry,
        policy=AgentPolicy(allowed=parse_agents(settings.parley_agents),
                           resolve_group=SlackDirectory(client).group_members),
        nudge_template=settings.parley_nudge_template,
        on_committed=on_committed,
        pause_meter=service_level.pause_meter,
        first_response_meter=service_level.first_response_meter,
        csat_kinds=settings.parley_csat,
        presence=presence,
    )


def watch_checks(parley: Parley, client: WebClient) -> None:
    """`parley check` every 15 minutes: App Home's connection lines, and a DM to managers when a check
    that passed starts failing (bot/doctor/watch.py); the spend warning (bot/schedule/spend_watch.py);
    and the daily token-expiry warning (bot/schedule/expiry.py)."""
    settings, store, outbox = parley.settings, parley.store, parley.outbox
    parley.doctor = CheckWatch(lambda: run_checks(settings, parley.connectors, store, utcnow(),
                                                  missing_invites=outbox.missing_invites.hints),
                               store, client, managers=settings.parley_managers, clock=utcnow)
    parley.jobs["doctor"] = (WATCH_INTERVAL, parley.doctor.tick)
    # Managers hear once per threshold and period when a network's spend nears or reaches its budget.
    spend_watch = SpendWatch(store, client, parley.connectors, managers=settings.parley_managers,
                             channel=settings.parley_digest_channel, clock=parley.sender.clock)
    parley.jobs["spend_warning"] = (SPEND_WATCH_INTERVAL, spend_watch.run)
    # A token expiring within a week: managers hear it once a day (bot/schedule/expiry.py).
    parley.jobs["token_expiry"] = (EXPIRY_INTERVAL, TokenExpiryJob(
        store, parley.connectors, client, managers=settings.parley_managers,
        channel=settings.parley_digest_channel, clock=parley.sender.clock).run)


def build_bolt(settings: Settings, client: WebClient) -> tuple[App, AckFirstExecutor]:
    """Handlers run as lazy listeners after an inline ack (commands/acking.py), on threads that wait
    while other requests are being acknowledged (bot/ack_first.py)."""
    handlers = AckFirstExecutor(SLACK_WORKERS)
    bolt = App(client=client, signing_secret=secret(settings.slack_signing_secret) or None,
               request_verification_enabled=not settings.socket_mode, process_before_response=True,
               listener_executor=handlers)
    return bolt, handlers


def build(settings: Settings, *, migrate: bool = True) -> Parley:
    """Wire a Parley process from settings. Raises ConfigError for unusable settings."""
    if settings.slack_bot_token is None:
        raise ConfigError("SLACK_BOT_TOKEN is not set: Parley needs a bot token (xoxb-…) to post to Slack")
    if not settings.socket_mode and settings.slack_signing_secret is None:
        raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify Slack's requests "
                          "(or set SLACK_APP_TOKEN for Socket Mode)")
    if settings.parley_channel is None and not settings.routing.routing:
        raise ConfigError("PARLEY_CHANNEL is not set: name the Slack channel ID for mirrored conversations")
    registry = build_registry(settings)
    check_platforms(settings, registry)
    store = Store.from_url(settings.database_url, migrate=migrate, wait=settings.parley_startup_wait.total_seconds())
    keep_spend(registry, store)
    service_level = ServiceLevel.of(settings.sla)
    metrics = Metrics()
    metrics.registry.register(QueueCollector(store, utcnow))
    metrics.watch_spend(lambda: [(c.platform, u) for c in registry if (u := c.billing(utcnow())) is not None])
    metrics.watch_rate_usage(lambda: [(c.platform, u) for c in registry if (u := c.health.rate_usage) is not None])
    client = build_slack_client(settings, metrics=metrics)
    presence = Presence(store)  # which process holds a SENDING row; a dead one's are taken over at once
    outbox = OutboxWorker(store, build_slack_client(settings, for_outbox=True, metrics=metrics),
                          min_interval=settings.parley_slack_min_interval.total_seconds(),
                          sla_badge=service_level.badge, card_notice=registry.card_notice, parallel=OUTBOX_LANES,
                          storm=storm_policy(settings), presence=presence)
    ingestor = Ingestor(store, Router(settings.routing, settings.parley_channel), on_committed=outbox.wake,
                        pause_meter=service_level.pause_meter)
    bolt, handlers = build_bolt(settings, client)
    sender = build_sender(settings, store, registry, client, on_committed=outbox.wake,
                          service_level=service_level, presence=presence)
    parley = Parley(settings=settings, store=store, connectors=list(registry), ingestor=ingestor, outbox=outbox,
                    sender=sender, service_level=service_level, bolt=bolt, http=Starlette(), metrics=metrics,
                    workers=handlers.sibling(SEND_WORKERS, name="send"))
    # A reply stored but never sent (crash between store and send) is finished or reported.
    parley.jobs["deliver_pending"] = (30.0, sender.deliver_pending)
    # SLA warnings, breaches, escalations and platform-window reminders (bot/reminders.py).
    reminder_tick = ReminderTick.from_settings(settings, store, service_level, client, on_committed=outbox.wake)
    parley.jobs["reminders"] = (settings.parley_reminder_interval.total_seconds(), reminder_tick)
    # Issue 4: the daily digest (sends once per local day at/after PARLEY_DIGEST_TIME; bot/digest.py)
    # and the App Home refresh for people who opened it recently (commands/home.py).
    digest_job = DigestJob(store, service_level, client, managers=settings.parley_managers,
                           channel=settings.parley_digest_channel, at=settings.parley_digest_time,
                           clock=sender.clock)
    parley.jobs["digest"] = (60.0, digest_job.run)
    parley.jobs["app_home"] = (60.0, lambda: republish_homes(parley))
    watch_checks(parley, client)
    register_all(bolt, parley)
    facebook = None
    if settings.facebook_webhooks_enabled:
        facebook = FacebookWebhookConfig(app_secret=secret(settings.facebook_app_secret),
                                         verify_token=secret(settings.facebook_verify_token),
                                         parse=registry.parse_webhook, deliver=parley.deliver_webhook)
    parley.http = build_http_app(bolt=None if settings.socket_mode else bolt, facebook=facebook,
                                 health=parley.health,
                                 slack_signing_secret=secret(settings.slack_signing_secret) or None,
                                 metrics=metrics, acknowledging=handlers.acknowledging,
                                 early=EarlyAnswer(answers=answered_at_once, later=handlers))
    return parley


def cli(argv: list[str] | None = None) -> int:
    """The `parley` console script: every subcommand, with this module's `build` as the wiring."""
    return cli_main(argv, build=build, connectors=lambda settings, store: keep_spend(build_registry(settings), store))


def main(argv: list[str] | None = None) -> int:
    """`python app.py [--host H]` is `parley run [--host H]`."""
    return cli(["run", *(argv or [])])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
