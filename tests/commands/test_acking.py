"""A handler registered with `after_ack` runs after Slack has its 200, and a failure in it still
reaches the person (as Bolt's error handler would), through the response_url."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltRequest, Respond
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk import WebClient
from slack_sdk.socket_mode.request import SocketModeRequest

from commands.acking import after_ack
from sandbox.emulators.server import Emulator


@pytest.fixture
def receiver() -> Iterator[Emulator]:
    emulator = Emulator()
    emulator.route("POST", r"/respond", lambda request: {"ok": True})
    # Bolt's authorization asks auth.test once.
    emulator.route("POST", r"/api/auth.test", lambda request: {"ok": True, "user_id": "UBOT", "bot_id": "BBOT",
                                                             "team_id": "T1"})
    with emulator:
        yield emulator


def bolt(receiver: Emulator) -> App:
    return App(client=WebClient(token="xoxb-test", base_url=receiver.base_url + "/api/"), signing_secret="secret",
               request_verification_enabled=False, process_before_response=True,
               listener_executor=ThreadPoolExecutor(2))


def command(response_url: str) -> BoltRequest:
    return BoltRequest(body=urlencode({"command": "/social", "text": "queue", "user_id": "U1", "team_id": "T1",
                                       "channel_id": "C1", "response_url": response_url, "trigger_id": "1.2.t"}),
                       headers={"content-type": ["application/x-www-form-urlencoded"]})


def wait_for(done: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)


def test_slack_hears_200_before_the_handler_runs(receiver: Emulator) -> None:
    app, release, ran = bolt(receiver), threading.Event(), threading.Event()

    @after_ack(app.command("/social"))
    def social(command: dict, respond: Respond) -> None:
        release.wait(5)
        respond(text=f"queue for {command['user_id']}")
        ran.set()

    response = app.dispatch(command(receiver.base_url + "/respond"))
    assert response.status == 200
    assert not ran.is_set()  # still held: the answer went out first
    release.set()
    wait_for(ran.is_set)
    assert [call.json["text"] for call in receiver.calls_to("/respond")] == ["queue for U1"]


def test_a_failing_handler_still_tells_the_person(receiver: Emulator) -> None:
    app = bolt(receiver)

    @after_ack(app.command("/social"))
    def social(command: dict) -> None:
        raise RuntimeError("boom")

    assert app.dispatch(command(receiver.base_url + "/respond")).status == 200
    wait_for(lambda: receiver.calls_to("/respond"))
    [told] = receiver.calls_to("/respond")
    assert "Something went wrong with `/social`" in told.json["text"] and "E-" in told.json["text"]


def test_a_handler_asking_for_ack_is_refused_at_registration(receiver: Emulator) -> None:
    app = bolt(receiver)
    with pytest.raises(TypeError, match="ack"):
        @after_ack(app.command("/social"))
        def social(ack: object, body: dict) -> None:
            pass


def test_socket_mode_envelopes_take_the_same_path(receiver: Emulator) -> None:
    """Bolt's Socket Mode adapter dispatches each envelope the same way and acks with what dispatch
    returns: the handler still runs after."""
    app, release, ran = bolt(receiver), threading.Event(), threading.Event()

    @after_ack(app.command("/social"))
    def social(respond: Respond) -> None:
        release.wait(5)
        respond(text="done")
        ran.set()

    payload = {"command": "/social", "text": "queue", "user_id": "U1", "team_id": "T1", "channel_id": "C1",
               "response_url": receiver.base_url + "/respond", "trigger_id": "1.2.t"}
    answer = run_bolt_app(app, SocketModeRequest(type="slash_commands", envelope_id="e1", payload=payload))
    assert answer.status == 200 and not ran.is_set()
    release.set()
    wait_for(ran.is_set)
    assert [call.json["text"] for call in receiver.calls_to("/respond")] == ["done"]
