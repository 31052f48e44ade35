"""The HTTP surface on one port: Slack (HTTP mode), Facebook webhooks, health.

Bolt's own Starlette adapter calls the synchronous `App.dispatch` on the event loop, which would
serialise every request behind the slowest one; here dispatch runs in Starlette's thread pool so
concurrent requests are acknowledged concurrently.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from connectors.base import InboundMessage
from connectors.facebook.webhook import challenge_response, parse_delivery, signature_valid

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
FACEBOOK_WEBHOOK_PATH = "/webhooks/facebook"
HEALTH_PATH = "/healthz"


@dataclass(frozen=True)
class FacebookWebhookConfig:
    page_id: str
    app_secret: str
    verify_token: str
    deliver: Callable[[list[InboundMessage]], None]  # stores the messages (runs after the 200)


def build_http_app(
    *,
    bolt: App | None,
    facebook: FacebookWebhookConfig | None,
    health: Callable[[], tuple[bool, dict]],
) -> Starlette:
    async def slack_events(request: Request) -> Response:
        assert bolt is not None
        body = await request.body()
        bolt_response = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

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
        body = await request.body()
        if not signature_valid(body, request.headers.get("x-hub-signature-256"), facebook.app_secret):
            log.warning("Facebook webhook with a missing or wrong X-Hub-Signature-256 refused")
            return PlainTextResponse("bad signature", status_code=401)
        try:
            payload = json.loads(body)
        except ValueError:
            return PlainTextResponse("body is not JSON", status_code=400)
        messages = parse_delivery(payload, facebook.page_id) if isinstance(payload, dict) else []
        # Answer at once (Facebook wants a 200 within seconds); store after. Should storing fail,
        # the next poll of the feed/conversations reads the same items, so nothing is lost.
        task = BackgroundTask(run_in_threadpool, facebook.deliver, messages) if messages else None
        return PlainTextResponse("EVENT_RECEIVED", background=task)

    async def healthz(_: Request) -> Response:
        ok, detail = await run_in_threadpool(health)
        return JSONResponse(detail, status_code=200 if ok else 503)

    routes = [
        Route(FACEBOOK_WEBHOOK_PATH, facebook_verify, methods=["GET"]),
        Route(FACEBOOK_WEBHOOK_PATH, facebook_delivery, methods=["POST"]),
        Route(HEALTH_PATH, healthz, methods=["GET"]),
    ]
    if bolt is not None:
        routes.append(Route(SLACK_EVENTS_PATH, slack_events, methods=["POST"]))
    return Starlette(routes=routes)
