"""Signed Slack requests through the real HTTP endpoint (Bolt behind uvicorn)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
import requests
from slack_sdk.signature import SignatureVerifier

from sandbox.emulators.server import Emulator
from sandbox.emulators.stack import SIGNING_SECRET
from tests.e2e.test_http import served  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e


@pytest.fixture
def response_urls():
    """Where Slack would receive `respond()` messages for a slash command."""
    receiver = Emulator()
    receiver.route("POST", r"/respond", lambda request: {"ok": True})
    with receiver:
        yield receiver


def _signed_post(base, body, *, secret=SIGNING_SECRET, timestamp=None):
    timestamp = str(int(timestamp or time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return requests.post(f"{base}/slack/events", data=body, timeout=5, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature})


def _command(text, response_url):
    return urlencode({"command": "/social", "text": text, "user_id": "U0AGENT", "channel_id": "C0SUPPORT",
                      "team_id": "T0PARLEY", "response_url": response_url, "trigger_id": "1.2.3"})


def _responses(receiver, n, timeout=10.0):
    deadline = time.monotonic() + timeout
    while len(receiver.calls_to("/respond")) < n:
        assert time.monotonic() < deadline, "no response posted"
        time.sleep(0.02)
    return [c.json for c in receiver.calls_to("/respond")]


def test_social_help_is_ephemeral_usage(served, response_urls):  # noqa: F811
    _, base = served
    assert _signed_post(base, _command("help", response_urls.base_url + "/respond")).status_code == 200
    [reply] = _responses(response_urls, 1)
    assert reply["response_type"] == "ephemeral" and "/social help" in reply["text"]


def test_unknown_subcommand_says_what_to_type(served, response_urls):  # noqa: F811
    _, base = served
    assert _signed_post(base, _command("frobnicate #3", response_urls.base_url + "/respond")).status_code == 200
    [reply] = _responses(response_urls, 1)
    assert reply["response_type"] == "ephemeral"
    assert "frobnicate" in reply["text"] and "/social help" in reply["text"]


def test_bad_signature_and_stale_timestamp_are_refused(served, response_urls):  # noqa: F811
    _, base = served
    body = _command("help", response_urls.base_url + "/respond")
    assert _signed_post(base, body, secret="wrong-secret").status_code == 401
    assert _signed_post(base, body, timestamp=time.time() - 3600).status_code == 401
    assert response_urls.calls_to("/respond") == []
