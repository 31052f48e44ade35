from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlmodel import select

from bot.inbound import ingest
from bot.inbound.ingest import Ingestor, UnroutableError
from bot.inbound.routing import Router, RoutingConfig
from bot.store.models import AuditEntry, Conversation, Message, MessageMatch, OutboxItem, Status
from bot.store.outbox import URGENT
from bot.triage import MAX_TRIAGE_CHARS
from connectors.base import Author, Batch, InboundMessage, Kind, Platform

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ANA = Author("42", "ana", "Ana", followers=120)


def _msg(ext, text, *, thread="t1", kind=Kind.MENTION, queries=(), at=T0):
    return InboundMessage(platform=Platform.X, kind=kind, external_id=ext, thread_key=thread, text=text,
                          author=ANA, created_at=at, query_names=queries)


@pytest.fixture
def ingestor(store):
    return Ingestor(store, Router(RoutingConfig(), "C0SUPPORT"), clock=lambda: T0)


def test_follow_up_reopens_a_resolved_case_and_audits_it(store, ingestor):
    ingestor.ingest(Batch("x:mentions", [_msg("1", "my invoice is wrong")]))
    with store.transaction() as s:
        conversation = s.exec(select(Conversation)).one()
        conversation.status = Status.RESOLVED
        conversation.resolved_at = T0
        s.add(conversation)
    result = ingestor.ingest(Batch("x:mentions", [_msg("2", "still wrong!", at=T0 + timedelta(hours=1))]))
    assert result.stored == 1 and result.new_conversations == []
    with store.transaction() as s:
        conversation = s.exec(select(Conversation)).one()
        assert conversation.status == Status.OPEN and conversation.resolved_at is None
        assert conversation.last_customer_message_at == T0 + timedelta(hours=1)
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "reopen")).one().actor == "parley"
        kinds = [o.kind for o in s.exec(select(OutboxItem).order_by(OutboxItem.id)).all()]
    assert kinds == ["post_card", "thread_message", "update_card"]


def test_same_tweet_from_two_searches_is_one_message_with_both_queries(store, ingestor):
    ingestor.ingest(Batch("x:search:acme", [_msg("7", "acme vs rivalco?", kind=Kind.SEARCH_HIT, queries=("acme",))]))
    result = ingestor.ingest(Batch("x:search:rival", [_msg("7", "acme vs rivalco?", kind=Kind.SEARCH_HIT,
                                                           queries=("rival",))]))
    assert result.duplicates == 1 and result.stored == 0
    with store.transaction() as s:
        assert len(s.exec(select(Message)).all()) == 1
        assert {m.query_name for m in s.exec(select(MessageMatch)).all()} == {"acme", "rival"}
        assert s.exec(select(Conversation)).one().query_names == "acme,rival"


def test_cursor_moves_only_with_its_batch(store, ingestor):
    ingestor.ingest(Batch("x:mentions", [_msg("1", "hi")], cursor=None))
    assert store.cursors() == {}
    ingestor.ingest(Batch("x:mentions", [_msg("2", "hello", thread="t2")], cursor="2"))
    assert store.cursors() == {"x:mentions": "2"}


def test_unroutable_message_stores_nothing(store):
    ingestor = Ingestor(store, Router(RoutingConfig(), None), clock=lambda: T0)
    with pytest.raises(UnroutableError, match="PARLEY_CHANNEL"):
        ingestor.ingest(Batch("x:mentions", [_msg("1", "hi")], cursor="1"))
    assert store.cursors() == {}
    with store.transaction() as s:
        assert s.exec(select(Message)).all() == []


def test_replies_in_one_batch_join_the_conversation_their_root_opens(store, ingestor):
    later, earlier = _msg("9", "second", at=T0 + timedelta(minutes=5)), _msg("8", "first")
    result = ingestor.ingest(Batch("x:mentions", [later, earlier]))
    assert result.stored == 2 and len(result.new_conversations) == 1
    with store.transaction() as s:
        opening = s.exec(select(OutboxItem).where(OutboxItem.kind == "post_card")).one()
        assert s.get(Message, opening.message_id).external_id == "8"


# --- bounded triage, outside the write transaction ------------------------------------------------
FACEBOOK_POST_MAX = 63_206


def _long_post(n: int) -> InboundMessage:
    text = ("My order never arrived and nobody answers my messages. " * 1200)[:FACEBOOK_POST_MAX]
    return InboundMessage(platform=Platform.FACEBOOK, kind=Kind.VISITOR_POST, external_id=f"1_{n}",
                          thread_key=f"1_{n}", text=text, author=Author(f"9{n}", "", f"Vi {n}"), created_at=T0)


def test_triage_holds_no_database_connection(store, ingestor, monkeypatch):
    """Scoring happens before the transaction opens: a staff note is never kept waiting by it."""
    held: list[int] = []
    real = ingest.classify

    def watched(text, **kw):
        held.append(store.engine.pool.checkedout())
        return real(text, **kw)

    monkeypatch.setattr(ingest, "classify", watched)
    ingestor.ingest(Batch(stream="facebook:feed", messages=[_long_post(1), _long_post(2)], cursor="c1"))

    assert held == [0, 0]
    with store.transaction() as session:
        assert len(session.exec(select(Message)).all()) == 2


def test_a_maximum_length_post_is_triaged_from_a_bounded_prefix(store, ingestor):
    ingestor.ingest(Batch(stream="facebook:feed", messages=[_long_post(n) for n in range(6)]))

    with store.transaction() as session:
        conversations = session.exec(select(Conversation)).all()
    assert len(conversations) == 6
    for conversation in conversations:
        assert f"triaged on the first {MAX_TRIAGE_CHARS:,} of {FACEBOOK_POST_MAX:,} characters" in \
            conversation.priority_reasons
        assert conversation.tone == "negative"


def test_past_the_time_budget_texts_are_read_from_a_short_prefix():
    records = [_long_post(n) for n in range(3)]
    triaged = ingest.triage_all(records, budget=0.0)
    assert all(f"triaged on the first {ingest.SHORT_TRIAGE_CHARS:,}" in " ".join(t.reasons)
               for t in triaged.values())


class Statements:
    """Counts the SELECTs and INSERT statements the engine runs (an INSERT of many rows counts once)."""

    def __init__(self, store) -> None:
        self.counts: dict[str, int] = {}
        sa_event.listen(store.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement: str, *_args) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        self.counts[verb] = self.counts.get(verb, 0) + 1


def _authors_batch(first: int, n: int) -> Batch:
    return Batch("x:mentions", [InboundMessage(
        platform=Platform.X, kind=Kind.MENTION, external_id=f"b{i}", thread_key=f"b{i}", text=f"@acme order {i} late",
        author=Author(f"a{i}", f"user{i}", f"User {i}", followers=i), created_at=T0 + timedelta(seconds=i))
        for i in range(first, first + n)], cursor=f"b{first + n}")


def test_a_batch_reads_the_store_a_fixed_number_of_times_whatever_its_size(store, ingestor):
    statements = Statements(store)
    ingestor.ingest(_authors_batch(0, 5))
    small = dict(statements.counts)
    statements.counts.clear()
    ingestor.ingest(_authors_batch(100, 50))

    assert statements.counts["SELECT"] == small["SELECT"], (small, statements.counts)
    with store.transaction() as s:
        assert len(s.exec(select(Conversation)).all()) == 55
        assert len(s.exec(select(OutboxItem)).all()) == 55
    assert store.cursors() == {"x:mentions": "b150"}


def test_a_post_heard_twice_in_one_batch_is_stored_once_with_both_queries(store, ingestor):
    first = _msg("5", "acme down?", kind=Kind.SEARCH_HIT, queries=("acme",))
    again = _msg("5", "acme down?", kind=Kind.MENTION, queries=("outage",))
    reply = _msg("6", "still down", at=T0 + timedelta(minutes=1))

    result = ingestor.ingest(Batch("x:mentions", [first, again, reply]))

    assert (result.stored, result.duplicates, len(result.new_conversations)) == (2, 1, 1)
    with store.transaction() as s:
        assert {m.query_name for m in s.exec(select(MessageMatch)).all()} == {"acme", "outage"}
        assert s.exec(select(Conversation)).one().kind == Kind.MENTION
        kinds = [o.kind for o in s.exec(select(OutboxItem).order_by(OutboxItem.id)).all()]
    assert kinds[:2] == ["post_card", "thread_message"]


def test_a_follow_up_that_makes_a_complaint_lifts_its_queued_card(store, ingestor):
    ingestor.ingest(Batch("x:mentions", [_msg("1", "nice dashboard")], cursor="1"))
    ingestor.ingest(Batch("x:mentions", [_msg("2", "you charged me twice and nobody answers, I want a refund now",
                                              at=T0 + timedelta(minutes=1))], cursor="2"))
    with store.transaction() as s:
        ranks = {o.kind: o.rank for o in s.exec(select(OutboxItem)).all()}
    assert ranks["thread_message"] == URGENT
    assert ranks["post_card"] == URGENT  # its card must go first, so it waits no longer than the complaint


def _follow_ups(first: int, n: int) -> Batch:
    """A reply from each author of `_authors_batch(first, n)` in their own thread."""
    return Batch("x:mentions", [InboundMessage(
        platform=Platform.X, kind=Kind.MENTION, external_id=f"f{i}", thread_key=f"b{i}", text="any news? still waiting",
        author=Author(f"a{i}", f"user{i}", f"User {i}", followers=i), created_at=T0 + timedelta(minutes=5, seconds=i))
        for i in range(first, first + n)], cursor=f"f{first + n}")


def test_a_batch_of_follow_ups_runs_as_many_statements_whatever_its_size(store, ingestor):
    # Each follow-up once asked whether its case was rolled up (and so flushed the rows before it):
    # a round trip per message, the slowest part of a spike's ingest on PostgreSQL.
    ingestor.ingest(_authors_batch(0, 5))
    ingestor.ingest(_authors_batch(100, 50))
    statements = Statements(store)
    ingestor.ingest(_follow_ups(0, 5))
    small = dict(statements.counts)
    statements.counts.clear()
    ingestor.ingest(_follow_ups(100, 50))

    assert statements.counts["SELECT"] == small["SELECT"], (small, statements.counts)
    if store.is_postgres:  # SQLite's driver inserts row by row, in-process: no round trips to save there
        assert statements.counts == small
    with store.transaction() as s:
        threads = s.exec(select(OutboxItem).where(OutboxItem.kind == "thread_message")).all()
    assert len(threads) == 55


def test_every_polled_batch_commits_relaxed_and_a_webhook_batch_durably(store, ingestor, monkeypatch):
    # A backlog's pages before the last carry no cursor yet, but the poll reads them again until the
    # cursor (stored with the last page, later in the log) is: only a webhook's batch is never re-sent.
    seen: list[bool] = []
    transaction = store.transaction

    def spy(*, durable: bool = True):
        seen.append(durable)
        return transaction(durable=durable)

    monkeypatch.setattr(store, "transaction", spy)
    ingestor.ingest(Batch("x:mentions", [_msg("1", "hi")]), polled=True)  # a page before the last
    ingestor.ingest(Batch("x:mentions", [_msg("2", "hello", thread="t2")], cursor="2"), polled=True)
    ingestor.ingest(Batch("x:mentions", [_msg("3", "from a webhook", thread="t3")]))

    assert seen == [False, False, True]
