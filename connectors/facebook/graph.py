"""Talking to Graph: the client, its errors, its timestamps and usage headers, refusals in plain words."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import facebook

from connectors.base import SendError

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001})
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

    def request(self, path: str, args: dict | None = None, post_args: dict | None = None,
                files: dict | None = None, method: str | None = None) -> Any:
        # The token travels in the Authorization header (Graph accepts Bearer), never in the URL, so
        # urllib3's debug log, proxies and exception texts that quote URLs can't leak it.
        response = self.session.request(
            "POST" if post_args is not None else (method or "GET"), self.graph_url + path,
            params=args or {}, data=post_args, files=files, timeout=self.timeout, proxies=self.proxies,
            headers={"Authorization": f"Bearer {self.access_token}"},
        )
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


def usage_pause(headers: Mapping[str, str]) -> timedelta | None:
    """The longest `estimated_time_to_regain_access` (minutes) in Graph's usage headers, if any."""
    minutes: list[int] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            value = node.get("estimated_time_to_regain_access")
            if isinstance(value, int | float) and value > 0:
                minutes.append(int(value))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for name in ("x-business-use-case-usage", "x-app-usage", "x-ad-account-usage"):
        raw = headers.get(name)
        if raw:
            try:
                walk(json.loads(raw))
            except ValueError:
                continue
    return timedelta(minutes=max(minutes)) if minutes else None


SEND_ERRORS: dict[int, str] = {
    10900: "Facebook allows only one private reply per comment, and this comment already has one.",
    10903: "This comment can no longer get a private reply (Facebook allows it for 7 days).",
    551: "This person isn't available on Messenger right now.",
    100: "Facebook couldn't find that comment or person (deleted?).",
}


def send_error(exc: GraphError) -> SendError:
    """Graph's refusal in plain words for staff, with its code and whether retrying can help."""
    code = f"{exc.code}/{exc.subcode}" if exc.subcode else str(exc.code)
    if exc.code in RATE_LIMIT_CODES or exc.code in (1, 2) or exc.status >= 500:
        return SendError("Facebook is busy or rate-limiting us; will try again.", code=code, retryable=True)
    if exc.code == 190:
        return SendError(TOKEN_ERROR, code=code)
    if exc.code == 10 and exc.subcode == 2018278:
        return SendError("Outside Messenger's reply window: 24 hours after the customer's last message, "
                         "or 7 days with the human-agent tag.", code=code)
    return SendError(SEND_ERRORS.get(exc.code or 0, f"Facebook refused the message: {exc.message}"), code=code)
