"""X spend counted as X bills it (per post, per DM event, the same item once a UTC day, a post with a
URL at the URL price), compared with what the emulator billed; the budget stops searches first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import Batch
from connectors.x.connector import XConnector
from connectors.x.spend import MemoryLedger, Spend, parse_prices, post_unit
from sandbox.emulators.x_api import XEmulator

pytestmark = pytest.mark.e2e
SECRETS = ("bearer-s3cret", "ck-s3cret", "cs-s3cret", "at-s3cret", "ats-s3cret")
DAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a scripted day (the emulator's clock too)


class Clock:
    def __init__(self) -> None:
        self.now = DAY

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def x(clock: Clock) -> Iterator[XEmulator]:
    with XEmulator(brand_username="acme", brand_name="Acme", clock=lambda: clock.now.timestamp()) as emulator:
        yield emulator  # type: ignore[misc]


def connector(x: XEmulator, clock: Clock, meter: Spend, **options: object) -> XConnector:
    return XConnector(bearer_token=SECRETS[0], consumer_key=SECRETS[1], consumer_secret=SECRETS[2],
                      access_token=SECRETS[3], access_token_secret=SECRETS[4], api_url=x.base_url,
                      retry_backoff=0.0, page_size=5, meter=meter, clock=clock,
                      **options)  # type: ignore[arg-type]


def poll(c: XConnector, cursors: dict[str, str | None], now: datetime) -> list[Batch]:
    batches = list(c.poll(cursors, now))
    cursors.update({b.stream: b.cursor for b in batches if b.cursor is not None})
    return batches


def test_a_scripted_day_costs_exactly_what_x_bills(x: XEmulator, clock: Clock) -> None:
    bob, carol, erin = x.add_user("bob", "Bob"), x.add_user("carol", "Carol"), x.add_user("erin", "Erin")
    early = DAY - timedelta(minutes=5)
    m1 = x.add_tweet(bob, "@acme where is my order", created_at=early)
    m2 = x.add_tweet(bob, "@acme hello?", created_at=early)
    x.add_tweet(carol, "this kettle leaks", created_at=early)  # a search hit
    x.add_tweet(carol, "@acme the kettle broke", created_at=early)  # a mention the search finds too
    for text in ("hi", "order 123"):
        x.add_dm(erin, text, created_at=early)
    meter = Spend(MemoryLedger())
    c = connector(x, clock, meter, search_queries={"kettles": "kettle"})
    cursors: dict[str, str | None] = {}

    poll(c, cursors, DAY)  # 3 own mentions, 2 search hits, 2 DM events
    clock.now = DAY + timedelta(minutes=2)
    poll(c, cursors, clock.now)  # the DM page again (the same events): billed once a day
    c.reply_public(m1, "Sorry! Checking now")
    c.reply_public(m2, "Track it here: https://acme.example/track")  # a post with a URL
    c.send_dm(erin, "Could you send your order number?")

    # own mentions 3 x 0.001 + posts read 2 x 0.005 + DM events 2 x 0.010
    # + a post 0.015 + a post with a URL 0.200 + a DM 0.015
    expected = 0.003 + 0.010 + 0.020 + 0.015 + 0.200 + 0.015
    assert meter.totals(clock.now).today == pytest.approx(expected, abs=1e-9)
    assert x.billing.dollars(DAY.date()) == pytest.approx(expected, abs=1e-9)
    assert meter.totals(clock.now).words() == "X spend: $0.26 today, $0.26 this month"

    # A new UTC day: the DM page (Erin's two and the brand's own DM) is billed again, 3 x 0.010.
    clock.now = DAY + timedelta(days=1)
    poll(c, cursors, clock.now)
    assert meter.totals(clock.now).today == pytest.approx(0.030, abs=1e-9)
    assert meter.totals(clock.now).month == pytest.approx(expected + 0.030, abs=1e-9)
    assert x.billing.dollars(clock.now.date()) == pytest.approx(0.030, abs=1e-9)


def test_at_100_percent_the_budget_stops_searches_but_not_mentions_or_dms(x: XEmulator, clock: Clock) -> None:
    bob, carol = x.add_user("bob", "Bob"), x.add_user("carol", "Carol")
    x.add_tweet(carol, "this kettle leaks", created_at=DAY - timedelta(minutes=5))
    x.add_tweet(carol, "kettle number two", created_at=DAY - timedelta(minutes=5))
    meter = Spend(MemoryLedger(), daily_budget=0.010)  # the two search hits spend exactly the budget
    c = connector(x, clock, meter, search_queries={"kettles": "kettle"})
    cursors: dict[str, str | None] = {}
    poll(c, cursors, DAY)
    searches = len(x.calls_to(r"/2/tweets/search/recent$"))

    mention = x.add_tweet(bob, "@acme my kettle leaks too", created_at=DAY + timedelta(minutes=1))
    x.add_tweet(carol, "a third kettle", created_at=DAY + timedelta(minutes=1))
    clock.now = DAY + timedelta(minutes=2)
    heard = [m.external_id for b in poll(c, cursors, clock.now) for m in b.messages]

    assert len(x.calls_to(r"/2/tweets/search/recent$")) == searches  # searches stopped: no X call
    assert heard == [mention]  # own mentions are still read
    assert "X budget reached: searches stopped" in (c.health.last_error or "")
    assert x.calls_to(r"/2/dm_events$")  # DMs are still read


def test_stop_order_is_searches_then_mentions_then_dms() -> None:
    meter = Spend(MemoryLedger(), daily_budget=1.0, prices={"post": 1.0})
    meter.charge("post", ["a"], DAY)  # 100%
    assert [meter.stopped(s, DAY) is not None for s in ("search", "mentions", "dm")] == [True, False, False]
    meter.prices["post"] = 1.15  # 115%
    assert [meter.stopped(s, DAY) is not None for s in ("search", "mentions", "dm")] == [True, True, False]
    report = meter.report(DAY)
    assert report.stopped == ("searches", "own mentions") and report.reading == ("DMs",)
    assert [t.key for t in report.crossed] == ["day:2026-03-02:80", "day:2026-03-02:100", "day:2026-03-02:110"]
    assert Spend(MemoryLedger(), daily_budget=1.0).report(DAY).crossed == ()


def test_prices_are_configurable_and_a_url_costs_the_url_price() -> None:
    assert parse_prices("post_read=0.004, post_url=0.25")["post_read"] == 0.004
    assert parse_prices(None)["owned_read"] == 0.001
    with pytest.raises(ValueError, match="not an X billing unit"):
        parse_prices("posts=1")
    assert post_unit("see https://acme.example") == "post_url" and post_unit("thanks!") == "post"
