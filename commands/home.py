"""App Home: each person's tab — their open conversations with SLA state, unassigned ones, overdue
ones, the team's figures for today and each platform's connection health.

Published with views.publish when Slack sends `app_home_opened` (Home tab only, not Messages), and
kept fresh by `republish_homes`, a scheduled job that republishes for everyone who opened Home
today or yesterday (local business-hours dates). Who opened it is remembered in Claim rows
"home-seen:<user>:<local date>", so a restart or another replica knows too; rows older than a few
days are pruned by the job. A minute-old Home is the price of not tracking every change.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.cards import PlatformHealthRow, home_view
from bot.cards.home import HOME_ROWS_MAX
from bot.reports.figures import figures, listed_rows, overdue_ids, parse_period, today_so_far
from bot.reports.headline import headline
from bot.reports.overdue import waiting
from bot.runtime import Parley
from bot.sla.hours import zone
from bot.store.claims import claim_once, prune
from bot.store.models import ACTIVE, Claim, Conversation, Status
from commands.acking import after_ack
from commands.lookup import assigned_ids, id_list
from connectors.base import Connector
from connectors.checks import Status as CheckStatus

log = logging.getLogger(__name__)

HOME_LIST_MAX = 200  # rows queried per list; the builder shows a few and names the rest
HOME_SEEN_PREFIX = "home-seen:"
_SEEN_KEPT = timedelta(days=3)


def home_seen_key(user_id: str, local_date: str) -> str:
    return f"{HOME_SEEN_PREFIX}{user_id}:{local_date}"


def health_rows(connectors: list[Connector], now: datetime) -> list[PlatformHealthRow]:
    return [PlatformHealthRow(name=c.rules.name, ok=c.health.ok,
                              last_success_at=c.health.last_success_at, last_error=c.health.last_error,
                              paused_until=c.health.paused_until, usage=c.usage(now))
            for c in connectors]


def unassigned_open(session: Session, limit: int = HOME_LIST_MAX) -> list[int]:
    """The ids of open conversations (waiting on us) with no assignee, oldest wait first."""
    waited = func.coalesce(Conversation.waiting_since, Conversation.first_seen_at)
    return id_list(session.exec(select(col(Conversation.id)).where(
        ACTIVE, Conversation.status == Status.OPEN, col(Conversation.assignee).is_(None))
        .order_by(waited.asc(), col(Conversation.id).asc()).limit(limit)).all())


def build_home(parley: Parley, user_id: str, now: datetime) -> dict:
    """The Home view of `user_id` as of `now`."""
    service_level = parley.service_level
    tz = zone(service_level.hours.timezone)
    with parley.store.transaction() as session:
        waits = waiting(session, service_level, now)  # judged once for every figure below
        # Only the first HOME_ROWS_MAX rows of a list are drawn (and loaded); the others are named by "#N".
        mine, unassigned, overdue = listed_rows(
            session, [assigned_ids(session, user_id, HOME_LIST_MAX), unassigned_open(session),
                      overdue_ids(waits, HOME_LIST_MAX)], service_level, now, drawn=HOME_ROWS_MAX)
        today = figures(session, today_so_far(now, tz), service_level, now, waits=waits)
        # The same periods as `/social stats` would read now: today so far, and "7d".
        headlines = (headline(session, today_so_far(now, tz), service_level, now, waits),
                     headline(session, parse_period("7d", now), service_level, now, waits))
    problems = [c.line for c in (parley.doctor.latest if parley.doctor else []) if c.status is not CheckStatus.OK]
    return home_view(user_id=user_id, mine=mine, unassigned=unassigned, overdue=overdue, today=today,
                     platforms=health_rows(parley.connectors, now), now=now, headline=headlines, checks=problems)


def publish_home(parley: Parley, client: WebClient, user_id: str, now: datetime) -> bool:
    """views.publish the user's Home; False (logged) when Slack refuses it."""
    try:
        client.views_publish(user_id=user_id, view=build_home(parley, user_id, now))
    except SlackApiError as error:
        log.error("publishing App Home for %s failed: %s", user_id, error.response.get("error"))
        return False
    return True


def remember_home_opened(parley: Parley, user_id: str, now: datetime) -> None:
    local_date = now.astimezone(zone(parley.service_level.hours.timezone)).date().isoformat()
    claim_once(parley.store, home_seen_key(user_id, local_date), now=now)


def recent_home_users(parley: Parley, now: datetime) -> list[str]:
    """Users who opened Home on the local date of `now` or the day before, in id order."""
    today = now.astimezone(zone(parley.service_level.hours.timezone)).date()
    dates = {today.isoformat(), (today - timedelta(days=1)).isoformat()}
    with parley.store.transaction() as session:
        keys = session.exec(select(Claim.key).where(
            col(Claim.key).startswith(HOME_SEEN_PREFIX, autoescape=True),
            Claim.claimed_at >= now - timedelta(days=2))).all()
    users = set()
    for key in keys:
        user_id, _, local_date = key.removeprefix(HOME_SEEN_PREFIX).rpartition(":")
        if user_id and local_date in dates:
            users.add(user_id)
    return sorted(users)


def republish_homes(parley: Parley, now: datetime | None = None) -> int:
    """The scheduled refresh: republish every recent user's Home; returns how many were published."""
    now = now or parley.sender.clock()
    prune(parley.store, prefix=HOME_SEEN_PREFIX, older_than=_SEEN_KEPT, now=now)
    return sum(publish_home(parley, parley.bolt.client, user_id, now) for user_id in recent_home_users(parley, now))


def register(app: App, parley: Parley) -> None:
    @after_ack(app.event("app_home_opened"))
    def home_opened(event: dict, client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return  # the Messages tab also sends this event
        now = parley.sender.clock()
        remember_home_opened(parley, event["user"], now)
        publish_home(parley, client, event["user"], now)
