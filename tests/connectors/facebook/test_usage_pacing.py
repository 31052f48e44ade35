"""Graph's usage headers (X-App-Usage, X-Page-Usage, X-Business-Use-Case-Usage) read on every answer:
polling slows down above 80% of a rate limit and again above 95%, webhooks are untouched, and the
share is reported in `health` for /metrics. The emulator sends the header as Graph does for Page tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from connectors.facebook.graph import paced_until, usage_pause, usage_share
from connectors.instagram.connector import InstagramConnector
from sandbox.emulators.graph_api import GraphEmulator
from tests.connectors.facebook.test_connector import NOW, PAGE, TOKEN, connect, poll


@pytest.fixture
def fb_graph() -> Iterator[GraphEmulator]:
    emulator = GraphEmulator(page_id=PAGE, page_name="Acme", page_token=TOKEN).start()
    yield emulator
    emulator.stop()


def test_the_largest_share_of_any_usage_header_counts() -> None:
    app = {"x-app-usage": json.dumps({"call_count": 28, "total_time": 12, "total_cputime": 9})}
    assert usage_share(app) == 0.28
    page = {"x-page-usage": json.dumps({"call_count": 3, "total_time": 91, "total_cputime": 4})}
    assert usage_share(page) == 0.91
    buc = {"x-business-use-case-usage": json.dumps({PAGE: [{"type": "pages", "call_count": 82, "total_cputime": 20,
                                                            "total_time": 30, "estimated_time_to_regain_access": 0}]})}
    assert usage_share({**buc, **app}) == 0.82
    assert usage_share({}) is None and usage_share({"x-app-usage": "not json"}) is None
    assert usage_pause(buc) is None  # 0 minutes to regain: no pause, only pacing


def test_pacing_steps_at_80_and_95_percent() -> None:
    assert paced_until(None, NOW) is None and paced_until(0.79, NOW) is None
    assert paced_until(0.8, NOW) == NOW + timedelta(minutes=5)
    assert paced_until(0.95, NOW) == NOW + timedelta(minutes=15)


def test_polling_slows_above_80_percent_and_resumes_when_usage_drops(fb_graph: GraphEmulator) -> None:
    fb = connect(fb_graph)
    poll(fb)
    assert fb.health.rate_usage == 0.01 and fb.health.paused_until is None  # the emulator's default 1%

    fb_graph.usage_percent = 85
    poll(fb, now=NOW + timedelta(minutes=1))
    assert fb.health.rate_usage == 0.85 and fb.health.ok
    assert fb.health.paused_until == NOW + timedelta(minutes=6)
    calls = len(fb_graph.calls)
    assert poll(fb, now=NOW + timedelta(minutes=4)) == [] and len(fb_graph.calls) == calls  # paced: no call

    fb_graph.usage_percent = 97
    poll(fb, now=NOW + timedelta(minutes=6))
    assert len(fb_graph.calls) > calls and fb.health.paused_until == NOW + timedelta(minutes=21)

    fb_graph.usage_percent = 40
    poll(fb, now=NOW + timedelta(minutes=21))
    assert fb.health.rate_usage == 0.4 and fb.health.paused_until is None


def test_no_header_leaves_the_last_reported_share(fb_graph: GraphEmulator) -> None:
    fb = connect(fb_graph)
    fb_graph.usage_percent = 50
    poll(fb)
    fb_graph.usage_percent = None  # "absence is not zero usage"
    poll(fb, now=NOW + timedelta(minutes=1))
    assert fb.health.rate_usage == 0.5


def test_instagram_paces_on_the_same_headers() -> None:
    with GraphEmulator(page_id=PAGE, page_name="Acme", page_token=TOKEN) as graph:
        graph.usage_percent = 90
        ig = InstagramConnector(account_id=graph.instagram.id, token=TOKEN, page_id=PAGE,
                                graph_url=graph.base_url + "/", graph_version="v25.0")
        list(ig.poll({}, NOW))
        calls = len(graph.calls)
        assert ig.health.rate_usage == 0.9 and ig.health.paused_until == NOW + timedelta(minutes=5)
        assert list(ig.poll({}, NOW + timedelta(minutes=2))) == [] and len(graph.calls) == calls
