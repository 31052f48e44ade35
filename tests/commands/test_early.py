"""Requests Slack hears 200 for before Bolt runs (commands/early.py, bot/web.py): which ones, that
the list matches the registrations, and that the endpoint answers early and still runs Bolt after."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
import uvicorn
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette

from bot import ids
from bot.ack_first import ANSWER_NOW
from bot.web import EarlyAnswer, build_http_app
from commands.early import PLAIN_ACTIONS, PLAIN_CLOSES, answered_at_once
from sandbox.emulators.server import Emulator
from sandbox.emulators.stack import free_port

COMMANDS = Path(__file__).resolve().parents[2] / "commands"
SECRET = "early-secret"


def click(action_id: object) -> dict:
    return {"type": "block_actions", "actions": [{"action_id": action_id, "value": "1"}], "user": {"id": "U1"}}


@pytest.mark.parametrize("action_id", sorted(PLAIN_ACTIONS))
def test_every_plain_button_is_answered_at_once(action_id: str) -> None:
    assert answered_at_once(click(action_id))


@pytest.mark.parametrize(("body", "early"), [
    ({"command": "/social", "text": "queue"}, True),
    ({"command": "/social", "text": ""}, True),  # help
    ({"command": "/social", "text": "nonsense words"}, True),  # "not a command", said after
    ({"command": "/social", "text": "reply #3 We're on it"}, False),  # stored before the answer
    ({"command": "/social", "text": "  PRIVATE #3 DM us"}, False),
    ({"command": "/social", "text": ["reply"]}, False),  # forged: Bolt answers it
    ({"command": "/other", "text": "queue"}, False),
    ({"type": "view_submission", "view": {"callback_id": ids.CALLBACK_REPLY_MODAL}}, False),  # errors go in it
    ({"type": "view_closed", "view": {"callback_id": ids.CALLBACK_PRIVATE_MODAL}}, True),
    ({"type": "view_closed", "view": {"callback_id": "someone.else"}}, False),
    (click("someone.else"), False),  # Bolt's 404
    (click(["parley.card.reply"]), False),
    ({"type": "block_actions", "actions": []}, False),
    ({"type": "block_suggestion", "action_id": ids.ACTION_REPLY}, False),
    ({"type": "event_callback", "event": {"type": "message"}}, False),  # a thread note is stored first
])
def test_what_is_answered_at_once(body: dict, early: bool) -> None:
    assert answered_at_once(body) is early


def test_the_list_matches_the_plainly_acked_registrations() -> None:
    """Every button registered with the plain ack is in PLAIN_ACTIONS and every id listed is
    registered: a new button cannot be missed (it would only be answered at Bolt's pace) nor an id
    be answered early that no listener takes."""
    source = "\n".join(p.read_text() for p in sorted(COMMANDS.glob("*.py")))
    plain = set(re.findall(r"after_ack\(app\.action\(ids\.(ACTION_\w+)\)\)", source))
    direct = set(re.findall(r"@app\.action\(ids\.(ACTION_\w+)\)", source))  # registered with their own ack
    assert direct == {"ACTION_OPEN_ORIGINAL"}, "a button with its own ack: decide whether its answer is plain"
    assert {getattr(ids, name) for name in plain | direct} == PLAIN_ACTIONS
    assert re.search(r"after_ack\(app\.view_closed\(callback_id\)\)", source)
    assert {ids.CALLBACK_REPLY_MODAL, ids.CALLBACK_PRIVATE_MODAL} == PLAIN_CLOSES


# --- the endpoint -------------------------------------------------------------------------------
@pytest.fixture
def slack() -> Iterator[Emulator]:
    emulator = Emulator()
    emulator.route("POST", r"/api/auth.test", lambda request: {"ok": True, "user_id": "UBOT", "bot_id": "BBOT",
                                                             "team_id": "T1"})
    with emulator:
        yield emulator


@pytest.fixture
def serve() -> Iterator[object]:
    """`serve(asgi)` → the base URL of a real uvicorn server running it (stopped afterwards)."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(asgi: Starlette) -> str:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(asgi, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=5)


def signed_post(base: str, body: str) -> tuple[int, float]:
    ts = str(int(time.time()))
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
               "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)}
    started = time.monotonic()
    response = requests.post(f"{base}/slack/events", data=body.encode(), headers=headers, timeout=10)
    return response.status_code, time.monotonic() - started


def command(text: str) -> str:
    return urlencode({"command": "/social", "text": text, "user_id": "U1", "team_id": "T1", "channel_id": "C1",
                      "response_url": "http://127.0.0.1:9/respond", "trigger_id": "1.2.t"})


def test_an_early_request_is_answered_before_bolt_runs_and_bolt_still_runs(slack: Emulator, serve) -> None:
    app = App(client=WebClient(token="xoxb-test", base_url=slack.base_url + "/api/"), signing_secret=SECRET,
              process_before_response=True)
    release, ran = threading.Event(), threading.Event()

    @app.command("/social")
    def slow_ack(ack: Ack) -> None:
        release.wait(5)  # Bolt is held: the answer must not wait for it
        ack()
        ran.set()

    later = ThreadPoolExecutor(1)
    http = build_http_app(bolt=app, facebook=None, health=lambda: (True, {}), slack_signing_secret=SECRET,
                          early=EarlyAnswer(answers=answered_at_once, later=later))
    status, took = signed_post(serve(http), command("queue"))
    assert status == 200 and not ran.is_set() and took < 5
    release.set()
    assert ran.wait(5)
    later.shutdown()


def test_a_listener_can_have_slack_answered_and_go_on(slack: Emulator, serve) -> None:
    app = App(client=WebClient(token="xoxb-test", base_url=slack.base_url + "/api/"), signing_secret=SECRET,
              process_before_response=True)
    release, finished = threading.Event(), threading.Event()

    @app.command("/social")
    def durable(ack: Ack, context: BoltContext) -> None:
        ack()  # stored: Slack may hear 200 now
        context[ANSWER_NOW]()
        release.wait(5)  # the rest of the work
        finished.set()

    http = build_http_app(bolt=app, facebook=None, health=lambda: (True, {}), slack_signing_secret=SECRET,
                          early=EarlyAnswer(answers=answered_at_once, later=ThreadPoolExecutor(1)))
    status, took = signed_post(serve(http), command("reply #1 On it"))  # durable: through Bolt first
    assert status == 200 and not finished.is_set() and took < 5
    release.set()
    assert finished.wait(5)
