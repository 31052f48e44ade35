"""Parley's membership of the Slack channels it posts cards to.

`chat:write.public` lets the bot post into a public channel it is not in, but Slack then answers
`not_in_channel` to conversations.history/replies (`channels:history` covers only "public channels
that your Slack app has been added to", https://docs.slack.dev/reference/scopes/channels.history) and
delivers none of the channel's `message` events, which are the staff's internal notes. A bot token
cannot see a private channel it was not invited to: every call answers `channel_not_found`.

So Parley joins each public channel routing can target (`conversations.join`, bot scope
`channels:join`, https://docs.slack.dev/reference/methods/conversations.join) when it starts, and
again whenever a call answers a membership error; a private channel cannot be joined
(`method_not_supported_for_channel_type`) and needs a person to `/invite @Parley`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

MEMBERSHIP_ERRORS = frozenset({"not_in_channel", "channel_not_found"})
# Only a channel ID can be joined; a DM (D…) has no membership to fix.
_JOINABLE = re.compile(r"^[CG][A-Z0-9]{2,}$")
T = TypeVar("T")


class NotMember(Exception):
    """The bot is not in `channel` and could not join it; `hint` says what a person must do."""

    def __init__(self, channel: str, error: str, hint: str) -> None:
        super().__init__(hint)
        self.channel, self.error, self.hint = channel, error, hint


class MissingInvites:
    """`hints`: channel → what a person must do for Parley to post there. Each is logged once (again
    only if the reason changes) and forgotten when a post there succeeds."""

    def __init__(self) -> None:
        self.hints: dict[str, str] = {}

    def report(self, channel: str, hint: str) -> None:
        if self.hints.get(channel) != hint:
            log.error("Slack: outbox items for <#%s> wait: %s", channel, hint)
        self.hints[channel] = hint

    def resolved(self, channel: str) -> None:
        if self.hints.pop(channel, None) is not None:
            log.info("Slack: Parley can post to <#%s> again", channel)


def error_of(exc: SlackApiError) -> str | None:
    data = exc.response.data
    return data.get("error") if isinstance(data, dict) else None


def hint(channel: str, why: str) -> str:
    """The plain-words fix for a channel Parley cannot join, keyed on why the join failed."""
    if why == "missing_scope":
        return (f"Parley is not in <#{channel}> and may not join it: add the channels:join bot scope "
                f"(reinstall the app from manifest.yml) or run /invite @Parley in <#{channel}>")
    if why == "is_archived":
        return f"<#{channel}> is archived: unarchive it or route its conversations to another channel"
    return (f"Parley cannot see <#{channel}>: if it is a private channel, run /invite @Parley in it; "
            f"otherwise check the channel ID ({why})")


def join(client: WebClient, channel: str) -> str | None:
    """Join a public channel. None when the bot is now in it (or already was), else Slack's reason:
    `method_not_supported_for_channel_type` for a private channel the bot already sees (so is in),
    `channel_not_found` for one it was not invited to (or a wrong ID), `missing_scope`, `is_archived`.
    Transport errors and 5xx propagate: they say nothing about membership."""
    if not _JOINABLE.match(channel):
        return "channel_not_found"
    try:
        client.conversations_join(channel=channel)
    except SlackApiError as exc:
        if exc.response.status_code >= 500 or exc.response.status_code == 429:
            raise
        return error_of(exc) or f"http_{exc.response.status_code}"
    return None


def retrying_after_join(client: WebClient, channel: str, call: Callable[[], T]) -> T:
    """Run `call`; if Slack answers a membership error, join the channel and run it once more.

    Raises NotMember when the channel cannot be joined (a private channel the bot was not invited
    to, a missing scope, a wrong ID); other errors propagate unchanged.
    """
    try:
        return call()
    except SlackApiError as exc:
        error = error_of(exc)
        if error not in MEMBERSHIP_ERRORS:
            raise
        why = join(client, channel)
        if why is not None and why != "method_not_supported_for_channel_type":
            raise NotMember(channel, error or "", hint(channel, why)) from exc
        if why is None:
            log.info("Slack: joined <#%s> after %s", channel, error)
    try:
        return call()
    except SlackApiError as exc:
        if error_of(exc) in MEMBERSHIP_ERRORS:  # joined, yet still refused: a person must look
            raise NotMember(channel, error_of(exc) or "", hint(channel, error_of(exc) or "")) from exc
        raise


def join_all(client: WebClient, channels: Iterable[str | None], missing: MissingInvites) -> None:
    """On start: join every channel routing can target; report each one Parley is not in and cannot
    join to `missing` (one log line per channel, naming the `/invite @Parley` it needs)."""
    for channel in dict.fromkeys(c for c in channels if c):
        try:
            why = join(client, channel)
        except (SlackApiError, OSError) as exc:  # Slack unreachable: the outbox joins on first use
            log.warning("Slack: could not check membership of <#%s> at start (%s)", channel, exc)
            continue
        if why is None:
            log.info("Slack: Parley is in <#%s>", channel)
        elif why != "method_not_supported_for_channel_type":  # that one: a private channel it is in
            missing.report(channel, hint(channel, why))
