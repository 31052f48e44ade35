"""The managers' warning when a network's spend reaches a budget threshold: 80% and 100% of the daily
or monthly budget, and each further threshold at which the budget stops a kind of reading (searches,
then own mentions, then DMs: connectors/x/spend.py).

Each connector that bills says which thresholds its current day and month have reached
(`Connector.billing`, connectors/usage.py); this job only formats and posts. A threshold is posted
once per period across restarts and replicas: the job runs only on the scheduler leader
(bot/schedule/leader.py), and each threshold's claim row ("spend-warning:x:month:2026-12:80",
bot/store/claims.py) is committed before anything is posted, as the digest does: at most once, a
failed post is logged, not repeated. When several thresholds are first seen together (a restart
after a busy hour), one message names the highest and the lower ones are claimed with it.

Recipients are the digest's: each manager by DM (groups expanded) and PARLEY_DIGEST_CHANNEL. With
neither, nothing is claimed, so a later configured recipient still hears of a threshold reached.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cards.spend import spend_warning
from bot.delivery.directory import TRANSPORT_ERRORS, SlackDirectory
from bot.replies.permissions import parse_agents
from bot.store.claims import claim_once
from bot.store.database import Store
from bot.store.models import utcnow
from connectors.base import Connector
from connectors.usage import Threshold

log = logging.getLogger(__name__)

SPEND_WATCH_INTERVAL = 60.0  # seconds: reading the ledger's counts is one small query per network


def claim_key(platform: str, threshold: Threshold) -> str:
    return f"spend-warning:{platform}:{threshold.key}"


@dataclass
class SpendWatch:
    """`run(now)` is the scheduled tick; it returns the thresholds it posted about."""

    store: Store
    client: WebClient
    connectors: Iterable[Connector]
    managers: str | None = None
    channel: str | None = None
    clock: Callable[[], datetime] = utcnow

    def run(self, now: datetime | None = None) -> list[Threshold]:
        now = now or self.clock()
        if not (parse_agents(self.managers) or self.channel):
            return []
        posted = []
        for connector in self.connectors:
            try:
                usage = connector.billing(now)
            except Exception:  # the ledger's database may be briefly away: try again next tick
                log.warning("%s: could not read what was billed", connector.platform, exc_info=True)
                continue
            if usage is None:
                continue
            fresh = [t for t in usage.crossed if claim_once(self.store, claim_key(connector.platform, t), now=now)]
            if not fresh:
                continue
            top = fresh[-1]  # `crossed` is lowest first
            log.warning("%s spend reached %s (%s)", usage.network, top.words, usage.summary())
            self._post(spend_warning(usage, top).payload(), top)
            posted.append(top)
        return posted

    def _post(self, message: dict, threshold: Threshold) -> None:
        failed: list[str] = []
        for user in SlackDirectory(self.client).members(parse_agents(self.managers), failed):
            try:
                dm = self.client.conversations_open(users=user)["channel"]["id"]
                self.client.chat_postMessage(channel=dm, **message)
            except (SlackApiError, *TRANSPORT_ERRORS):
                log.warning("spend warning %s: the DM to %s failed", threshold.key, user, exc_info=True)
        if self.channel:
            try:
                self.client.chat_postMessage(channel=self.channel, **message)
            except (SlackApiError, *TRANSPORT_ERRORS):
                log.warning("spend warning %s: posting to %s failed", threshold.key, self.channel, exc_info=True)
        for group in failed:
            log.warning("spend warning %s: could not list the members of %s", threshold.key, group)
