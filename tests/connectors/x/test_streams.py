"""Where X streams start and how far back they reach: DMs, searches at the 7-day edge, the emulator's
own time bounds. The real tweepy.Client against a started XEmulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import tweepy

from connectors.backfill import left_out
from connectors.base import Batch
from connectors.x.connector import XConnector
from connectors.x.transport import mount_base_url
from sandbox.emulators.x_api import XEmulator

pytestmark = pytest.mark.e2e


@pytest.fixture
def x() -> Iterator[XEmulator]:
    with XEmulator(brand_username="acme", brand_name="Acme") as emulator:
        yield emulator  # type: ignore[misc]


def make_connector(x: XEmulator, **options: object) -> XConnector:
    return XConnector(bearer_token="bearer", consumer_key="ck", consumer_secret="cs", access_token="at",
                      access_token_secret="ats", api_url=x.base_url, retry_backoff=0.0,
                      **options)  # type: ignore[arg-type]


def now() -> datetime:
    return datetime.now(UTC)


def cursors_after(batches: list[Batch], cursors: dict[str, str | None] | None = None) -> dict[str, str | None]:
    merged = dict(cursors or {})
    merged.update({b.stream: b.cursor for b in batches if b.cursor is not None})
    return merged


def dm_ids(batches: list[Batch]) -> list[str]:
    return [m.external_id for b in batches if b.stream == "x:dm" for m in b.messages]


def test_dms_after_a_first_empty_poll_are_all_read_and_older_ones_are_reported(x: XEmulator) -> None:
    bob = x.add_user("bob", "Bob")
    old = [x.add_dm(bob, f"old {n}", created_at=now() - timedelta(hours=30)) for n in range(3)]
    connector = make_connector(x, backfill=timedelta(hours=24))
    first = list(connector.poll({}, now()))
    cursors = cursors_after(first)
    assert dm_ids(first) == [] and (cursors["x:dm"] or "").startswith("t:")
    [report] = left_out(cursors)
    assert (report.stream, report.count) == ("x:dm", len(old))

    spike = [x.add_dm(x.add_user(f"u{n}", f"U {n}"), f"help {n}") for n in range(250)]
    second = list(connector.poll(cursors, now() + timedelta(minutes=1)))  # DMs: one poll a minute at most

    assert sorted(dm_ids(second)) == sorted(spike)
    assert [b.cursor for b in second if b.stream == "x:dm"][-1] == spike[-1]


def test_a_search_never_starts_before_recent_searchs_7_days(x: XEmulator) -> None:
    bob = x.add_user("bob", "Bob")
    hit = x.add_tweet(bob, "acme kettle", created_at=now() - timedelta(days=6))
    connector = make_connector(x, search_queries={"acme": "acme"}, backfill=timedelta(days=30))

    batches = list(connector.poll({}, now()))

    assert [m.external_id for b in batches for m in b.messages if b.stream == "x:search:acme"] == [hit]
    assert connector.health.ok  # X would refuse a start_time older than 7 days


def test_a_search_cursor_out_of_reach_restarts_at_the_window_edge_and_says_the_gap_is_unknown(
        x: XEmulator) -> None:
    bob = x.add_user("bob", "Bob")
    stale = x.add_tweet(bob, "acme once", created_at=now() - timedelta(days=9))
    fresh = x.add_tweet(bob, "acme today")
    connector = make_connector(x, search_queries={"acme": "acme"})

    batches = [b for b in connector.poll({"x:search:acme": stale}, now()) if b.stream.startswith("x:search:acme")]

    assert [m.external_id for b in batches for m in b.messages] == [fresh]
    [report] = left_out(cursors_after(batches))
    assert report.count is None and report.before > now() - timedelta(days=7)


def test_the_emulator_refuses_search_times_x_refuses(x: XEmulator) -> None:
    client = tweepy.Client(bearer_token="bearer", return_type=dict)
    mount_base_url(client.session, x.base_url)
    with pytest.raises(tweepy.BadRequest, match="start_time"):
        client.search_recent_tweets("acme", start_time=now() - timedelta(days=8))
    with pytest.raises(tweepy.BadRequest, match="end_time"):
        client.search_recent_tweets("acme", end_time=now())
    assert client.search_recent_tweets("acme", end_time=now() - timedelta(seconds=30))["meta"]["result_count"] == 0


def test_a_search_starting_point_out_of_reach_restarts_at_the_window_edge(x: XEmulator) -> None:
    fresh = x.add_tweet(x.add_user("bob", "Bob"), "acme today")
    connector = make_connector(x, search_queries={"acme": "acme"})
    stale = "t:" + (now() - timedelta(days=8)).replace(microsecond=0).isoformat()  # paused for 8 days

    batches = [b for b in connector.poll({"x:search:acme": stale}, now()) if b.stream.startswith("x:search")]

    assert [m.external_id for b in batches for m in b.messages] == [fresh] and connector.health.ok
    assert [r.count for r in left_out(cursors_after(batches))] == [None]
