"""The Slack checks `parley run` makes before it starts: is Slack reachable, are the tokens the right
ones, and which channel ID a `#name` in PARLEY_CHANNEL stands for.

Token *types* are checked by the settings before any call (bot/settings.py); here Slack itself is
asked. Connection errors and 5xx answers are retried with backoff (slack_sdk's retry handlers) for
up to `wait` seconds; every failure ends as a ConfigError of one line naming the variable to fix.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from http.client import RemoteDisconnected
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.config_file import ConfigError

log = logging.getLogger(__name__)
# slack_sdk logs every failed attempt at ERROR; at start-up the outcome is one line of our own.
_sdk_log = logging.getLogger(__name__ + ".sdk")

# Answers meaning "this token will never work": retrying cannot help, the operator must change it.
_REFUSED = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
            "not_allowed_token_type", "no_permission", "missing_scope", "team_access_not_granted"}


@dataclass(frozen=True)
class SlackStartup:
    """What the start-up check needs of the settings (plain values: this layer sits below them)."""

    bot_token: str
    api_url: str
    app_token: str | None = None  # Socket Mode
    channel: str | None = None  # an ID, or '#name' to resolve
    wait: float = 30.0  # seconds of retrying an unreachable Slack before giving up


class _Backoff(RetryIntervalCalculator):
    """0.5 s doubling, never more than 5 s apart."""

    def calculate_sleep_duration(self, current_attempt: int) -> float:
        return min(0.5 * 2**current_attempt, 5.0)


class _ServerErrors(ServerErrorRetryHandler):
    """Any 5xx (slack_sdk's own handler retries only 500 and 503)."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        return response is not None and response.status_code >= 500


def retry_handlers(wait: float) -> list[RetryHandler]:
    """Handlers whose backoff adds up to about `wait` seconds."""
    backoff, count, total = _Backoff(), 0, 0.0
    while total < wait:
        total += backoff.calculate_sleep_duration(count)
        count += 1
    errors = [URLError, ConnectionResetError, RemoteDisconnected, TimeoutError, socket.timeout]
    return [ConnectionErrorRetryHandler(max_retry_count=count, interval_calculator=backoff, error_types=errors),
            _ServerErrors(max_retry_count=count, interval_calculator=backoff)]


def _call(client: WebClient, method: str, variable: str, wait: float, **params: object) -> dict:
    """One Web API call with the start-up retries; failures become a ConfigError naming `variable`."""
    try:
        return client.api_call(method, params=params or None).data  # type: ignore[return-value]
    except SlackApiError as exc:
        status = exc.response.status_code
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        if status >= 500 or status == 429:
            raise _unreachable(client, f"HTTP {status}", wait) from None
        raise ConfigError(_refusal(variable, method, str(error or f"HTTP {status}"))) from None
    except (URLError, OSError, SlackRequestError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise _unreachable(client, " ".join(str(reason).split())[:120], wait) from None


def _unreachable(client: WebClient, reason: str, wait: float) -> ConfigError:
    return ConfigError(f"SLACK_API_URL: cannot reach Slack at {client.base_url} after retrying for "
                       f"{wait:.0f}s ({reason}); check the network, proxy or Slack's status")


def _refusal(variable: str, method: str, error: str) -> str:
    if variable == "SLACK_APP_TOKEN":
        fix = ("use the app-level token (xapp-…) from Basic Information → App-Level Tokens, with the "
               "connections:write scope")
    else:
        fix = ("use the Bot User OAuth Token (xoxb-…) from OAuth & Permissions; reinstall the app if it "
               "was revoked")
    return f"{variable}: Slack refused it ({method}: {error}); {fix}"


def resolve_channel(client: WebClient, name: str, wait: float) -> str:
    """The ID of the channel called `name` ('#support'), among those the bot can list."""
    wanted, cursor = name.lstrip("#"), None
    while True:
        try:
            page = _call(client, "conversations.list", "SLACK_BOT_TOKEN", wait, limit=1000,
                         types="public_channel,private_channel", exclude_archived=True,
                         **({"cursor": cursor} if cursor else {}))
        except ConfigError as exc:
            raise ConfigError(f"PARLEY_CHANNEL: cannot look up {name} ({exc}); use the channel ID "
                              "(channel details → About, like C0123ABCD)") from None
        for channel in page.get("channels") or []:
            if channel.get("name") == wanted:
                return str(channel["id"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            raise ConfigError(f"PARLEY_CHANNEL: no channel named {name} that Parley can see; use the channel "
                              "ID (channel details → About, like C0123ABCD), or invite @Parley to a private one")


def socket_mode_client(api_url: str, wait: float) -> WebClient:
    """The Web API client Socket Mode opens (and reopens) its connection with: a 5xx or a dropped
    connection on apps.connections.open is retried, not fatal (the call only hands out a URL)."""
    return WebClient(base_url=api_url, timeout=10, retry_handlers=retry_handlers(wait))


def check_slack(startup: SlackStartup) -> str | None:
    """Ask Slack whether the tokens work (auth.test; apps.connections.open in Socket Mode) and
    return PARLEY_CHANNEL as an ID. Raises ConfigError with one line naming the variable."""
    handlers = retry_handlers(startup.wait)
    _sdk_log.setLevel(logging.CRITICAL)
    bot = WebClient(token=startup.bot_token, base_url=startup.api_url, timeout=10, retry_handlers=handlers,
                    logger=_sdk_log)
    identity = _call(bot, "auth.test", "SLACK_BOT_TOKEN", startup.wait)
    # DEBUG: a start-up that fails later (e.g. the database) should still print one line only.
    log.debug("Slack: signed in as %s in %s", identity.get("user"), identity.get("team"))
    if startup.app_token:
        app = WebClient(token=startup.app_token, base_url=startup.api_url, timeout=10, retry_handlers=handlers,
                        logger=_sdk_log)
        _call(app, "apps.connections.open", "SLACK_APP_TOKEN", startup.wait)
    channel = startup.channel
    if channel and channel.startswith("#"):
        channel = resolve_channel(bot, channel, startup.wait)
        log.info("Slack: PARLEY_CHANNEL %s is %s", startup.channel, channel)
    return channel
