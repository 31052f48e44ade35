"""A spike never skips a post: the real connectors poll the emulators and the Ingestor stores.

Drives `poll_connector` directly (no Slack delivery, no scheduler): what counts is what the store
holds afterwards, each message exactly once, and what the emulators were asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from bot.inbound.ingest import Ingestor, IngestResult
from bot.inbound.poll import poll_connector
from bot.inbound.routing import Router, RoutingConfig
from bot.store.database import Store
from bot.store.models import Message
from connectors.backfill import left_out
from connectors.base import Batch
from connectors.x.connector import XConnector
from sandbox.emulators.x_api import XEmulator

pytestmark = pytest.mark.e2e


@pytest.fixture
def x() -> Iterator[XEmulator]:
    with XEmulator(brand_username="acme", brand_name="Acme") as emulator:
        yield emulator  # type: ignore[misc]


def connector(x: XEmulator, **options: object) -> XConnector:
    return XConnector(bearer_token="bearer", consumer_key="ck", consumer_secret="cs", access_token="at",
                      access_token_secret="ats", api_url=x.base_url, retry_backoff=0.0,
                      **options)  # type: ignore[arg-type]


def stored(store: Store) -> tuple[int, int]:
    """(messages, distinct external ids) in the store."""
    with store.transaction() as session:
        total = session.exec(select(func.count()).select_from(Message)).one()
        distinct = session.exec(select(func.count(func.distinct(Message.external_id)))).one()
    return total, distinct


def now() -> datetime:
    return datetime.now(UTC)


def test_3000_mentions_between_two_polls_after_a_first_empty_poll_are_all_stored_once(
        x: XEmulator, sqlite_store: Store) -> None:
    ingestor = Ingestor(sqlite_store, Router(RoutingConfig(), "C-SUPPORT"))
    app = connector(x)
    first = poll_connector(app, sqlite_store, ingestor, now())  # a quiet new install: nothing there yet
    assert first.stored == 0 and sqlite_store.cursors()["x:mentions"] is not None  # the starting point

    for n in range(3000):
        author = x.add_user(f"fan{n}", f"Fan {n}")
        x.add_tweet(author, f"@acme is the app down? ({n})")
    summary = poll_connector(app, sqlite_store, ingestor, now())

    assert summary.stored == 3000 and summary.new_conversations == 3000
    assert stored(sqlite_store) == (3000, 3000)
    assert app.health.ok
    # X's mentions timeline reaches back 800 posts (the first, empty poll, then 8 pages of 100); the
    # other 2 200 come from recent search for @acme, below the oldest the timeline gave, every page
    assert len([c for c in x.calls_to("/mentions$") if "start_time" in c.query]) == 1 + 8
    fill = x.calls_to("/search/recent$")
    assert len(fill) == 22 and {(c.query["query"], c.query["until_id"]) for c in fill} == {
        ("@acme", fill[0].query["until_id"])}
    assert sqlite_store.cursors()["x:mentions"] == max(x.accounts.tweets, key=int)  # the newest, at the end


def test_a_new_search_reads_every_hit_in_the_backfill_window_and_reports_the_older_ones(
        x: XEmulator, sqlite_store: Store) -> None:
    ingestor = Ingestor(sqlite_store, Router(RoutingConfig(), "C-SUPPORT"))
    bob = x.add_user("bob", "Bob")
    for n in range(40):  # older than the 24 h window, oldest first (ids grow with time)
        x.add_tweet(bob, f"kettle trouble, old {n}", created_at=now() - timedelta(hours=30, minutes=-n))
    for n in range(1200):
        x.add_tweet(bob, f"kettle trouble {n}", created_at=now() - timedelta(hours=20, minutes=-n))

    app = connector(x, search_queries={"kettles": "kettle"}, backfill=timedelta(hours=24))
    poll_connector(app, sqlite_store, ingestor, now())

    assert stored(sqlite_store) == (1200, 1200)
    [report] = [r for r in left_out(sqlite_store.cursors()) if r.stream == "x:search:kettles"]
    assert (report.count, report.more) == (40, False)
    assert now() - timedelta(hours=24, seconds=30) < report.before < now() - timedelta(hours=23)


class ArmAfter:
    """The Ingestor, arming X's 429 on the mentions timeline once `after` batches are stored:
    a rate limit in the middle of paging, as a spike hits it."""

    def __init__(self, ingestor: Ingestor, x: XEmulator, after: int) -> None:
        self.ingestor, self.x, self.after, self.reset = ingestor, x, after, 0

    def ingest(self, batch: Batch, *, polled: bool = False) -> IngestResult:
        result = self.ingestor.ingest(batch, polled=polled)
        if batch.stream == "x:mentions" and batch.messages:
            self.after -= 1
            if self.after == 0:
                self.reset = self.x.rate_limit_next(r"/mentions$", reset_in_seconds=300)
        return result


def test_a_429_in_the_middle_of_paging_resumes_after_the_reset_and_stores_each_once(
        x: XEmulator, sqlite_store: Store) -> None:
    ingestor = Ingestor(sqlite_store, Router(RoutingConfig(), "C-SUPPORT"))
    app = connector(x)
    poll_connector(app, sqlite_store, ingestor, now())
    starting_point = sqlite_store.cursors()["x:mentions"]
    for n in range(1000):
        x.add_tweet(x.add_user(f"user{n}", f"User {n}"), f"@acme order {n} is late")

    armed = ArmAfter(ingestor, x, after=3)
    partial = poll_connector(app, sqlite_store, armed, now())  # type: ignore[arg-type]

    assert partial.stored == 300 and stored(sqlite_store) == (300, 300)
    assert sqlite_store.cursors()["x:mentions"] == starting_point  # not past the unread pages
    until = datetime.fromtimestamp(armed.reset, UTC)
    assert app.paused["x:mentions"] == until
    assert poll_connector(app, sqlite_store, ingestor, until - timedelta(seconds=1)).stored == 0  # still paused

    resumed = poll_connector(app, sqlite_store, ingestor, until + timedelta(seconds=1))

    assert resumed.stored == 700 and resumed.duplicates == 300
    assert stored(sqlite_store) == (1000, 1000)
    assert sqlite_store.cursors()["x:mentions"] == max(x.accounts.tweets, key=int)
