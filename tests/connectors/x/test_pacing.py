"""Rate-aware X polling under a controlled clock: DM polling never exceeds X's 15 requests per 15
minutes, backfill pages included; and the strict emulator's own windows and reply rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from connectors.base import SendError
from connectors.x.connector import XConnector
from connectors.x.pacing import RequestLog
from sandbox.emulators.x_api import XEmulator

pytestmark = pytest.mark.e2e
SECRETS = ("bearer-s3cret", "ck-s3cret", "cs-s3cret", "at-s3cret", "ats-s3cret")
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Clock:
    now = START


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def x(clock: Clock) -> Iterator[XEmulator]:
    with XEmulator(brand_username="acme", brand_name="Acme", clock=lambda: clock.now.timestamp()) as emulator:
        yield emulator  # type: ignore[misc]


def connector(x: XEmulator, **options: object) -> XConnector:
    return XConnector(bearer_token=SECRETS[0], consumer_key=SECRETS[1], consumer_secret=SECRETS[2],
                      access_token=SECRETS[3], access_token_secret=SECRETS[4], api_url=x.base_url,
                      retry_backoff=0.0, **options)  # type: ignore[arg-type]


def test_dm_polling_never_exceeds_15_requests_per_15_minutes_including_backfill(x: XEmulator, clock: Clock) -> None:
    erin = x.add_user("erin", "Erin")
    backlog = [x.add_dm(erin, f"old {n}", created_at=START - timedelta(hours=2)) for n in range(8)]
    c = connector(x, page_size=1)  # one event per page: the backfill alone takes 9 pages
    cursors: dict[str, str | None] = {}
    request_times: list[datetime] = []
    heard: list[str] = []
    later: list[str] = []
    for tick in range(135):  # every 20 s for 45 minutes: three times faster than the DM window allows
        clock.now = START + timedelta(seconds=20 * tick)
        if tick % 9 == 5 and tick < 90:  # new DMs for 30 minutes (each poll that finds one reads 2 pages)
            later.append(x.add_dm(erin, f"new {tick}"))
        before = len(x.calls_to(r"/2/dm_events$"))
        for batch in c.poll(cursors, clock.now):
            heard += [m.external_id for m in batch.messages if batch.stream == "x:dm"]
            if batch.cursor is not None:
                cursors[batch.stream] = batch.cursor
        request_times += [clock.now] * (len(x.calls_to(r"/2/dm_events$")) - before)

    worst = max(sum(1 for t in request_times if start <= t < start + timedelta(minutes=15))
                for start in request_times)
    assert worst <= 15
    assert x.rate_limited == []  # no 429 from X's window
    assert set(backlog) | set(later) <= set(heard)  # and still every DM is heard


def test_the_request_log_is_a_sliding_15_minute_window() -> None:
    log = RequestLog(2)
    assert log.allow(START) and log.allow(START + timedelta(minutes=1))
    assert not log.allow(START + timedelta(minutes=14, seconds=59))
    assert log.allow(START + timedelta(minutes=15))


def test_the_emulator_answers_429_after_15_dm_event_requests(x: XEmulator) -> None:
    c = connector(x)
    statuses = [requests.get(f"{x.base_url}/2/dm_events", timeout=5,
                             headers={"Authorization": c.client.session.headers.get("Authorization", "OAuth x")}
                             ).status_code for _ in range(16)]
    assert statuses[-1] == 429 and 429 not in statuses[:15] and x.rate_limited == ["dm_events"]


def test_a_reply_x_refuses_under_its_2026_rule_is_explained_in_plain_words(x: XEmulator) -> None:
    hit = x.add_tweet(x.add_user("carol", "Carol"), "this kettle leaks")
    with pytest.raises(SendError) as refused:
        connector(x).reply_public(hit, "So sorry!")
    assert refused.value.code == "reply_not_allowed" and not refused.value.retryable
    words = str(refused.value)
    assert "only lets this app reply publicly to posts that mention the brand" in words
    assert f"https://x.com/intent/post?in_reply_to={hit}" in words and "permissions" not in words
    assert x.created_tweets == []


def test_the_emulator_lets_the_brand_reply_to_a_mention_a_quote_or_on_an_enterprise_plan(x: XEmulator) -> None:
    carol = x.add_user("carol", "Carol")
    own = x.add_tweet(x.brand_id, "Our new kettle is out")
    quote = x.add_tweet(carol, "look at this", quote_of=own)
    mention = x.add_tweet(carol, "@acme hello")
    hit = x.add_tweet(carol, "kettles are great")
    c = connector(x)
    c.reply_public(quote, "Thanks for sharing!")
    c.reply_public(mention, "Hello Carol!")
    x.tweet_endpoints.enterprise = True
    c.reply_public(hit, "Glad you like it")
    assert [t["in_reply_to_tweet_id"] for t in x.created_tweets] == [quote, mention, hit]
