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

Below the figures, each place also gets PNG charts of the last seven local days (bot/reports/
charted.py, drawn in a child process); a chart that cannot be drawn or uploaded is logged and the
figures stand alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cards import ReportFigures, digest
from bot.delivery.directory import SlackDirectory
from bot.replies.permissions import parse_agents
from bot.reports.charted import ChartFile, charted_report
from bot.reports.figures import Period, figures, local_day, yesterday
from bot.reports.render import RenderError
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
    charts: bool = True  # upload the week's charts below the figures

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
        if self.charts and result.delivered:
            self._send_charts(day, now, result.delivered)
        log.info("digest %s sent to %d place(s), %d failed", day, len(result.delivered), len(result.failed))
        return result

    def week_charts(self, now: datetime) -> list[ChartFile]:
        """Charts of the seven local days before `now`'s local day."""
        tz = zone(self.service_level.hours.timezone)
        today = now.astimezone(tz).date()
        week = Period(local_day(today - timedelta(days=7), tz, "").start, local_day(today, tz, "").start,
                      "Last 7 days")
        with self.store.transaction() as session:
            return charted_report(session, week, self.service_level, now).files

    def _send_charts(self, day: str, now: datetime, places: list[str]) -> None:
        try:
            files = self.week_charts(now)
        except RenderError:
            log.exception("digest %s: the charts could not be drawn", day)
            return
        uploads = [{"file": f.png, "filename": f.filename, "title": f.title} for f in files]
        for place in places:
            try:
                self.client.files_upload_v2(channel=place, file_uploads=uploads, initial_comment="Last 7 days")
            except SlackApiError as error:
                log.error("digest %s: the charts to %s failed: %s", day, place, error.response.get("error"))

    def _manager_users(self, failed: list[str]) -> list[str]:
        """Each manager once, sorted, groups expanded (a group that cannot be read is added to `failed`)."""
        return SlackDirectory(self.client).members(parse_agents(self.managers), failed)
