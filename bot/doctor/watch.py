"""The scheduled `parley check`: keeps the latest results for App Home and warns managers in Slack when
a check that passed starts failing (an expired or revoked token, a lost permission, a channel Parley
was removed from): one DM per manager per transition.

Alerts go straight to each manager's DM rather than through the outbox: outbox items are ordered
behind a conversation, and a health alert may have none. A claim per (check, manager, transition)
keeps the DM to one even if the job runs twice; while the check keeps failing nothing is repeated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery.directory import TRANSPORT_ERRORS, SlackDirectory
from bot.doctor.spend import SPEND
from bot.replies.permissions import parse_agents
from bot.store.claims import claim_once
from bot.store.database import Store
from connectors.checks import Check, Status

log = logging.getLogger(__name__)

WATCH_INTERVAL = 15 * 60.0  # seconds; each run costs a few billed X reads (connectors/x/doctor.py)


class CheckWatch:
    """`run` is the whole of `parley check` (bot/doctor/run.py) bound to this process's settings."""

    def __init__(self, run: Callable[[], list[Check]], store: Store, client: WebClient, *,
                 managers: str | None, clock: Callable[[], datetime]) -> None:
        self.run, self.store, self.client, self.managers, self.clock = run, store, client, managers, clock
        self.latest: list[Check] = []
        self._passed: set[str] = set()  # names that passed on the previous run

    def tick(self) -> list[Check]:
        """Run every check; DM the managers about each one that passed last time and fails now."""
        now, checks = self.clock(), self.run()
        self.latest = checks
        # Spend has its own warning, once per threshold and period (bot/schedule/spend_watch.py).
        broke = [c for c in checks if c.status is Status.FAIL and c.name in self._passed
                 and not c.name.endswith(f".{SPEND}")]
        self._passed = {c.name for c in checks if c.status is not Status.FAIL}
        for check in broke:
            log.error("parley check: %s", check.line)
            self._alert(check, now)
        return broke

    def _alert(self, check: Check, now: datetime) -> None:
        text = f"⚠️ Parley stopped passing a check: {check.detail}.\nFix: {check.fix}"
        for user in SlackDirectory(self.client).members(parse_agents(self.managers)):
            if not claim_once(self.store, f"check-alert:{check.name}:{user}:{now:%Y%m%d%H%M}", now=now):
                continue
            try:
                channel = self.client.conversations_open(users=user)["channel"]["id"]
                self.client.chat_postMessage(channel=channel, text=text)
            except (SlackApiError, *TRANSPORT_ERRORS):
                log.warning("could not warn manager %s about %s", user, check.name, exc_info=True)
