"""All of `parley check` at once, in a fixed order (Slack, each network, database), and its report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from slack_sdk import WebClient

from bot.config_file import ConfigError
from bot.delivery.slack_startup import resolve_channel
from bot.doctor.database import check_database
from bot.doctor.slack import SlackTarget, check_slack
from bot.doctor.spend import check_spend
from bot.settings import Settings, secret
from bot.store.database import Store
from connectors.base import Connector
from connectors.checks import Check, Status, fail


def routed_channels(settings: Settings) -> list[str]:
    """PARLEY_CHANNEL and every routing rule's channel, once each, in order."""
    channels = [settings.parley_channel, *(rule.channel for rule in settings.routing.routing)]
    return list(dict.fromkeys(c for c in channels if c))


def _slack(settings: Settings) -> list[Check]:
    bot_token, api_url = secret(settings.slack_bot_token), settings.slack_api_url
    if not bot_token:
        return [fail("slack", "slack.auth", "SLACK_BOT_TOKEN is not set",
                     "set it to the Bot User OAuth Token (xoxb-…) from OAuth & Permissions")]
    channels, problems = [], []
    for channel in routed_channels(settings):
        if channel.startswith("#"):
            try:
                from_name = resolve_channel(WebClient(token=bot_token, base_url=api_url, timeout=10), channel, 0)
            except ConfigError as exc:
                problems.append(fail("slack", f"slack.channel.{channel}", str(exc).split(";")[0],
                                     f"run /invite @Parley in {channel}, or use its channel ID"))
                continue
            channel = from_name
        channels.append(channel)
    target = SlackTarget(bot_token, api_url, secret(settings.slack_app_token) or None, tuple(channels))
    return [*check_slack(target), *problems]


def run_checks(settings: Settings, connectors: Iterable[Connector], store: Store | None, now: datetime, *,
               subscribe: bool = False, missing_invites: Mapping[str, str] | None = None) -> list[Check]:
    """Every check, Slack first. `store` None: the database could not be opened (reported as such)."""
    checks = _slack(settings)
    connectors = list(connectors)
    for connector in connectors:
        checks.extend(connector.doctor(now, subscribe=subscribe))
    checks.extend(check_spend(connectors, now))
    if store is None:
        checks.append(fail("database", "database.reachable", "cannot open DATABASE_URL",
                           "check DATABASE_URL and that the server is running"))
    else:
        checks.extend(check_database(store, missing_invites=missing_invites))
    return checks


def report(checks: Iterable[Check]) -> tuple[str, int]:
    """The lines to print and the exit code: 1 when any check failed (warnings do not fail)."""
    checks = list(checks)
    failed = sum(c.status is Status.FAIL for c in checks)
    warned = sum(c.status is Status.WARN for c in checks)
    summary = (f"{failed} problem{'s' if failed != 1 else ''} to fix" if failed else "all good") + (
        f", {warned} warning{'s' if warned != 1 else ''}" if warned else "")
    return "\n".join([*(c.line for c in checks), summary]), 1 if failed else 0
