"""FacebookConnector polling and sending through the real facebook-sdk client against GraphEmulator."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.inbound.ingest import Ingestor, IngestResult
from bot.inbound.poll import poll_connector
from bot.inbound.routing import Router, RoutingConfig
from bot.store.database import Store
from bot.store.models import Message
from connectors.backfill import left_out
from connectors.base import Batch, Kind, Platform, SendError
from connectors.facebook.connector import FEED, MESSENGER, TOKEN_ERROR, FacebookConnector
from sandbox.emulators.graph_api import GraphEmulator

PAGE, TOKEN = "5550001", "EAAG-secret-page-token"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def fb_graph() -> Iterator[GraphEmulator]:
    emulator = GraphEmulator(page_id=PAGE, page_name="Acme", page_token=TOKEN).start()
    yield emulator
    emulator.stop()


def connect(emulator: GraphEmulator, *, token: str = TOKEN, page_size: int = 50) -> FacebookConnector:
    return FacebookConnector(page_id=PAGE, page_token=token, graph_url=emulator.base_url + "/",
                             graph_version="v25.0", page_size=page_size)


@pytest.fixture
def fb(fb_graph: GraphEmulator) -> FacebookConnector:
    return connect(fb_graph)


def poll(connector: FacebookConnector, cursors: dict[str, str | None] | None = None,
         now: datetime = NOW) -> list[Batch]:
    return list(connector.poll(cursors or {}, now))


def messages(batches: list[Batch], stream: str | None = None) -> dict[str, object]:
    return {m.external_id: m for b in batches if stream in (None, b.stream) for m in b.messages}


def test_comments_and_replies_thread_on_the_top_level_comment(fb_graph, fb) -> None:
    post = fb_graph.add_post("Summer sale!", created_at=NOW - timedelta(days=2))
    top = fb_graph.add_comment(post, "Ana Ruiz", "My coupon fails", created_at=NOW - timedelta(hours=3))
    ours = fb_graph.add_comment(top, None, "Sorry! DM us?", created_at=NOW - timedelta(hours=2))
    reply = fb_graph.add_comment(ours, "Ana Ruiz", "Still broken", created_at=NOW - timedelta(hours=1))

    heard = messages(poll(fb))

    assert set(heard) == {top, reply}  # the Page's post and reply are not customer messages
    first, follow_up = heard[top], heard[reply]
    assert (first.platform, first.kind, first.thread_key, first.in_reply_to) == (
        Platform.FACEBOOK, Kind.COMMENT, top, None)
    assert (follow_up.thread_key, follow_up.in_reply_to) == (top, top)
    assert first.author.external_id == fb_graph.user("Ana Ruiz")
    assert (first.author.name, first.author.handle, first.author.followers) == ("Ana Ruiz", "Ana Ruiz", None)
    assert first.text == "My coupon fails" and first.created_at == NOW - timedelta(hours=3)
    assert first.url and f"comment_id={top.split('_')[1]}" in first.url


def test_visitor_posts_and_their_authors_follow_ups_share_the_post_thread(fb_graph, fb) -> None:
    post = fb_graph.add_post("Where is my refund?", by="Bo Chen", created_at=NOW - timedelta(hours=5))
    own = fb_graph.add_comment(post, "Bo Chen", "It's been 3 weeks", created_at=NOW - timedelta(hours=4))
    other = fb_graph.add_comment(post, "Cy Diaz", "Same here", created_at=NOW - timedelta(hours=3))

    heard = messages(poll(fb))

    assert (heard[post].kind, heard[post].thread_key, heard[post].author.name) == (
        Kind.VISITOR_POST, post, "Bo Chen")
    assert heard[post].url and heard[post].url.startswith("https://www.facebook.com/")
    assert (heard[own].kind, heard[own].thread_key, heard[own].in_reply_to) == (Kind.COMMENT, post, post)
    assert heard[other].thread_key == other


def test_messenger_messages_thread_per_customer_and_skip_the_pages_sends(fb_graph, fb) -> None:
    hi = fb_graph.add_messenger_message("2468", "Bo Chen", "Hi", created_at=NOW - timedelta(minutes=30))
    fb.send_messenger("2468", "Hello Bo!")
    again = fb_graph.add_messenger_message("2468", "Bo Chen", "My box is damaged")
    hola = fb_graph.add_messenger_message("1357", "Cy Diaz", "Hola", created_at=NOW - timedelta(hours=2))

    batches = poll(fb)
    heard = messages(batches, MESSENGER)

    assert set(heard) == {hi, again, hola}
    assert {m.thread_key for m in heard.values()} == {"2468", "1357"}
    assert heard[hi].kind == Kind.MESSENGER and heard[hi].author.name == "Bo Chen"
    assert heard[hola].text == "Hola" and heard[hola].created_at == NOW - timedelta(hours=2)


def test_the_pages_own_posts_and_comments_are_skipped(fb_graph, fb) -> None:
    post = fb_graph.add_post("Announcement", created_at=NOW - timedelta(hours=2))
    fb_graph.add_comment(post, None, "PS: free shipping", created_at=NOW - timedelta(hours=1))

    batches = poll(fb)

    assert messages(batches) == {}
    assert batches[-1].stream == MESSENGER and batches[-2].cursor is not None  # feed still moved on


def test_pages_yield_batches_and_the_cursor_only_comes_last(fb_graph) -> None:
    fb = connect(fb_graph, page_size=2)
    post = fb_graph.add_post("Launch day", created_at=NOW - timedelta(days=1))
    comments = [fb_graph.add_comment(post, f"Fan {n}", f"comment {n}", created_at=NOW - timedelta(minutes=50 - n))
                for n in range(5)]
    for n in range(3):
        fb_graph.add_messenger_message("2468", "Bo Chen", f"dm {n}", created_at=NOW - timedelta(minutes=9 - n))

    start, *feed = [b for b in poll(fb) if b.stream == FEED]

    assert (start.messages, start.cursor) == ([], (NOW - timedelta(hours=24)).isoformat())  # the starting point
    assert [len(b.messages) for b in feed] == [2, 2, 1, 0]
    assert [b.cursor for b in feed[:-1]] == [None, None, None]
    assert feed[-1].cursor == (NOW - timedelta(minutes=46)).isoformat()
    assert [m.external_id for b in feed for m in b.messages] == comments
    assert any("after" in c.query for c in fb_graph.calls_to(r"/comments$"))
    dms = [b for b in poll(fb) if b.stream == MESSENGER][1:]
    assert [len(b.messages) for b in dms] == [2, 1, 0] and [b.cursor for b in dms][:-1] == [None, None]
    assert dms[-1].cursor == (NOW - timedelta(minutes=7)).isoformat()


def test_a_poll_from_the_cursor_rereads_the_overlap_with_the_same_ids_and_finds_new_ones(fb_graph, fb) -> None:
    post = fb_graph.add_post("Hello", created_at=NOW - timedelta(days=1))
    early = fb_graph.add_comment(post, "Ana Ruiz", "First", created_at=NOW - timedelta(hours=1))
    late = fb_graph.add_comment(post, "Ana Ruiz", "Second", created_at=NOW - timedelta(minutes=2))
    dm = fb_graph.add_messenger_message("2468", "Bo Chen", "Hi", created_at=NOW - timedelta(minutes=1))
    first = poll(fb)
    cursors = {b.stream: b.cursor for b in first if b.cursor}
    assert set(cursors) == {FEED, MESSENGER}

    newer = fb_graph.add_comment(post, "Cy Diaz", "Third", created_at=NOW + timedelta(minutes=1))
    second = poll(fb, cursors, now=NOW + timedelta(minutes=2))

    assert set(messages(first)) == {early, late, dm}
    assert set(messages(second)) == {late, newer, dm}  # `late` and `dm` fall in the re-read overlap
    assert messages(second)[late] == messages(first)[late]
    assert [b.cursor for b in second if b.stream == FEED][-1] == (NOW + timedelta(minutes=1)).isoformat()


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_rate_limits_pause_the_connector_without_raising(fb_graph, fb, code: int) -> None:
    fb_graph.add_post("Hi", by="Ana Ruiz", created_at=NOW - timedelta(minutes=5))
    fb_graph.fail_with_graph_error(r"/feed$", code)

    assert [(b.stream, b.messages) for b in poll(fb)] == [(FEED, [])]  # only the starting point
    assert fb.health.paused_until == NOW + timedelta(minutes=5)
    assert not fb.health.ok and f"code {code}" in (fb.health.last_error or "")

    calls = len(fb_graph.calls)
    assert poll(fb, now=NOW + timedelta(minutes=4)) == []
    assert len(fb_graph.calls) == calls  # paused: Graph is left alone
    resumed = poll(fb, now=NOW + timedelta(minutes=6))
    assert len(messages(resumed)) == 1 and fb.health.ok and fb.health.paused_until is None


def test_rate_limit_pause_follows_the_business_use_case_estimate(fb_graph, fb) -> None:
    fb_graph.fail_with_graph_error(r"/conversations$", 32, regain_minutes=17)
    poll(fb)
    assert fb.health.paused_until == NOW + timedelta(minutes=17)


@pytest.mark.parametrize("token", ["EAAG-revoked-token", None])
def test_invalid_or_expired_token_reports_plainly_and_never_shows_the_token(
        fb_graph, caplog: pytest.LogCaptureFixture, token: str | None) -> None:
    if token is None:  # a token Graph parses but has expired
        fb_graph.fail_with_graph_error(r"/feed$", 190)
    connector = connect(fb_graph, token=token or TOKEN)
    with caplog.at_level(logging.DEBUG):
        assert messages(poll(connector)) == {}
    assert connector.health.last_error == TOKEN_ERROR and not connector.health.ok
    assert connector.health.paused_until is None
    assert (token or TOKEN) not in caplog.text and TOKEN_ERROR in caplog.text


def test_unreachable_graph_is_recorded_without_the_token(fb_graph, caplog: pytest.LogCaptureFixture) -> None:
    connector = connect(fb_graph)
    fb_graph.stop()
    with caplog.at_level(logging.DEBUG):
        assert messages(poll(connector)) == {}
    assert not connector.health.ok and "unreachable" in (connector.health.last_error or "")
    assert TOKEN not in caplog.text and TOKEN not in (connector.health.last_error or "")


def test_public_and_private_replies(fb_graph, fb) -> None:
    comment = fb_graph.add_comment(fb_graph.add_post("Hi"), "Ana Ruiz", "Broken!", created_at=NOW)

    public = fb.reply_comment(comment, "We're on it")
    private = fb.private_reply(comment, "Could you send your order number?")
    with pytest.raises(SendError) as again:
        fb.private_reply(comment, "Hello again")

    assert fb_graph.comment_replies == [{"comment_id": comment, "text": "We're on it", "id": public.external_id}]
    assert [(r["comment_id"], r["message_id"]) for r in fb_graph.private_replies] == [
        (comment, private.external_id)]
    assert (again.value.code, again.value.retryable) == ("10900", False)
    assert "one private reply" in again.value.message


def test_reply_to_a_visitor_post_is_a_page_comment_on_it(fb_graph, fb) -> None:
    post = fb_graph.add_post("Where is my parcel?", by=("Ana Ruiz", "Ana Ruiz"), created_at=NOW)

    answer = fb.reply_comment(post, "Sorry Ana, checking now")

    assert fb_graph.comment_replies == [{"comment_id": post, "text": "Sorry Ana, checking now",
                                         "id": answer.external_id}]
    assert fb_graph.comments[answer.external_id].post_id == post


def test_private_reply_to_an_eight_day_old_comment_is_refused(fb_graph, fb) -> None:
    post = fb_graph.add_post("Hi", created_at=NOW - timedelta(days=9))
    old = fb_graph.add_comment(post, "Ana Ruiz", "Hello?", created_at=NOW - timedelta(days=8))
    with pytest.raises(SendError) as refused:
        fb.private_reply(old, "Sorry for the wait")
    assert (refused.value.code, refused.value.retryable) == ("10903", False)
    assert fb_graph.private_replies == []


def test_messenger_window_and_human_agent_tag(fb_graph, fb) -> None:
    fb_graph.add_messenger_message("2468", "Bo Chen", "Help", created_at=NOW - timedelta(days=3))

    with pytest.raises(SendError) as closed:
        fb.send_messenger("2468", "Sorry for the delay")
    tagged = fb.send_messenger("2468", "Sorry for the delay", human_agent_tag=True)

    assert (closed.value.code, closed.value.retryable) == ("10/2018278", False)
    assert "24 hours" in closed.value.message
    assert fb_graph.sent_messages == [{"psid": "2468", "text": "Sorry for the delay", "tag": "HUMAN_AGENT",
                                       "messaging_type": "MESSAGE_TAG", "message_id": tagged.external_id}]


def test_rate_limited_send_is_retryable(fb_graph, fb) -> None:
    fb_graph.add_messenger_message("2468", "Bo Chen", "Help")
    fb_graph.fail_with_graph_error(r"/messages$", 613)
    with pytest.raises(SendError) as busy:
        fb.send_messenger("2468", "Hi")
    assert (busy.value.code, busy.value.retryable) == ("613", True)
    assert fb_graph.sent_messages == []


def test_fetch_name(fb_graph, fb) -> None:
    fb_graph.add_messenger_message("2468", "Bo Chen", "Help")
    assert fb.fetch_name("2468") == "Bo Chen"
    assert fb.fetch_name("0000") is None


class RateLimitAfter:
    """The Ingestor, arming a Graph rate limit on `path` once `after` batches with messages are stored."""

    def __init__(self, ingestor: Ingestor, graph: GraphEmulator, path: str, after: int) -> None:
        self.ingestor, self.graph, self.path, self.after = ingestor, graph, path, after

    def ingest(self, batch: Batch, *, polled: bool = False) -> IngestResult:
        result = self.ingestor.ingest(batch, polled=polled)
        self.after -= bool(batch.messages)
        if self.after == 0:
            self.graph.fail_with_graph_error(self.path, 4)
        return result


def stored_ids(store: Store) -> list[str]:
    with store.transaction() as session:
        return list(session.exec(select(Message.external_id)).all())


def test_a_spike_after_a_first_empty_poll_is_read_through_every_page_and_stored_once(
        fb_graph: GraphEmulator, sqlite_store: Store) -> None:
    fb = connect(fb_graph, page_size=25)
    ingestor = Ingestor(sqlite_store, Router(RoutingConfig(), "C-SUPPORT"))
    now = datetime.now(UTC)
    post = fb_graph.add_post("Launch day", created_at=now - timedelta(days=3))
    old = fb_graph.add_post("Where is my order?", by="Old Timer", created_at=now - timedelta(hours=30))
    assert poll_connector(fb, sqlite_store, ingestor, now).stored == 0  # nothing new yet, but a starting point
    assert set(sqlite_store.cursors()) >= {FEED, MESSENGER}
    [report] = left_out(sqlite_store.cursors())
    assert (report.stream, report.count) == (FEED, 1)  # the visitor post before the 24 h backfill

    comments = [fb_graph.add_comment(post, f"Fan {n}", f"the app is down {n}", created_at=now + timedelta(seconds=n))
                for n in range(300)]
    dms = [fb_graph.add_messenger_message(str(9000 + n), f"Fan {n}", "help", created_at=now + timedelta(seconds=n))
           for n in range(120)]
    later = now + timedelta(minutes=6)
    armed = RateLimitAfter(ingestor, fb_graph, r"/comments$", after=4)  # a rate limit part-way through the pages
    partial = poll_connector(fb, sqlite_store, armed, later)  # type: ignore[arg-type]
    assert partial.stored == 100 and sqlite_store.cursors()[FEED] == (now - timedelta(hours=24)).replace(
        microsecond=0).isoformat()  # the cursor did not move past the unread pages

    resumed = poll_connector(fb, sqlite_store, ingestor, later + timedelta(minutes=6))

    assert resumed.stored == 320 and fb.health.ok
    ids = stored_ids(sqlite_store)
    assert sorted(ids) == sorted(comments + dms) and old not in ids


def test_the_cursor_never_passes_the_polls_start(fb_graph, fb) -> None:
    # Something written while we page (here: stamped after `now`) may have been listed for one post
    # but not yet for another; the next poll must still cover everything after the poll began.
    post = fb_graph.add_post("Hello", created_at=NOW - timedelta(days=1))
    fb_graph.add_comment(post, "Ana Ruiz", "written during the poll", created_at=NOW + timedelta(minutes=10))

    feed = [b for b in poll(fb) if b.stream == FEED]

    assert feed[-1].cursor == NOW.isoformat()
