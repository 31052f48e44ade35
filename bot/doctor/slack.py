"""Slack probes for `parley check`: the bot token signs in, its scopes cover the manifest's, the
app-level token opens Socket Mode, and Parley is in every channel routing can target.

Granted scopes come from the `x-oauth-scopes` header Slack sends with Web API answers
(https://docs.slack.dev/authentication/tokens: "the scopes a token has are listed in the
x-oauth-scopes HTTP header"). An app-level token needs `connections:write` for
`apps.connections.open` (https://docs.slack.dev/reference/methods/apps.connections.open).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.delivery.membership import hint, join
from connectors.checks import Check, fail, ok

T = "slack"
# manifest.yml's bot scopes (tests/bot/doctor/test_slack.py keeps the two equal).
BOT_SCOPES = ("channels:history", "channels:join", "channels:read", "chat:write", "chat:write.public", "commands",
              "files:write", "groups:history", "im:write", "metadata.message:read", "usergroups:read", "users:read")
_REINSTALL = "add them under OAuth & Permissions (or recreate the app from manifest.yml) and reinstall the app"


@dataclass(frozen=True)
class SlackTarget:
    bot_token: str
    api_url: str
    app_token: str | None  # Socket Mode
    channels: tuple[str, ...]  # every channel routing can target (IDs)


def _error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        data = exc.response.data
        return str(data.get("error") if isinstance(data, dict) else f"HTTP {exc.response.status_code}")
    return " ".join(str(exc).split())[:120]


def check_slack(target: SlackTarget) -> list[Check]:
    client = WebClient(token=target.bot_token, base_url=target.api_url, timeout=10)
    try:
        identity = client.auth_test()
    except (SlackApiError, SlackRequestError, OSError) as exc:
        return [fail(T, "slack.auth", f"the bot token does not work (auth.test: {_error(exc)})",
                     "set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from OAuth & Permissions")]
    checks = [ok(T, "slack.auth", f"signed in as @{identity.get('user')} in {identity.get('team')}")]
    granted = {s.strip() for s in (identity.headers.get("x-oauth-scopes") or "").split(",") if s.strip()}
    missing = [s for s in BOT_SCOPES if s not in granted]
    checks.append(fail(T, "slack.scopes", f"the bot token lacks {', '.join(missing)}", _REINSTALL) if missing
                  else ok(T, "slack.scopes", f"all {len(BOT_SCOPES)} bot scopes of manifest.yml granted"))
    if target.app_token:
        checks.append(_socket_mode(target))
    checks.extend(_membership(client, target.channels))
    return checks


def _socket_mode(target: SlackTarget) -> Check:
    try:
        WebClient(base_url=target.api_url, timeout=10).apps_connections_open(app_token=target.app_token or "")
    except (SlackApiError, SlackRequestError, OSError) as exc:
        return fail(T, "slack.socket", f"Socket Mode cannot connect (apps.connections.open: {_error(exc)})",
                    "set SLACK_APP_TOKEN to an app-level token (xapp-…, Basic Information → App-Level Tokens) "
                    "with the connections:write scope, and turn Socket Mode on")
    return ok(T, "slack.socket", "Socket Mode connects with the app-level token")


def _membership(client: WebClient, channels: Iterable[str]) -> list[Check]:
    """Joins each public channel (as `parley run` does); a private one needs a person's /invite."""
    checks = []
    for channel in dict.fromkeys(channels):
        try:
            why = join(client, channel)
        except (SlackApiError, OSError) as exc:
            checks.append(fail(T, f"slack.channel.{channel}", f"cannot check <#{channel}> ({_error(exc)})",
                               "check Slack's status and run `parley check` again"))
            continue
        if why in (None, "method_not_supported_for_channel_type"):  # the latter: a private channel it is in
            checks.append(ok(T, f"slack.channel.{channel}", f"Parley is in <#{channel}>"))
        else:
            checks.append(fail(T, f"slack.channel.{channel}", f"Parley is not in <#{channel}> ({why})",
                               hint(channel, why)))
    return checks
