"""The daily digest: yesterday's team figures (bot/reports.py) by DM to each manager and to
PARLEY_DIGEST_CHANNEL, once per local day, at or after PARLEY_DIGEST_TIME.

"Local" is the business-hours time zone. A tick before the digest time does nothing; the first tick
at or after it claims "digest:<local date>" (bot/claims.py) and sends. The claim is committed before
anything is posted, so a restart, a second job object or another replica never sends the day's
digest again. The price is at-most-once: a recipient whose post fails (Slack error) is logged and
not retried that day, the other recipients still get theirs.

Managers are Slack user ids (DM opened with conversations.open) and/or user-group ids (expanded
with usergroups.users.list when the digest is sent). With no manager and no channel, nothing is
claimed or sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cards import ReportFigures, digest
from bot.delivery.directory import SlackDirectory
from bot.replies.permissions import parse_agents
from bot.reports.figures import figures, yesterday
from bot.reports.service_level import ServiceLevel
from bot.sla.hours import zone
from bot.store.claims import claim_once
from bot.store.database import Store
from bot.store.models import utcnow

log = logging.getLogger(__name__)


def claim_key(local_day: str) -> str:
    return f"digest:{local_day}"


def parse_clock(value: str) -> time:
    """"09:00" → time(9, 0) (settings have already checked the shape)."""
    hours, minutes = value.strip().split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class DigestSent:
    """What one firing did: the local day, the figures sent, where they went and what failed."""

    day: str
    figures: ReportFigures
    delivered: list[str] = field(default_factory=list)  # Slack channel ids (DM channels included)
    failed: list[str] = field(default_factory=list)  # user, group or channel ids, with nothing posted


@dataclass
class DigestJob:
    """`run(now)` is the scheduled tick (every minute is plenty)."""

    store: Store
    service_level: ServiceLevel
    client: WebClient
    managers: str | None = None
    channel: str | None = None
    at: str = "09:00"
    clock: Callable[[], datetime] = utcnow

    @property
    def has_recipients(self) -> bool:
        return bool(parse_agents(self.managers) or self.channel)

    def due(self, now: datetime) -> str | None:
        """The local date (ISO) whose digest is due at `now`, or None before the digest time."""
        local = now.astimezone(zone(self.service_level.hours.timezone))
        return local.date().isoformat() if local.time() >= parse_clock(self.at) else None

    def run(self, now: datetime | None = None) -> DigestSent | None:
        """Send today's digest if it is due and nobody has sent it yet; None when nothing was sent."""
        now = now or self.clock()
        day = self.due(now)
        if day is None or not self.has_recipients:
            return None
        if not claim_once(self.store, claim_key(day), now=now):
            return None
        tz = zone(self.service_level.hours.timezone)
        with self.store.transaction() as session:
            result = DigestSent(day, figures(session, yesterday(now, tz), self.service_level, now))
        message = digest(result.figures, now=now).payload()
        for user in self._manager_users(result.failed):
            try:
                dm = self.client.conversations_open(users=user)["channel"]["id"]
                self.client.chat_postMessage(channel=dm, **message)
                result.delivered.append(dm)
            except SlackApiError as error:
                log.error("digest %s: the DM to %s failed: %s", day, user, error.response.get("error"))
                result.failed.append(user)
        if self.channel:
            try:
                self.client.chat_postMessage(channel=self.channel, **message)
                result.delivered.append(self.channel)
            except SlackApiError as error:
                log.error("digest %s: posting to %s failed: %s", day, self.channel, error.response.get("error"))
                result.failed.append(self.channel)
        log.info("digest %s sent to %d place(s), %d failed", day, len(result.delivered), len(result.failed))
        return result

    def _manager_users(self, failed: list[str]) -> list[str]:
        """Each manager once, sorted, groups expanded (a group that cannot be read is added to `failed`)."""
        return SlackDirectory(self.client).members(parse_agents(self.managers), failed)
