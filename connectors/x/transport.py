"""HTTP plumbing under tweepy: a configurable base URL, timeouts, and retries of idempotent reads.

tweepy 4 hard-codes `https://api.twitter.com`, so `X_API_URL` (the loopback emulator in tests and
the demo, or a proxy) is honoured by an adapter mounted on the client's `requests` session that
rewrites each URL before it is sent. OAuth 1.0a signs the URL, so a rewritten user-context request
is signed again for the address it really goes to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import requests
import tweepy
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

TWEEPY_HOST = "https://api.twitter.com"
DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read: tweepy sets none, and a hung socket would stall a poll

FIFTEEN_MINUTES = timedelta(minutes=15)

Resign = Callable[[requests.PreparedRequest], object]


def read_retry(total: int = 3, backoff: float = 0.5) -> Retry:
    """Retry GETs on 500/502/503/504 with exponential backoff; never POSTs (a retried POST can
    post twice) and never 429s (those pause the stream instead of sleeping here)."""
    return Retry(
        total=total,
        connect=total,
        read=total,
        status=total,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        backoff_factor=backoff,
        respect_retry_after_header=False,
        raise_on_status=False,  # hand the last 5xx back so tweepy raises TwitterServerError
    )


class BaseUrlAdapter(HTTPAdapter):
    """Sends requests addressed to tweepy's fixed host to `base_url` instead (http or https)."""

    def __init__(self, base_url: str, *, retry: Retry | None = None, resign: Resign | None = None) -> None:
        super().__init__(max_retries=retry or Retry(0, read=False))
        self.base_url = base_url.rstrip("/")
        self.resign = resign

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = request.url or ""
        if url.startswith(TWEEPY_HOST) and self.base_url != TWEEPY_HOST:
            request.url = self.base_url + url[len(TWEEPY_HOST):]
            if self.resign is not None and (request.headers.get("Authorization") or "").startswith("OAuth "):
                self.resign(request)
        return super().send(request, stream=stream, timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
                            verify=verify, cert=cert, proxies=proxies)


def mount_base_url(session: requests.Session, base_url: str, *, retry: Retry | None = None,
                   resign: Resign | None = None) -> BaseUrlAdapter:
    """Route every `https://api.twitter.com/...` request of `session` through a BaseUrlAdapter."""
    adapter = BaseUrlAdapter(base_url, retry=retry, resign=resign)
    session.mount(TWEEPY_HOST + "/", adapter)
    return adapter


def reset_time(exc: tweepy.TooManyRequests, now: datetime) -> datetime:
    # No reset header: X's windows are 15 minutes, so waiting one window is always enough.
    if exc.reset_time is None:
        return now.replace(microsecond=0) + FIFTEEN_MINUTES
    return datetime.fromtimestamp(exc.reset_time, UTC)


def detail(exc: tweepy.HTTPException) -> str:
    return "; ".join(exc.api_messages) or f"HTTP {exc.response.status_code}"


def problem_type(exc: tweepy.HTTPException) -> str:
    try:
        body = exc.response.json()
    except ValueError:
        return ""
    return str(body.get("type", "")) if isinstance(body, dict) else ""
