"""The HTTP surface on one port: Slack (HTTP mode), Meta webhooks (Facebook, Instagram), liveness, readiness, metrics.

Every POST is handled in the same order: bound the body (413 without reading the rest), verify
its signature on the raw bytes (401), only then parse it (400 for a signed but malformed body,
logged once, never a 500 with a traceback).

Bolt's own Starlette adapter calls the synchronous `App.dispatch` on the event loop, which would
serialise every request behind the slowest one; here dispatch runs in Starlette's thread pool so
concurrent requests are acknowledged concurrently. Dispatch returns at the ack: handlers' work runs
after it (commands/acking.py), and waits while other requests are being acknowledged. A request
whose answer is a plain 200 owed before any work (`early`, commands/early.py) is answered from the
event loop at once and dispatched after, in the handlers' pool.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.ack_first import ANSWER_NOW
from bot.metrics import Metrics
from bot.web_checks import BodyTooLarge, read_bounded, reject_constant, slack_body_problem
from connectors.base import InboundMessage, MalformedDelivery
from connectors.facebook.webhook import challenge_response, signature_valid

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
FACEBOOK_WEBHOOK_PATH = "/webhooks/facebook"
HEALTH_PATH = "/healthz"  # liveness: the process answers
READY_PATH = "/readyz"  # readiness: database writable, Slack heard, platforms polled (Parley.health)
METRICS_PATH = "/metrics"  # Prometheus text format (bot/metrics.py)

# Slack's largest requests are view submissions: a modal holds at most 100 blocks and each input
# at most 3 000 characters, so a few hundred KB even with every character escaped; 1 MiB leaves
# room and still refuses anything that would stall the process (a signed 10 MB body took 10 s).
SLACK_MAX_BODY = 1024 * 1024
# Facebook batches several changes per delivery and a post may hold 63 206 characters (up to six
# bytes each once JSON-escaped); 4 MiB takes every realistic batch. A bigger one answered 413 is
# not lost: the scheduled poll of the feed and conversations reads the same items.
FACEBOOK_MAX_BODY = 4 * 1024 * 1024


@dataclass(frozen=True)
class FacebookWebhookConfig:
    """Meta's signed webhooks (Page and Instagram objects share one callback URL and app secret).

    `parse` asks every registered connector for its messages in a delivery (`Connector.parse_webhook`),
    so a new Meta network needs no change here."""

    app_secret: str
    verify_token: str
    parse: Callable[[dict], list[InboundMessage]]  # raises MalformedDelivery
    deliver: Callable[[list[InboundMessage]], None]  # stores the messages (runs after the 200)


Acknowledging = Callable[[], AbstractContextManager[None]]


@dataclass(frozen=True)
class EarlyAnswer:
    """Requests answered with an empty 200 before Bolt runs (`answers` says which: commands/early.py),
    and the pool Bolt then runs them in (`later`: the handlers' pool, which waits for the acks)."""

    answers: Callable[[dict], bool]
    later: Executor


def _slack_endpoint(bolt: App, verifier: SignatureVerifier, metrics: Metrics | None,
                    acknowledging: Acknowledging,
                    early: EarlyAnswer | None) -> Callable[[Request], Awaitable[Response]]:
    """POST /slack/events: bound the body, verify the signature on the raw bytes, then parse; the
    time to answer goes to the ack latency histogram. Handlers' work waits while any request is
    inside `acknowledging` (bot/ack_first.py)."""
    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        try:
            with acknowledging():
                return await _slack_event(request)
        finally:
            if metrics is not None:
                metrics.ack_latency.observe(time.perf_counter() - started)

    async def _slack_event(request: Request) -> Response:
        try:
            body = await read_bounded(request, SLACK_MAX_BODY)
        except BodyTooLarge:
            log.warning("Slack request over %d bytes refused (413)", SLACK_MAX_BODY)
            return PlainTextResponse("request body too large", status_code=413)
        try:
            valid = verifier.is_valid(body, request.headers.get("x-slack-request-timestamp"),
                                      request.headers.get("x-slack-signature"))
        except ValueError:  # a timestamp that is not a number
            valid = False
        if not valid:
            log.warning("Slack request with a missing, stale or wrong signature refused (401)")
            return PlainTextResponse("invalid request signature", status_code=401)
        problem = slack_body_problem(body, request.headers.get("content-type", ""))
        if problem is not None:
            log.warning("signed Slack request refused (400): %s", problem)
            return PlainTextResponse(f"malformed request: {problem}", status_code=400)
        bolt_request = to_bolt_request(request, body)
        if early is not None and early.answers(bolt_request.body):
            early.later.submit(_dispatch_answered, bolt, bolt_request)
            return Response(status_code=200)
        return await _dispatch(bolt, bolt_request)

    return slack_events


async def _dispatch(bolt: App, request: BoltRequest) -> Response:
    """Bolt's answer, or an empty 200 as soon as a listener calls the context's ANSWER_NOW (after a
    plain `ack()`: the rest of its work then goes on without holding Slack's answer)."""
    loop = asyncio.get_running_loop()
    answered: asyncio.Future[None] = loop.create_future()

    def answer() -> None:
        if not answered.done():
            answered.set_result(None)

    request.context[ANSWER_NOW] = lambda: loop.call_soon_threadsafe(answer)
    dispatched: asyncio.Future[BoltResponse] = asyncio.ensure_future(run_in_threadpool(bolt.dispatch, request))
    either: list[asyncio.Future[Any]] = [dispatched, answered]
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    if dispatched.done():
        answered.cancel()
        return to_starlette_response(dispatched.result())
    dispatched.add_done_callback(_log_late_failure)
    return Response(status_code=200)


def _log_late_failure(dispatched: asyncio.Future[BoltResponse]) -> None:
    if not dispatched.cancelled() and dispatched.exception() is not None:
        log.error("Slack request failed after it was answered", exc_info=dispatched.exception())


def _dispatch_answered(bolt: App, request: BoltRequest) -> None:
    """Run Bolt on a request Slack was already answered for; its own answer goes nowhere."""
    response = bolt.dispatch(request)
    if response.status != 200:
        log.warning("Slack request answered early got %d from Bolt: %s", response.status, response.body[:200])


def _facebook_routes(facebook: FacebookWebhookConfig | None) -> list[Route]:
    """GET (the subscription challenge) and POST (signed deliveries) on /webhooks/facebook."""
    async def facebook_verify(request: Request) -> Response:
        if facebook is None:
            return PlainTextResponse("Facebook webhooks are not configured", status_code=404)
        challenge = challenge_response(dict(request.query_params), facebook.verify_token)
        if challenge is None:
            log.warning("Facebook webhook verification refused: wrong verify token or mode")
            return PlainTextResponse("verification failed", status_code=403)
        return PlainTextResponse(challenge)

    async def facebook_delivery(request: Request) -> Response:
        if facebook is None:
            return PlainTextResponse("Facebook webhooks are not configured", status_code=404)
        try:
            body = await read_bounded(request, FACEBOOK_MAX_BODY)
        except BodyTooLarge:
            log.warning("Facebook webhook over %d bytes refused (413); polling will read it", FACEBOOK_MAX_BODY)
            return PlainTextResponse("request body too large", status_code=413)
        if not signature_valid(body, request.headers.get("x-hub-signature-256"), facebook.app_secret):
            log.warning("Facebook webhook with a missing or wrong X-Hub-Signature-256 refused")
            return PlainTextResponse("bad signature", status_code=401)
        try:
            payload = json.loads(body, parse_constant=reject_constant)
            if not isinstance(payload, dict):
                raise MalformedDelivery("the body is not a JSON object")
            messages = facebook.parse(payload)
        except (ValueError, RecursionError) as exc:  # MalformedDelivery and JSON errors are ValueErrors
            reason = str(exc) if isinstance(exc, MalformedDelivery) else "the body is not JSON"
            log.warning("signed Facebook webhook refused (400): %s", reason)
            return PlainTextResponse(f"malformed delivery: {reason}", status_code=400)
        # Answer at once (Facebook wants a 200 within seconds); store after. Should storing fail,
        # the next poll of the feed/conversations reads the same items, so nothing is lost.
        task = BackgroundTask(run_in_threadpool, facebook.deliver, messages) if messages else None
        return PlainTextResponse("EVENT_RECEIVED", background=task)

    return [Route(FACEBOOK_WEBHOOK_PATH, facebook_verify, methods=["GET"]),
            Route(FACEBOOK_WEBHOOK_PATH, facebook_delivery, methods=["POST"])]


def _health_routes(health: Callable[[], tuple[bool, dict]]) -> list[Route]:
    """/healthz answers while the process lives; /readyz is 503 while Parley cannot work."""
    async def healthz(_: Request) -> Response:
        detail = (await run_in_threadpool(health))[1]  # `_` is the request: not rebound
        return JSONResponse(detail)  # liveness: answering at all is the proof

    async def readyz(_: Request) -> Response:
        ready, detail = await run_in_threadpool(health)
        return JSONResponse(detail, status_code=200 if ready else 503)

    return [Route(HEALTH_PATH, healthz, methods=["GET"]), Route(READY_PATH, readyz, methods=["GET"])]


def _metrics_route(metrics: Metrics) -> Route:
    async def serve_metrics(_: Request) -> Response:
        body = await run_in_threadpool(generate_latest, metrics.registry)  # the queue is read from the database
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Route(METRICS_PATH, serve_metrics, methods=["GET"])


def build_http_app(
    *,
    bolt: App | None,
    facebook: FacebookWebhookConfig | None,
    health: Callable[[], tuple[bool, dict]],
    slack_signing_secret: str | None = None,
    metrics: Metrics | None = None,
    acknowledging: Acknowledging = nullcontext,
    early: EarlyAnswer | None = None,
) -> Starlette:
    """The Starlette app. `health` says whether the process is ready, and why (`Parley.health`);
    `metrics` is served on /metrics; `acknowledging` marks each Slack request until it is answered;
    `early` names the Slack requests answered before Bolt runs."""
    routes = [*_facebook_routes(facebook), *_health_routes(health)]
    if metrics is not None:
        routes.append(_metrics_route(metrics))
    if bolt is not None:
        if not slack_signing_secret:
            raise ValueError("Slack in HTTP mode needs the signing secret to verify requests")
        endpoint = _slack_endpoint(bolt, SignatureVerifier(slack_signing_secret), metrics, acknowledging, early)
        routes.append(Route(SLACK_EVENTS_PATH, endpoint, methods=["POST"]))
    return Starlette(routes=routes)
