"""Signed Slack requests (slash commands, button clicks, modal submissions, events) sent to the real
HTTP endpoint, a server fixture that accepts setting overrides, and ready-made mirrored cases.

Payload shapes follow Slack's documented interaction payloads; only the fields Bolt and Parley read
are filled in.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import requests
import uvicorn
from slack_sdk.signature import SignatureVerifier
from sqlmodel import select

from bot.runtime import Parley
from bot.store.models import Conversation, Message
from sandbox.emulators.server import Emulator
from sandbox.emulators.stack import SIGNING_SECRET, EmulatorStack, free_port
from tests.e2e.conftest import CHANNEL, run_until

AGENT = "U0AGENT"
_triggers = itertools.count(1)


def next_trigger() -> str:
    return f"{int(time.time())}.{next(_triggers)}.trigger"


@dataclass
class SlackSession:
    """A served Parley and the means to talk to it as Slack would."""

    parley: Parley
    base_url: str
    response_url: str
    receiver: Emulator

    # --- sending ------------------------------------------------------------------------------
    def post(self, body: str, content_type: str, *, secret: str = SIGNING_SECRET, timestamp: float | None = None,
             retry_num: int | None = None) -> requests.Response:
        ts = str(int(timestamp or time.time()))
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
                   "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return requests.post(f"{self.base_url}/slack/events", data=body.encode(), headers=headers, timeout=10)

    def command(self, text: str, *, user: str = AGENT, channel: str = CHANNEL, trigger_id: str | None = None,
                **kw: object) -> requests.Response:
        body = urlencode({"command": "/social", "text": text, "user_id": user, "user_name": user.lower(),
                          "channel_id": channel, "team_id": "T0PARLEY", "response_url": self.response_url,
                          "trigger_id": trigger_id or next_trigger()})
        return self.post(body, "application/x-www-form-urlencoded", **kw)

    def interaction(self, payload: dict, **kw: object) -> requests.Response:
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded", **kw)

    def click(self, action_id: str, value: str, *, user: str = AGENT, channel: str = CHANNEL,
              message_ts: str = "1.000001", selected_value: str | None = None, **kw: object) -> requests.Response:
        action = {"action_id": action_id, "block_id": "b", "action_ts": str(time.time())}
        if selected_value is not None:
            action |= {"type": "static_select", "selected_option": {"value": selected_value,
                                                                     "text": {"type": "plain_text", "text": "x"}}}
        else:
            action |= {"type": "button", "value": value}
        return self.interaction({
            "type": "block_actions", "user": {"id": user, "username": user.lower(), "team_id": "T0PARLEY"},
            "api_app_id": "A0PARLEY", "team": {"id": "T0PARLEY"}, "trigger_id": next_trigger(),
            "channel": {"id": channel}, "container": {"type": "message", "message_ts": message_ts,
                                                       "channel_id": channel},
            "message": {"ts": message_ts, "text": ""}, "response_url": self.response_url,
            "actions": [action]}, **kw)

    def submit_view(self, view: dict, values: dict[str, dict[str, dict]], *, user: str = AGENT,
                    **kw: object) -> requests.Response:
        """Submit `view` (as Parley opened it, from the Slack emulator's `views`) with `values`
        shaped like Slack's state.values: {block_id: {action_id: {"type": …, "value": …}}}."""
        submitted = {**view, "id": view.get("id") or f"V{abs(hash(json.dumps(view, sort_keys=True))) % 10**9}",
                     "state": {"values": values}, "hash": "h"}
        return self.interaction({"type": "view_submission", "user": {"id": user, "team_id": "T0PARLEY"},
                                 "api_app_id": "A0PARLEY", "team": {"id": "T0PARLEY"},
                                 "trigger_id": next_trigger(), "view": submitted}, **kw)

    def event(self, event: dict, *, event_id: str, **kw: object) -> requests.Response:
        body = json.dumps({"token": "x", "team_id": "T0PARLEY", "api_app_id": "A0PARLEY", "type": "event_callback",
                           "event_id": event_id, "event_time": int(time.time()), "event": event})
        return self.post(body, "application/json", **kw)

    # --- reading what came back ------------------------------------------------------------------
    def responses(self, n: int, timeout: float = 10.0) -> list[dict]:
        """The first `n` messages posted to the response_url (ephemeral replies to commands/clicks)."""
        deadline = time.monotonic() + timeout
        while len(self.receiver.calls_to("/respond")) < n:
            got = len(self.receiver.calls_to("/respond"))
            assert time.monotonic() < deadline, f"expected {n} response(s), got {got}"
            time.sleep(0.02)
        return [c.json for c in self.receiver.calls_to("/respond")]


def wait_for(condition: Callable[[], object], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not reached in {timeout}s"
        time.sleep(0.03)


@pytest.fixture
def serve(make_parley) -> Iterator[Callable[..., SlackSession]]:
    """`serve(**env_overrides)` → a SlackSession on a real uvicorn server."""
    servers: list[tuple[uvicorn.Server, threading.Thread, Emulator]] = []

    def start(**overrides: str) -> SlackSession:
        parley = make_parley(**overrides)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(parley.http, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        receiver = Emulator()
        receiver.route("POST", r"/respond", lambda request: {"ok": True})
        receiver.start()
        servers.append((server, thread, receiver))
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        return SlackSession(parley, f"http://127.0.0.1:{port}", receiver.base_url + "/respond", receiver)

    yield start
    for server, thread, receiver in servers:
        server.should_exit = True
        thread.join(timeout=5)
        receiver.stop()


def mirror_x_mention(stack: EmulatorStack, parley: Parley, text: str = "@acme my order never arrived",
                     *, username: str = "dana", name: str = "Dana Scully",
                     age: timedelta = timedelta(minutes=5)) -> Conversation:
    """An X mention polled, stored and carded; returns its conversation (ref = #N)."""
    known = [uid for uid, u in stack.x.users.items() if u.username == username]
    user = known[0] if known else stack.x.add_user(username, name, followers=120)
    tweet = stack.x.add_tweet(user, text, created_at=datetime.now(UTC) - age)
    return _mirrored(parley, "x", tweet)


def mirror_facebook_comment(stack: EmulatorStack, parley: Parley, text: str = "My refund is late",
                            *, name: str = "Fox Mulder", age: timedelta = timedelta(minutes=5)) -> Conversation:
    post = stack.graph.add_post("Our winter sale starts today", created_at=datetime.now(UTC) - age - timedelta(hours=1))
    comment = stack.graph.add_comment(post, (stack.graph.user(name), name), text, created_at=datetime.now(UTC) - age)
    return _mirrored(parley, "facebook", comment)


def mirror_messenger(stack: EmulatorStack, parley: Parley, text: str = "Hola, ¿dónde está mi pedido?",
                     *, name: str = "Ana Ruiz", age: timedelta = timedelta(minutes=5)) -> Conversation:
    psid = stack.graph.user(name)
    mid = stack.graph.add_messenger_message(psid, name, text, created_at=datetime.now(UTC) - age)
    return _mirrored(parley, "facebook", mid)


def _mirrored(parley: Parley, platform: str, external_id: str) -> Conversation:
    def find() -> Conversation | None:
        with parley.store.transaction() as session:
            message = session.exec(select(Message).where(Message.platform == platform,
                                                         Message.external_id == external_id)).first()
            conversation = session.get(Conversation, message.conversation_id) if message else None
            return conversation if conversation is not None and conversation.slack_ts else None

    run_until(parley, lambda: find() is not None)
    return find()
