"""bot/web.py under a real uvicorn server: bound, verify, then parse. Oversized bodies get 413,
unsigned or forged ones 401, signed but malformed ones 400 (logged once), never a 500."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
import sqlalchemy as sa
from sqlmodel import select

from bot.store.models import Message
from sandbox.demo.seed import messenger_webhook
from sandbox.emulators.stack import FACEBOOK_APP_SECRET
from tests.e2e.conftest import CHANNEL, count, make_parley, stack  # noqa: F401  (fixtures)
from tests.e2e.slack_requests import serve  # noqa: F401  (a fixture)

pytestmark = pytest.mark.e2e

FORM = "application/x-www-form-urlencoded"


def _event(**fields: object) -> str:
    return json.dumps({"token": "t", "team_id": "T0PARLEY", "api_app_id": "A0PARLEY", "type": "event_callback",
                       "event_id": "Ev1", "event_time": 1764000000,  # fixed: test ids must match across workers
                       "event": {"type": "message", "channel": CHANNEL, "user": "U0CUST", "text": "hi",
                                 "ts": "1764000000.000100", **fields}})


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.web" and r.levelno >= logging.WARNING]


def test_unsigned_slack_bodies_that_are_not_form_or_json_get_401(serve):  # noqa: F811
    session = serve()
    for body in (b"\xff\xfe{{{", b"payload=%7B", b'{"type": '):
        for content_type in ("application/json", FORM, "text/plain"):
            response = requests.post(f"{session.base_url}/slack/events", data=body, timeout=5,
                                     headers={"Content-Type": content_type})
            assert response.status_code == 401, (body, content_type)
    forged = session.post("command=/social&text=list", FORM, secret="not-the-signing-secret")
    assert forged.status_code == 401


@pytest.mark.parametrize(("body", "content_type"), [
    ('{"type": ', "application/json"),
    ("[1, 2]", "application/json"),
    (urlencode({"payload": "{"}), FORM),
    (urlencode({"payload": '{"type": "view_submission", "view": NaN}'}), FORM),
    (_event(thread_ts={"ts": "1.2"}), "application/json"),
    (_event(text=["not", "text"]), "application/json"),
    ("command=/social", "text/plain"),
], ids=["cut-json", "json-list", "cut-payload", "nan-payload", "thread-ts-object", "text-list", "form-as-text"])
def test_signed_but_malformed_slack_requests_get_400_logged_once(serve, caplog, body, content_type):  # noqa: F811
    session = serve()
    caplog.set_level(logging.INFO)
    response = session.post(body, content_type)
    assert response.status_code == 400
    assert len(_warnings(caplog)) == 1


def test_oversized_slack_request_gets_413_before_the_signature_is_read(serve):  # noqa: F811
    session = serve()
    response = session.post("command=/social&text=" + "x" * (1024 * 1024), FORM)
    assert response.status_code == 413
    assert session.command("help").status_code == 200


def _facebook(session, body: bytes, secret: str = FACEBOOK_APP_SECRET) -> requests.Response:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return requests.post(f"{session.base_url}/webhooks/facebook", data=body, timeout=10,
                         headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})


def _messenger(page_id: str, **changes: object) -> dict:
    payload = messenger_webhook(page_id, "5550003", "m_1", "hello", datetime.now(UTC))
    payload["entry"][0]["messaging"][0].update(changes)
    return payload


@pytest.mark.parametrize("make_body", [
    lambda page: json.dumps(_messenger(page, timestamp=float("nan"))).encode(),  # Python writes NaN
    lambda page: json.dumps(_messenger(page, timestamp=1e300)).encode(),
    lambda page: json.dumps(_messenger(page, timestamp=-1e20)).encode(),
    lambda page: json.dumps({"object": "page", "entry": {"id": page}}).encode(),
    lambda page: json.dumps({"object": "page", "entry": [{"id": page, "messaging": 7}]}).encode(),
    lambda page: json.dumps({"object": "page", "entry": [{"id": page, "changes": "feed"}]}).encode(),
    lambda page: json.dumps(["not", "an", "object"]).encode(),
    lambda page: b"\xff not json",
])
def test_signed_but_malformed_facebook_deliveries_get_400_logged_once(serve, stack, caplog, make_body):  # noqa: F811
    session = serve()
    caplog.set_level(logging.INFO)
    response = _facebook(session, make_body(stack.graph.page_id))
    assert response.status_code == 400
    assert len(_warnings(caplog)) == 1


def test_facebook_limits_and_signature_come_before_parsing(serve, stack):  # noqa: F811
    session = serve()
    huge = json.dumps({"object": "page", "entry": [], "pad": "x" * (4 * 1024 * 1024)}).encode()
    assert _facebook(session, huge).status_code == 413
    assert _facebook(session, b"{{{ not json", secret="forged").status_code == 401
    good = json.dumps(_messenger(stack.graph.page_id)).encode()
    assert _facebook(session, good).status_code == 200


def _ready(session) -> requests.Response:
    return requests.get(f"{session.base_url}/readyz", timeout=10)


def test_readyz_is_503_when_the_sqlite_file_is_read_only_or_moved(serve, database_url, tmp_path):  # noqa: F811
    if not database_url.startswith("sqlite"):
        pytest.skip("a fault of the SQLite file (PostgreSQL: see the read-only database test)")
    session = serve()
    path = Path(session.parley.store.engine.url.database)
    assert _ready(session).status_code == 200 and _ready(session).json()["database"] == "ok"

    path.chmod(0o444)
    try:
        response = _ready(session)
        assert response.status_code == 503 and "read-only" in response.json()["database"]
        assert requests.get(f"{session.base_url}/healthz", timeout=10).status_code == 200  # still alive
    finally:
        path.chmod(0o644)
    assert _ready(session).status_code == 200

    path.rename(tmp_path / "moved-away.db")  # the open connection would keep writing there
    response = _ready(session)
    assert response.status_code == 503 and "no longer at" in response.json()["database"]


def test_readyz_is_503_when_postgresql_refuses_writes(serve, database_url):  # noqa: F811
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    session = serve()
    engine = session.parley.store.engine
    name = engine.url.database
    assert _ready(session).status_code == 200
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    try:
        engine.dispose()  # new connections take the setting
        response = _ready(session)
        assert response.status_code == 503 and "refuses writes" in response.json()["database"]
    finally:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("SET default_transaction_read_only = off"))
            conn.execute(sa.text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        engine.dispose()
    assert _ready(session).status_code == 200


def test_a_webhook_with_half_an_emoji_is_stored_cleaned(serve, stack):  # noqa: F811
    session = serve()
    mid = stack.graph.add_messenger_message("5550004", "Ana", "hola \ud83d")
    payload = messenger_webhook(stack.graph.page_id, "5550004", mid, "hola \ud83d", datetime.now(UTC))
    assert _facebook(session, json.dumps(payload).encode()).status_code == 200
    deadline = time.monotonic() + 10
    while count(session.parley, Message) == 0:
        assert time.monotonic() < deadline, "the delivery was not stored"
        time.sleep(0.05)
    with session.parley.store.transaction() as db:
        assert db.exec(select(Message.text)).one() == "hola \ufffd"


def test_readyz_is_503_while_slack_refuses_connections_and_200_after(serve, stack):  # noqa: F811
    session = serve()
    parley = session.parley
    parley.slack_link.probe(parley.bolt.client)  # the `slack_link` job, driven directly
    assert _ready(session).status_code == 200 and _ready(session).json()["slack"] == "reachable"

    stack.slack.stop()  # connections to Slack are refused
    try:
        parley.slack_link.probe(parley.bolt.client)
        response = _ready(session)
        assert response.status_code == 503 and "cannot reach Slack" in response.json()["slack"]
        assert requests.get(f"{session.base_url}/healthz", timeout=10).status_code == 200  # still alive
    finally:
        stack.slack.start()  # back at the same address
    parley.slack_link.probe(parley.bolt.client)
    assert _ready(session).status_code == 200


def test_readyz_is_503_when_the_polling_replica_has_not_polled_a_platform_for_5_intervals(serve):  # noqa: F811
    session = serve(PARLEY_POLL_INTERVAL="60s")
    parley = session.parley
    parley.start_background()  # the only replica: it leads and polls
    parley.poll_all()
    assert _ready(session).status_code == 200
    x = next(c for c in parley.connectors if c.platform == "x")
    assert x.health.last_success_at is not None
    x.health.last_success_at -= timedelta(minutes=6)  # as if polls had failed for six minutes
    response = _ready(session)
    assert response.status_code == 503
    assert response.json()["platforms"]["x"]["stale"] is True
    assert response.json()["platforms"]["facebook"]["stale"] is False
