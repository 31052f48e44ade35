"""What every Meta network's poll shares (Facebook, Instagram): paging through a Graph edge, and
the guard around one poll — paused while Graph said to wait, failures recorded in plain words
without the token, and Graph's usage headers turned into a slower pace above 80%."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import requests

from connectors.base import Batch, Health
from connectors.facebook.graph import RATE_LIMIT_CODES, GraphError, PageGraph, paced_until, usage_pause

log = logging.getLogger(__name__)

DEFAULT_PAUSE = timedelta(minutes=5)  # after a rate-limit error that named no wait


def edge_pages(graph: PageGraph, page_size: int, object_id: str, edge: str,
               **args: Any) -> Iterator[list[dict[str, Any]]]:
    """Each page of an edge, following Graph's `after` cursors until there is no `next`."""
    args["limit"] = page_size
    while True:
        page = graph.get_connections(object_id, edge, **args)
        yield page.get("data", [])
        paging = page.get("paging", {})
        if not paging.get("next"):
            return
        args["after"] = paging["cursors"]["after"]


def guarded_poll(network: str, graph: PageGraph, health: Health, now: datetime,
                 streams: Callable[[], Iterator[Batch]], *, token_error: str,
                 permission_hint: str = "") -> Iterator[Batch]:
    """`streams()`'s batches, unless Graph asked us to wait; a Graph error or an unreachable Graph
    ends the poll (the batches already yielded keep their cursors) and is recorded on `health`."""
    if health.paused_until is not None:
        if now < health.paused_until:
            return
        health.paused_until = None
    try:
        yield from streams()
    except GraphError as exc:
        _record_trouble(network, health, exc, now, token_error, permission_hint)
        health.rate_usage = graph.usage
        return
    except requests.RequestException as exc:
        # Exception texts quote URLs and hosts; the type is enough and can never carry a secret.
        log.warning("%s Graph API unreachable (%s)", network, type(exc).__name__)
        health.failed(now, f"{network} Graph API unreachable ({type(exc).__name__})")
        return
    health.succeeded(now)
    # Graph's usage headers: above 80% of a rate limit, poll less often until usage drops.
    health.rate_usage, health.paused_until = graph.usage, paced_until(graph.usage, now)


def _record_trouble(network: str, health: Health, exc: GraphError, now: datetime, token_error: str,
                    permission_hint: str) -> None:
    if exc.code in RATE_LIMIT_CODES:
        until = now + (usage_pause(exc.headers) or DEFAULT_PAUSE)
        health.paused_until = until
        message = f"{network} rate limit reached (code {exc.code}); paused until {until:%H:%M} UTC"
    elif exc.code == 190:
        message = token_error
    elif permission_hint and exc.code in (10, 200):
        message = f"{network} permission missing (code {exc.code}): {exc.message} — {permission_hint}"
    else:
        message = f"{network} Graph error (code {exc.code}): {exc.message}"
    log.warning("%s", message)
    health.failed(now, message)
