"""Rate-aware polling: each X endpoint's documented window, kept on our side, and X's own headers.

`GET /2/dm_events` allows 15 requests per 15 minutes per user (issue 10's figure; the docs corpus
has no rate-limit table for it): a 60 s poll alone uses all 15, so every backfill page and any
faster poll would meet a 429 and up to 15 minutes of DM delay. So the DM stream polls at most once
a minute and every page request, backfill pages included, is counted in a sliding 15-minute log;
a page that would be the 16th is not asked for (the stream's cursor stays, the next poll carries
on). Every answer's `x-rate-limit-remaining` / `x-rate-limit-reset` are remembered per endpoint, so
a stream whose endpoint has nothing left waits for the reset instead of spending a request on a 429.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import requests

WINDOW = timedelta(minutes=15)
DM_EVENTS = "/2/dm_events"
SEARCH = "/2/tweets/search/recent"
MENTIONS = "/mentions"  # /2/users/:id/mentions, matched by its ending
DM_REQUESTS = 15  # per 15 minutes per user
DM_INTERVAL = timedelta(seconds=60)  # 15 polls / 15 min at most; the log keeps backfill pages within it too


@dataclass
class RequestLog:
    """The times of our own requests to one endpoint; `allow` keeps them within `limit` per window."""

    limit: int
    window: timedelta = WINDOW
    times: deque[datetime] = field(default_factory=deque)

    def allow(self, now: datetime) -> bool:
        """Whether one more request at `now` stays within the limit (and if so, count it)."""
        while self.times and now - self.times[0] >= self.window:
            self.times.popleft()
        if len(self.times) >= self.limit:
            return False
        self.times.append(now)
        return True

    def next_free(self) -> datetime | None:
        return self.times[0] + self.window if len(self.times) >= self.limit else None


@dataclass
class HeaderLimits:
    """The last `x-rate-limit-remaining` / `-reset` X sent per endpoint (a `requests` response hook)."""

    seen: dict[str, tuple[int, datetime]] = field(default_factory=dict)

    def hook(self, response: requests.Response, *args: object, **kwargs: object) -> requests.Response:
        remaining, reset = response.headers.get("x-rate-limit-remaining"), response.headers.get("x-rate-limit-reset")
        endpoint = endpoint_of(response.request.path_url if response.request is not None else "")
        if endpoint and remaining is not None and reset is not None and remaining.isdigit() and reset.isdigit():
            self.seen[endpoint] = (int(remaining), datetime.fromtimestamp(int(reset), UTC))
        return response

    def exhausted_until(self, endpoint: str, now: datetime) -> datetime | None:
        """When `endpoint` has nothing left until its reset: that reset; otherwise None."""
        remaining, reset = self.seen.get(endpoint, (1, now))
        return reset if remaining <= 0 and reset > now else None


def endpoint_of(path: str) -> str | None:
    path = path.split("?", 1)[0]
    if path.startswith(DM_EVENTS):
        return DM_EVENTS
    if path.startswith(SEARCH):
        return SEARCH
    if path.startswith("/2/users/") and path.endswith(MENTIONS):
        return MENTIONS
    return None
