"""The daily credential warning: when a network's token expires within a week (or has expired), its
managers hear it in Slack once per UTC day, before Parley goes deaf on that network.

Each connector says when its credentials expire (`Connector.credential_expiry`: Meta's tokens through
`debug_token`; long-lived user tokens, and Page tokens made from them, last about 60 days unless
renewed — developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived). This job
words it (bot/cards/reminders.token_expiry) and sends it like the digest: a DM to each of
PARLEY_MANAGERS and a post in PARLEY_DIGEST_CHANNEL. A claim "token-expiry:<platform>:<UTC date>",
committed before posting, keeps it to once a day per network whichever replica or restart runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cards.reminders import token_expiry
from bot.delivery.directory import TRANSPORT_ERRORS, SlackDirectory
from bot.replies.permissions import parse_agents
from bot.store.claims import claim_once
from bot.store.database import Store
from bot.store.models import utcnow
from connectors.base import Connector

log = logging.getLogger(__name__)

WARN_WITHIN = timedelta(days=7)
INTERVAL = 3600.0  # seconds: an hourly look (one debug_token call per Meta network) is plenty


@dataclass
class TokenExpiryJob:
    """`run(now)` is the scheduled tick; it returns the platforms it warned about."""

    store: Store
    connectors: Iterable[Connector]
    client: WebClient
    managers: str | None = None
    channel: str | None = None
    clock: Callable[[], datetime] = utcnow

    def run(self, now: datetime | None = None) -> list[str]:
        now = now or self.clock()
        if not (parse_agents(self.managers) or self.channel):
            return []
        warned = []
        for connector in self.connectors:
            expiry = connector.credential_expiry(now)
            if expiry is None or expiry.at - now >= WARN_WITHIN:
                continue
            if not claim_once(self.store, f"token-expiry:{connector.platform}:{now:%Y-%m-%d}", now=now):
                continue
            name = connector.rules.name
            log.warning("%s: %s expires %s", name, expiry.what, expiry.at.isoformat())
            self._post(token_expiry(name, expiry.what, expiry.at, expiry.renew, now).payload())
            warned.append(connector.platform)
        return warned

    def _post(self, message: dict) -> None:
        places: list[str] = []
        for user in SlackDirectory(self.client).members(parse_agents(self.managers)):
            try:
                places.append(self.client.conversations_open(users=user)["channel"]["id"])
            except (SlackApiError, *TRANSPORT_ERRORS):
                log.warning("could not open a DM with manager %s", user, exc_info=True)
        for place in [*places, *([self.channel] if self.channel else [])]:
            try:
                self.client.chat_postMessage(channel=place, **message)
            except (SlackApiError, *TRANSPORT_ERRORS):
                log.warning("could not post the token warning to %s", place, exc_info=True)
