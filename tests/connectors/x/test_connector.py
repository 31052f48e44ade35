"""XConnector end to end: the real tweepy.Client against a started XEmulator (no network).

Assertions are on what the connector yielded and on what the emulator recorded (paths, query
parameters, bodies), never on timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.inbound.ingest import Ingestor
from bot.inbound.poll import poll_connector
from bot.inbound.routing import Router, RoutingConfig
from bot.store.database import Store
from bot.store.models import Message
from connectors.backfill import left_out
from connectors.base import Batch, Kind, Platform, SendError
from connectors.x.connector import XConnector
from sandbox.emulators.server import Request
from sandbox.emulators.x_api import XEmulator

pytestmark = pytest.mark.e2e
SECRETS = ("bearer-s3cret", "ck-s3cret", "cs-s3cret", "at-s3cret", "ats-s3cret")


@pytest.fixture
def x() -> Iterator[XEmulator]:
    with XEmulator(brand_username="acme", brand_name="Acme") as emulator:
        yield emulator  # type: ignore[misc]


def make_connector(x: XEmulator, **options: object) -> XConnector:
    settings: dict[str, object] = {"page_size": 5, "retry_backoff": 0.0}
    settings.update(options)
    return XConnector(bearer_token=SECRETS[0], consumer_key=SECRETS[1], consumer_secret=SECRETS[2],
                      access_token=SECRETS[3], access_token_secret=SECRETS[4], api_url=x.base_url,
                      **settings)  # type: ignore[arg-type]


def now() -> datetime:
    return datetime.now(UTC)


def by_stream(batches: list[Batch], stream: str) -> list[Batch]:
    return [b for b in batches if b.stream == stream]


def cursors_after(batches: list[Batch]) -> dict[str, str | None]:
    return {b.stream: b.cursor for b in batches if b.cursor is not None}


def reads(x: XEmulator, path: str) -> list[Request]:
    """The calls that read a stream (not the one that counts what lies before a new stream's start)."""
    return [c for c in x.calls_to(path) if "end_time" not in c.query]


def test_mentions_page_until_caught_up_and_move_the_cursor_only_at_the_end(x: XEmulator) -> None:
    bob = x.add_user("bob", "Bob Smith", followers=4200, verified=True)
    ids = [x.add_tweet(bob, f"@acme order {n} never arrived", lang="en") for n in range(12)]
    connector = make_connector(x)

    start, *batches = by_stream(list(connector.poll({}, now())), "x:mentions")

    assert start.messages == [] and (start.cursor or "").startswith("t:")  # the starting point, persisted first
    assert [b.cursor for b in batches] == [None, None, ids[-1]]
    assert sorted(m.external_id for b in batches for m in b.messages) == sorted(ids)
    calls = reads(x, "/mentions$")
    assert [c.query.get("pagination_token") is None for c in calls] == [True, False, False]
    assert calls[0].query["max_results"] == "5" and "since_id" not in calls[0].query
    assert calls[0].query["start_time"] == (start.cursor or "").removeprefix("t:").replace("+00:00", "Z")
    assert calls[0].headers["authorization"].startswith("Bearer ")  # app auth for public reads
    record = batches[0].messages[-1]
    assert (record.platform, record.kind, record.thread_key) == (Platform.X, Kind.MENTION, record.external_id)
    assert record.url == f"https://x.com/bob/status/{record.external_id}"
    assert (record.author.handle, record.author.name, record.author.followers, record.author.verified) == (
        "bob", "Bob Smith", 4200, True)
    assert record.lang_hint == "en" and record.created_at.tzinfo is not None
    assert connector.health.ok and connector.health.last_success_at is not None


def test_the_next_poll_asks_only_for_tweets_after_the_cursor(x: XEmulator) -> None:
    bob = x.add_user("bob", "Bob")
    x.add_tweet(bob, "@acme first")
    connector = make_connector(x)
    cursors = cursors_after(list(connector.poll({}, now())))
    fresh = [x.add_tweet(bob, "@acme second"), x.add_tweet(bob, "@acme third")]

    batches = by_stream(list(connector.poll(cursors, now())), "x:mentions")

    assert x.calls_to("/mentions$")[-1].query["since_id"] == cursors["x:mentions"]
    assert [m.external_id for b in batches for m in b.messages] == fresh  # oldest first
    assert batches[-1].cursor == fresh[-1]
    assert by_stream(list(connector.poll({**cursors, "x:mentions": fresh[-1]}, now())), "x:mentions") == []


def test_first_run_backfills_every_page_of_its_time_window_and_reports_what_is_older(x: XEmulator) -> None:
    bob = x.add_user("bob", "Bob")
    older = [x.add_tweet(bob, f"@acme ancient {n}", created_at=now() - timedelta(hours=30 - n)) for n in range(3)]
    ids = [x.add_tweet(bob, f"@acme backlog {n}", created_at=now() - timedelta(hours=20)) for n in range(12)]
    connector = make_connector(x, backfill=timedelta(hours=24))

    batches = list(connector.poll({}, now()))

    mentions = by_stream(batches, "x:mentions")
    assert sorted(m.external_id for b in mentions for m in b.messages) == sorted(ids)
    assert mentions[-1].cursor == ids[-1] and len(reads(x, "/mentions$")) == 3  # no page cap
    [report] = left_out(cursors_after(batches))
    assert (report.stream, report.count, report.more) == ("x:mentions", len(older), False)
    assert now() - timedelta(hours=24, seconds=5) < report.before < now() - timedelta(hours=23)


def test_search_hits_are_tagged_with_their_query_name(x: XEmulator) -> None:
    bob = x.add_user("bob", "Bob")
    acme_hit = x.add_tweet(bob, "Acme Corp kettles are great", lang="en")
    rival_hit = x.add_tweet(bob, "rivalco support never answers", lang="en")
    x.add_tweet(bob, "RT this", retweet_of=acme_hit)
    connector = make_connector(x, search_queries={"acme": '(acme OR "acme corp") -is:retweet', "rival": "rivalco"})
    assert connector.streams == ("x:mentions", "x:search:acme", "x:search:rival", "x:dm")

    batches = list(connector.poll({}, now()))

    acme = [m for b in by_stream(batches, "x:search:acme") for m in b.messages]
    rival = [m for b in by_stream(batches, "x:search:rival") for m in b.messages]
    assert [(m.external_id, m.kind, m.query_names) for m in acme] == [(acme_hit, Kind.SEARCH_HIT, ("acme",))]
    assert [(m.external_id, m.query_names) for m in rival] == [(rival_hit, ("rival",))]
    queries = [c.query["query"] for c in reads(x, "/search/recent$")]
    assert queries == ['(acme OR "acme corp") -is:retweet', "rivalco"]
    assert by_stream(batches, "x:search:rival")[-1].cursor == rival_hit


def test_a_search_cursor_older_than_the_7_day_window_starts_afresh(x: XEmulator) -> None:
    bob = x.add_user("bob", "Bob")
    old = x.add_tweet(bob, "acme is fine", created_at=now() - timedelta(days=10))
    fresh = x.add_tweet(bob, "acme is down")
    connector = make_connector(x, search_queries={"acme": "acme"})

    batches = by_stream(list(connector.poll({"x:search:acme": old}, now())), "x:search:acme")

    assert [c.query.get("since_id") for c in x.calls_to("/search/recent$")] == [old, None]
    assert [m.external_id for b in batches for m in b.messages] == [fresh] and batches[-1].cursor == fresh
    assert connector.health.ok


def test_a_tweet_heard_twice_is_two_records_and_one_stored_message(x: XEmulator, sqlite_store: Store) -> None:
    bob = x.add_user("bob", "Bob")
    tweet = x.add_tweet(bob, "@acme my acme blender exploded")
    connector = make_connector(x, search_queries={"acme": "acme -is:retweet"})

    batches = list(connector.poll({}, now()))
    records = [m for b in batches for m in b.messages]
    # Found by the search too, it is still a mention (X lets the brand reply to it); the search's
    # name stays on it for share of voice.
    assert [(m.external_id, m.kind, m.query_names) for m in records] == [
        (tweet, Kind.MENTION, ()), (tweet, Kind.MENTION, ("acme",))]

    ingestor = Ingestor(sqlite_store, Router(RoutingConfig(), "C-SUPPORT"))
    for batch in batches:
        ingestor.ingest(batch)
    again = make_connector(x, search_queries={"acme": "acme -is:retweet"})
    poll_connector(again, sqlite_store, ingestor, now())  # re-reading from the stored cursors adds nothing
    with sqlite_store.transaction() as session:
        assert [m.external_id for m in session.exec(select(Message)).all()] == [tweet]
    assert sqlite_store.cursors()["x:mentions"] == tweet


def test_a_follow_up_in_the_same_conversation_has_the_same_thread_key(x: XEmulator) -> None:
    bob = x.add_user("bob", "Bob")
    root = x.add_tweet(bob, "@acme where is my refund?")
    brand_reply = x.add_tweet(x.brand_id, "Sorry! Checking now", in_reply_to=root)
    follow_up = x.add_tweet(bob, "still nothing", in_reply_to=brand_reply)
    other = x.add_tweet(bob, "@acme different topic: love the new app")

    records = {m.external_id: m for b in make_connector(x).poll({}, now()) for m in b.messages}

    assert set(records) == {root, follow_up, other}
    assert records[follow_up].thread_key == records[root].thread_key == root
    assert records[follow_up].in_reply_to == brand_reply
    assert records[other].thread_key == other


def test_the_brands_own_tweets_are_skipped_but_still_move_the_cursor(x: XEmulator) -> None:
    bob = x.add_user("bob", "Bob")
    customer = x.add_tweet(bob, "is acme down?")
    own = x.add_tweet(x.brand_id, "Acme status: all systems normal")
    connector = make_connector(x, search_queries={"acme": "acme"})

    batches = by_stream(list(connector.poll({}, now())), "x:search:acme")

    assert [m.external_id for b in batches for m in b.messages] == [customer]
    assert batches[-1].cursor == own  # seen, skipped, and not asked for again


def test_dms_are_read_until_the_cursor_and_the_brands_own_are_skipped(x: XEmulator) -> None:
    bob = x.add_user("bob", "Bob", followers=12)
    first = x.add_dm(bob, "hi, my card was charged twice")
    x.add_dm(x.brand_id, "Sorry to hear that, which card?", recipient_id=bob)
    second = x.add_dm(bob, "the visa one")
    connector = make_connector(x, page_size=2)

    batches = by_stream(list(connector.poll({}, now())), "x:dm")
    messages = [m for b in batches for m in b.messages]
    assert [m.external_id for m in messages] == [second, first]  # pages run newest to oldest
    low, high = sorted((x.brand_id, bob), key=int)
    assert {m.thread_key for m in messages} == {f"{low}-{high}"} and {m.kind for m in messages} == {Kind.DM}
    assert messages[0].author.handle == "bob" and messages[0].author.followers == 12
    assert (batches[0].cursor or "").startswith("t:") and [b.cursor for b in batches[1:]] == [None, second]
    calls = x.calls_to("/2/dm_events$")
    assert calls[0].headers["authorization"].startswith("OAuth ") and calls[0].query["max_results"] == "2"

    third = x.add_dm(bob, "hello?")
    before = len(x.calls_to("/2/dm_events$"))
    # a minute later: DMs are polled at most once a minute (15 requests per 15 minutes on X)
    later = by_stream(list(connector.poll({"x:dm": second}, now() + timedelta(minutes=1))), "x:dm")
    assert [[m.external_id for m in b.messages] for b in later] == [[third]]
    assert later[-1].cursor == third
    assert len(x.calls_to("/2/dm_events$")) == before + 1  # stopped at the first event already seen


def test_a_429_on_mentions_pauses_only_mentions_until_the_reset(x: XEmulator) -> None:
    bob = x.add_user("bob", "Bob")
    mention = x.add_tweet(bob, "@acme hello")
    dm = x.add_dm(bob, "psst")
    reset = x.rate_limit_next(r"/mentions$", times=1, reset_in_seconds=600)
    connector = make_connector(x, search_queries={"acme": "acme"})
    start = now()

    batches = list(connector.poll({}, start))

    [starting_point] = by_stream(batches, "x:mentions")  # persisted before X was asked anything
    assert starting_point.messages == [] and (starting_point.cursor or "").startswith("t:")
    assert [m.external_id for b in by_stream(batches, "x:search:acme") for m in b.messages] == [mention]
    assert [m.external_id for b in by_stream(batches, "x:dm") for m in b.messages] == [dm]
    until = datetime.fromtimestamp(reset, UTC)
    assert connector.health.paused_until == until == connector.paused["x:mentions"]
    assert not connector.health.ok and "rate limit" in (connector.health.last_error or "")
    assert "mentions" in (connector.health.last_error or "")

    calls = len(x.calls_to("/mentions$"))
    list(connector.poll({}, start + timedelta(seconds=60)))  # still paused: X is not asked at all
    assert len(x.calls_to("/mentions$")) == calls
    resumed = by_stream(list(connector.poll({}, until + timedelta(seconds=1))), "x:mentions")
    assert [m.external_id for b in resumed for m in b.messages] == [mention]
    assert connector.health.ok and connector.health.paused_until is None


def test_server_errors_on_reads_are_retried(x: XEmulator) -> None:
    bob = x.add_user("bob", "Bob")
    mention = x.add_tweet(bob, "@acme hi")
    x.error_next(r"/mentions$", 503, times=2)

    batches = by_stream(list(make_connector(x).poll({}, now())), "x:mentions")

    assert [m.external_id for b in batches for m in b.messages] == [mention]
    assert len(reads(x, "/mentions$")) == 1 and len(x.calls_to("/mentions$")) == 4  # the count, retried; the read


def test_a_lasting_outage_is_reported_not_raised_and_other_streams_go_on(x: XEmulator) -> None:
    bob = x.add_user("bob", "Bob")
    dm = x.add_dm(bob, "hi")
    x.error_next(r"/mentions$", 502, times=10)
    connector = make_connector(x)

    batches = list(connector.poll({}, now()))

    assert [m.external_id for b in batches for m in b.messages] == [dm]
    assert len(reads(x, "/mentions$")) == 4  # the first try and three retries
    assert connector.health.last_error == "X had a server problem while reading mentions; will try again."


def test_rejected_credentials_are_reported_in_plain_words(x: XEmulator) -> None:
    x.error_next(r"/2/users/me$", 401)
    connector = make_connector(x)

    assert list(connector.poll({}, now())) == []
    error = connector.health.last_error or ""
    assert not connector.health.ok and "credentials" in error
    assert not any(secret in error for secret in SECRETS)

    x.error_next(r"/2/dm_events$", 403, detail="This app is not permitted to access Direct Messages")
    list(connector.poll({}, now()))
    error = connector.health.last_error or ""
    assert "reading DMs" in error and "not permitted" in error


def test_outbound_reply_and_dm(x: XEmulator) -> None:
    bob = x.add_user("bob", "Bob")
    root = x.add_tweet(bob, "@acme help")
    connector = make_connector(x)

    reply = connector.reply_public(root, "We're on it, Bob")
    dm = connector.send_dm(bob, "Could you send your order number?")

    assert x.created_tweets == [
        {"id": reply.external_id, "text": "@bob We're on it, Bob", "in_reply_to_tweet_id": root}]
    assert reply.url == f"https://x.com/acme/status/{reply.external_id}"
    assert x.sent_dms[0]["id"] == dm.external_id and x.sent_dms[0]["participant_id"] == bob
    assert dm.url == f"https://x.com/messages/{x.sent_dms[0]['dm_conversation_id']}"
    assert x.calls_to("/2/tweets$", "POST")[0].headers["authorization"].startswith("OAuth ")


def test_refused_dm_and_failed_posts_raise_send_error_without_retrying(x: XEmulator) -> None:
    closed = x.add_user("closed", "Closed", accepts_dms=False)
    root = x.add_tweet(closed, "@acme hi")
    connector = make_connector(x)

    with pytest.raises(SendError) as refused:
        connector.send_dm(closed, "hello")
    assert (refused.value.message, refused.value.code, refused.value.retryable) == (
        "This person doesn't accept DMs from the brand", "403", False)

    x.error_next(r"/2/tweets$", 503)
    with pytest.raises(SendError) as outage:
        connector.reply_public(root, "hello")
    assert outage.value.retryable and outage.value.code == "503"
    assert len(x.calls_to("/2/tweets$", "POST")) == 1  # a POST is never retried blindly
    assert x.created_tweets == []

    x.rate_limit_next(r"/2/tweets$", reset_in_seconds=120)
    with pytest.raises(SendError) as limited:
        connector.reply_public(root, "hello")
    assert limited.value.retryable and limited.value.code == "429"
