"""What Parley asks Slack about people: user-group members (for the send policy, escalations and the
digest — asked here and nowhere else), DM channels, and the workspace URL for thread links.

Every call happens outside the database transaction. A failure is logged and answered with "not
known now" (the tick then defers what needs it), never raised into the scheduler — except
`group_members`, which raises so that each caller decides what an unknown group means.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery.slack import TRANSPORT_ERRORS
from bot.replies.permissions import GROUP_PREFIX

log = logging.getLogger(__name__)


def mention(ids: Iterable[str]) -> str:
    """Slack ids as pings: users `<@U1>`, user groups `<!subteam^S1>`; sorted, so it reads the same."""
    return " ".join(f"<!subteam^{i}>" if i.startswith(GROUP_PREFIX) else f"<@{i}>" for i in sorted(set(ids)))


def thread_url(base: str | None, channel: str, ts: str | None) -> str | None:
    """A link to a thread: the workspace URL + archives/<channel>/p<ts digits>; None if unknown."""
    if ts is None or not base:
        return None
    return f"{base.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


class SlackDirectory:
    """Lookups with `client` (None: nothing can be looked up — no DMs, no links). DM channel ids and
    the workspace URL never change, so they are asked once per process."""

    def __init__(self, client: WebClient | None) -> None:
        self._client = client
        self._dms: dict[str, str] = {}
        self._base: str | None = None

    def group_members(self, group_id: str) -> list[str]:
        """The user ids in Slack user group `group_id` (usergroups.users.list — the one place Parley
        asks). Raises SlackApiError or a transport error: the caller decides what "unknown" means
        (the send policy refuses, escalations and the digest skip the group). No client: no members."""
        if self._client is None:
            return []
        return list(self._client.usergroups_users_list(usergroup=group_id).get("users") or [])

    def members(self, ids: Iterable[str], failed: list[str] | None = None) -> list[str]:
        """The user ids named, with each user group replaced by its members, sorted and each once.

        A group Slack will not list is left out, logged and appended to `failed` when given."""
        users: set[str] = set()
        for slack_id in ids:
            if not slack_id.startswith(GROUP_PREFIX):
                users.add(slack_id)
                continue
            try:
                users.update(self.group_members(slack_id))
            except (SlackApiError, *TRANSPORT_ERRORS):
                log.warning("cannot list the members of user group %s; they are left out now", slack_id,
                            exc_info=True)
                if failed is not None:
                    failed.append(slack_id)
        return sorted(users)

    def dm_channel(self, user_id: str) -> str | None:
        """The app's DM channel with `user_id` (conversations.open), or None when Slack refuses."""
        if user_id in self._dms:
            return self._dms[user_id]
        if self._client is None:
            return None
        try:
            channel = self._client.conversations_open(users=user_id)["channel"]["id"]
        except (SlackApiError, *TRANSPORT_ERRORS):
            log.warning("cannot open a DM with %s for an escalation", user_id, exc_info=True)
            return None
        self._dms[user_id] = channel
        return channel

    def workspace_url(self) -> str | None:
        """"https://acme.slack.com/" (auth.test, asked until it answers once), or None."""
        if self._base is None and self._client is not None:
            try:
                self._base = str(self._client.auth_test().get("url") or "")
            except (SlackApiError, *TRANSPORT_ERRORS):
                log.warning("auth.test failed; reminders go without thread links", exc_info=True)
        return self._base or None

    def permalink(self, channel: str, ts: str | None) -> str | None:
        """A link to a thread: the workspace URL + archives/<channel>/p<ts digits>; None if unknown."""
        return thread_url(self._base, channel, ts)  # never asks Slack: workspace_url() is called first
