"""Talking to Graph: the client, its errors, its timestamps and usage headers, refusals in plain words.

Usage headers (https://developers.facebook.com/docs/graph-api/overview/rate-limiting/): Graph reports on
most answers how much of a rate limit is used, as percentages: `X-App-Usage` and `X-Page-Usage`
({"call_count": 28, "total_cputime": 25, "total_time": 25}) and `X-Business-Use-Case-Usage` (per
business object id, a list of such entries with a `type` and `estimated_time_to_regain_access` in
minutes) — Page tokens are under the Business Use Case limits. "Once a rate limit is reached, any
subsequent requests … will fail" until usage drops, so polling slows down before that (`paced_until`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import facebook

from connectors.base import SendError

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001})
USAGE_HEADERS = ("x-business-use-case-usage", "x-app-usage", "x-page-usage", "x-ad-account-usage")
_USAGE_FIELDS = ("call_count", "total_cputime", "total_time")
# Above these shares of a rate limit, polls wait this long after the last one (webhooks stay immediate).
PACING = ((0.95, timedelta(minutes=15)), (0.8, timedelta(minutes=5)))
TOKEN_ERROR = "Facebook Page token expired or invalid — generate a new Page token"


class GraphError(facebook.GraphAPIError):
    """A Graph error answer, with the HTTP status and headers (usage headers say how long to wait)."""

    def __init__(self, result: Any, status: int, headers: Mapping[str, str]) -> None:
        if not isinstance(result, dict) or not isinstance(result.get("error"), dict):
            result = {"error": {"message": f"Graph answered HTTP {status}", "code": None}}
        super().__init__(result)
        self.status, self.headers = status, headers
        self.subcode: int | None = result["error"].get("error_subcode")


class PageGraph(facebook.GraphAPI):
    """facebook-sdk's GraphAPI with a per-instance base URL and a current API version.

    The library's constructor only accepts long-retired versions and reads its base URL from a module
    global; overriding `request` keeps each instance on its own `graph_url` (the emulator in tests).
    """

    def __init__(self, access_token: str, graph_url: str, version: str, timeout: float = 30) -> None:
        super().__init__(access_token=access_token, timeout=timeout)
        self.version = version if version.startswith("v") else f"v{version}"
        self.graph_url = graph_url.rstrip("/") + "/"
        self.usage: float | None = None  # the largest share of a rate limit the last answer reported

    def request(self, path: str, args: dict | None = None, post_args: dict | None = None,
                files: dict | None = None, method: str | None = None) -> Any:
        # The token travels in the Authorization header (Graph accepts Bearer), never in the URL, so
        # urllib3's debug log, proxies and exception texts that quote URLs can't leak it.
        response = self.session.request(
            "POST" if post_args is not None else (method or "GET"), self.graph_url + path,
            params=args or {}, data=post_args, files=files, timeout=self.timeout, proxies=self.proxies,
            headers={"Authorization": f"Bearer {self.access_token}"},
        )
        share = usage_share(response.headers)
        if share is not None:  # absent headers mean "not reported", not zero usage
            self.usage = share
        try:
            result = response.json()
        except ValueError:
            result = None
        if response.status_code >= 400 or not isinstance(result, dict | list) or (
                isinstance(result, dict) and result.get("error")):
            raise GraphError(result, response.status_code, response.headers)
        return result


def parse_time(value: str) -> datetime:
    """Graph's `2024-05-01T12:34:56+0000` as an aware UTC datetime."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)


def _usage_entries(headers: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """Every JSON object in Graph's usage headers (BUC nests them per object id, in lists)."""
    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            yield node
            for child in node.values():
                yield from walk(child)
        elif isinstance(node, list):
            for child in node:
                yield from walk(child)

    for name in USAGE_HEADERS:
        raw = headers.get(name)
        if raw:
            try:
                yield from walk(json.loads(raw))
            except ValueError:
                continue


def _numbers(entry: Mapping[str, Any], *names: str) -> list[float]:
    return [float(v) for name in names if isinstance(v := entry.get(name), int | float)]


def usage_pause(headers: Mapping[str, str]) -> timedelta | None:
    """The longest `estimated_time_to_regain_access` (minutes) in Graph's usage headers, if any."""
    minutes = [m for e in _usage_entries(headers) for m in _numbers(e, "estimated_time_to_regain_access") if m > 0]
    return timedelta(minutes=int(max(minutes))) if minutes else None


def usage_share(headers: Mapping[str, str]) -> float | None:
    """The largest share (0..1+) of any rate limit Graph's usage headers report; None without them."""
    shares = [p / 100 for e in _usage_entries(headers) for p in _numbers(e, *_USAGE_FIELDS)]
    return max(shares) if shares else None


def paced_until(share: float | None, now: datetime) -> datetime | None:
    """When the next poll may run, given the share of a rate limit last reported (None: no pacing)."""
    for above, wait in PACING:
        if share is not None and share >= above:
            return now + wait
    return None


SEND_ERRORS: dict[int, str] = {
    10900: "Facebook allows only one private reply per comment, and this comment already has one.",
    10903: "This comment can no longer get a private reply (Facebook allows it for 7 days).",
    551: "This person isn't available on Messenger right now.",
    100: "Facebook couldn't find that comment or person (deleted?).",
}


def send_error(exc: GraphError) -> SendError:
    """Graph's refusal in plain words for staff, with its code and whether retrying can help."""
    return refusal_in_words(exc, "Facebook", SEND_ERRORS, TOKEN_ERROR,
                            "Outside Messenger's reply window: 24 hours after the customer's last message, "
                            "or 7 days with the human-agent tag.")


def refusal_in_words(exc: GraphError, network: str, known: Mapping[int, str], token_error: str,
                     window_closed: str) -> SendError:
    """A Graph send refusal for a Meta network (Facebook, Instagram): retryable when Graph is busy
    or rate-limiting, else the network's own words for the codes it knows."""
    code = f"{exc.code}/{exc.subcode}" if exc.subcode else str(exc.code)
    if exc.code in RATE_LIMIT_CODES or exc.code in (1, 2) or exc.status >= 500:
        return SendError(f"{network} is busy or rate-limiting us; will try again.", code=code, retryable=True)
    if exc.code == 190:
        return SendError(token_error, code=code)
    if exc.code == 10 and exc.subcode == 2018278:
        return SendError(window_closed, code=code)
    return SendError(known.get(exc.code or 0, f"{network} refused the message: {exc.message}"), code=code)
