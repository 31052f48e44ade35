"""`parley check` for Instagram (connectors/instagram/doctor.py) through facebook-sdk against the Graph
emulator's debug_token: permissions per feature, the account, and the token's expiry (a warning within a
week, a failure once expired), plus the expiry the daily warning reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors.checks import Status
from connectors.instagram.connector import InstagramConnector
from sandbox.emulators.graph_api import GraphEmulator

PAGE, TOKEN = "5550001", "EAAG-secret-page-token"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def start() -> Iterator:
    emulators: list[GraphEmulator] = []

    def run(**kw: object) -> GraphEmulator:
        emulators.append(GraphEmulator(page_id=PAGE, page_token=TOKEN, **kw).start())  # type: ignore[arg-type]
        return emulators[-1]

    yield run
    for emulator in emulators:
        emulator.stop()


def connect(graph: GraphEmulator, account_id: str | None = None, **kw: object) -> InstagramConnector:
    return InstagramConnector(account_id=account_id or graph.instagram.id, token=TOKEN, page_id=PAGE,  # type: ignore[arg-type]
                              graph_url=graph.base_url + "/", **kw)


def by_name(graph: GraphEmulator, account_id: str | None = None) -> dict:
    return {c.name: c for c in connect(graph, account_id).doctor(NOW)}


def test_a_good_token_passes_every_check(start) -> None:
    checks = by_name(start())
    assert {c.status for c in checks.values()} == {Status.OK}
    assert set(checks) == {"instagram.permission.instagram_basic", "instagram.permission.instagram_manage_comments",
                           "instagram.permission.instagram_manage_messages", "instagram.expiry", "instagram.account"}
    assert checks["instagram.account"].detail == "the account @acme is reachable"
    assert checks["instagram.expiry"].detail == "the Instagram token never expires"


def test_a_missing_permission_names_the_feature_and_the_fix(start) -> None:
    graph = start()
    graph.token.scopes.discard("instagram_manage_messages")
    graph.token.scopes.discard("pages_read_engagement")
    checks = by_name(graph)
    dms = checks["instagram.permission.instagram_manage_messages"]
    reads = checks["instagram.permission.instagram_basic"]
    assert (dms.status, reads.status) == (Status.FAIL, Status.FAIL)
    assert dms.line.startswith("✗ instagram: Instagram DMs and private replies: the token lacks "
                               "instagram_manage_messages — add the permission to the app (App Review")
    assert "lacks pages_read_engagement" in reads.detail
    assert checks["instagram.permission.instagram_manage_comments"].status is Status.OK


def test_an_expired_token_fails_with_the_fix_and_expires_now(start) -> None:
    graph = start()
    graph.expire_token(NOW - timedelta(hours=1))
    [check] = connect(graph).doctor(NOW)
    assert (check.name, check.status) == ("instagram.token", Status.FAIL)
    assert "has expired" in check.detail and "generate a new Page token" in check.fix
    expiry = connect(graph).credential_expiry(NOW)
    assert expiry is not None and expiry.at == NOW and "INSTAGRAM_TOKEN" in expiry.what


@pytest.mark.parametrize(("left", "status", "words"), [
    (timedelta(days=3), Status.WARN, "expires in 3 days"),
    (timedelta(hours=20), Status.WARN, "expires in 20 hours"),
    (timedelta(days=59), Status.OK, "(in 59 days)"),
])
def test_the_expiry_warns_within_a_week(start, left, status, words) -> None:
    at = NOW + left
    graph = start(token_expires_at=int(at.timestamp()))
    check = by_name(graph)["instagram.expiry"]
    assert check.status is status and words in check.detail, check.line
    assert bool(check.fix) is (status is Status.WARN)
    expiry = connect(graph).credential_expiry(NOW)
    assert expiry is not None and expiry.at == at


def test_a_token_that_never_expires_has_no_expiry_and_a_wrong_account_is_named(start) -> None:
    graph = start()
    assert connect(graph).credential_expiry(NOW) is None
    account = by_name(graph, "17840000000000999")["instagram.account"]
    assert account.status is Status.FAIL and "INSTAGRAM_ACCOUNT_ID" in account.fix


def test_with_webhooks_the_page_subscription_and_its_permission_are_checked(start) -> None:
    graph = start()
    checks = {c.name: c for c in connect(graph, webhooks=True).doctor(NOW)}
    assert checks["instagram.subscription"].status is Status.OK
    assert checks["instagram.permission.pages_manage_metadata"].status is Status.OK
    graph.token.subscribed_fields = None  # Page subscriptions off: webhooks never arrive
    off = {c.name: c for c in connect(graph, webhooks=True).doctor(NOW)}["instagram.subscription"]
    assert off.status is Status.FAIL and "no Instagram webhook reaches Parley" in off.detail
    assert "comments, mentions and messages" in off.fix
    graph.token.scopes.discard("pages_manage_metadata")
    lacking = {c.name: c for c in connect(graph, webhooks=True).doctor(NOW)}
    assert lacking["instagram.permission.pages_manage_metadata"].status is Status.FAIL
    assert "cannot read the Page subscription" in lacking["instagram.subscription"].detail
    assert "instagram.subscription" not in by_name(graph)  # polling only: not asked
