"""The HTTP surface under a real uvicorn server: Facebook webhooks, health."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
import uvicorn
from sqlmodel import select

from bot.store.models import Message
from sandbox.demo.seed import messenger_webhook, signed
from sandbox.emulators.stack import FACEBOOK_APP_SECRET, FACEBOOK_VERIFY_TOKEN, free_port
from tests.e2e.conftest import count

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(make_parley) -> Iterator[tuple[object, str]]:
    parley = make_parley()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(parley.http, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield parley, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


def _wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_forged_webhook_gets_401_and_stores_nothing(served, stack):
    parley, base = served
    payload = messenger_webhook(stack.graph.page_id, "5550002", "m_forged", "give me a refund", datetime.now(UTC))
    body, _ = signed(payload, "not-the-app-secret")
    for headers in ({"X-Hub-Signature-256": _}, {}):
        response = requests.post(f"{base}/webhooks/facebook", data=body, timeout=5,
                                 headers={"Content-Type": "application/json", **headers})
        assert response.status_code == 401
    # a valid delivery goes through, so the count below would have moved had the forged one been used
    mid = stack.graph.add_messenger_message("5550002", "Zoe Lang", "where is my invoice?")
    body, signature = signed(messenger_webhook(stack.graph.page_id, "5550002", mid, "where is my invoice?",
                                               datetime.now(UTC)), FACEBOOK_APP_SECRET)
    response = requests.post(f"{base}/webhooks/facebook", data=body, timeout=5,
                             headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
    assert response.status_code == 200
    _wait_for(lambda: count(parley, Message) == 1)
    with parley.store.transaction() as session:
        message = session.exec(select(Message)).one()
    assert message.external_id == mid and message.author_name == "Zoe Lang"  # name looked up on Graph
    parley.poll_all()  # polling hears the same message: still one
    assert count(parley, Message) == 1


def test_webhook_subscription_challenge(served):
    _, base = served
    ok = requests.get(f"{base}/webhooks/facebook", timeout=5, params={
        "hub.mode": "subscribe", "hub.verify_token": FACEBOOK_VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = requests.get(f"{base}/webhooks/facebook", timeout=5, params={
        "hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"})
    assert wrong.status_code == 403 and "1158201444" not in wrong.text


def test_healthz_reports_database_and_platforms(served):
    parley, base = served
    parley.poll_all()
    response = requests.get(f"{base}/healthz", timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert set(body["platforms"]) == {"x", "facebook", "instagram"}
    assert all(p["ok"] for p in body["platforms"].values())
    assert "token" not in json.dumps(body).lower()


def test_unsigned_slack_request_is_refused(served):
    _, base = served
    response = requests.post(f"{base}/slack/events", timeout=5, data="command=/social&text=help",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 401
