# ruff: noqa: RUF001  (Cyrillic and Greek capitals on purpose: case folding in other scripts)
"""`/social find` on the full-text index (bot/store/search.py), on SQLite (FTS5) and PostgreSQL
(tsvector): words as prefixes in any case, every word somewhere in the case, other scripts, and
whatever people type never raises. Revision 0009 indexes what was stored before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import Session, select

from bot.store.database import Store, alembic_config, make_engine, upgrade
from bot.store.models import Conversation, Customer, Direction, Message, UTCDateTime
from bot.store.search import words_condition
from commands.lookup import search

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
_N = iter(range(1, 10_000))


def case(session: Session, handle: str, name: str, *texts: str, age: timedelta = timedelta(0),
         direction: str = Direction.INBOUND) -> int:
    n = next(_N)
    customer = Customer(platform="x", external_id=f"u{n}", handle=handle, name=name)
    session.add(customer)
    session.flush()
    assert customer.id is not None
    seen = T0 - age
    conversation = Conversation(platform="x", kind="mention", thread_key=f"t{n}", customer_id=customer.id,
                                channel="C1", first_seen_at=seen, last_customer_message_at=seen)
    session.add(conversation)
    session.flush()
    assert conversation.id is not None
    for i, text in enumerate(texts):
        session.add(Message(conversation_id=conversation.id, platform="x", external_id=f"m{n}-{i}",
                            direction=direction, kind="mention", text=text, author_id=f"u{n}", created_at=seen))
    return conversation.id


def found(store: Store, query: str) -> list[int]:
    with store.transaction() as session:
        return [c.id for c in search(session, query.split()) if c.id is not None]


@pytest.fixture
def cases(store: Store) -> dict[str, int]:
    with store.transaction() as session:
        return {
            "walter": case(session, "walter", "Walter Skinner", "Where is my REFUND for order 100_5?",
                           "Still late, day three", age=timedelta(hours=3)),
            "kim": case(session, "kim_k", "Kim", "the app crashes on login (iOS 17.2)", age=timedelta(hours=2)),
            "maria": case(session, "maria", "María Pérez", "Quiero una devolución, el pedido llegó roto",
                          age=timedelta(hours=1)),
            "olga": case(session, "olga", "Ольга", "ГДЕ МОЙ ЗАКАЗ? Ελληνικά ΚΕΙΜΕΝΟ", age=timedelta(minutes=30)),
            "dana": case(session, "dana", "Dana Scully", "my order is late", "refunds@acme.com said no"),
        }


def test_words_match_as_prefixes_in_any_case_and_every_word_must_match(store, cases):
    assert found(store, "refund") == [cases["dana"], cases["walter"]]  # newest first; "refunds" too
    assert found(store, "REFU") == [cases["dana"], cases["walter"]]
    assert found(store, "refund late") == [cases["dana"], cases["walter"]]  # words in different messages
    assert found(store, "refund three") == [cases["walter"]]
    assert found(store, "order 100_5") == [cases["walter"]]
    assert found(store, "fund") == []  # a prefix, not any substring
    assert found(store, "acme.com") == [cases["dana"]]  # the same tokens on both databases


def test_handles_names_and_notes_are_found(store, cases):
    assert found(store, "@walter") == [cases["walter"]]
    assert found(store, "skinner") == [cases["walter"]]
    assert found(store, "kim_k") == [cases["kim"]]
    assert found(store, "scully late") == [cases["dana"]]  # a name and a word of a message
    with store.transaction() as session:
        note = case(session, "fox", "Fox", "Escalated to the mobile team", direction=Direction.NOTE)
    assert found(store, "mobile team") == [note]


def test_other_languages_fold_case_and_keep_accents(store, cases):
    assert found(store, "devolución") == [cases["maria"]]
    assert found(store, "DEVOL") == [cases["maria"]]
    assert found(store, "pérez") == [cases["maria"]]
    assert found(store, "заказ") == [cases["olga"]]  # Cyrillic, folded from upper case
    assert found(store, "ольга") == [cases["olga"]]
    assert found(store, "κειμενο") == [cases["olga"]]  # Greek, folded from upper case
    assert found(store, "ελληνικά") == [cases["olga"]]
    assert found(store, "devolucion") == []  # accents are kept: "ó" is not "o"


@pytest.mark.parametrize("typed", [
    '"', "'", "*", "%", "_", "\\", "NEAR(", "refund:", "text:refund", "' OR 1=1 --", "a AND", "NOT", "-refund",
    "^refund", "(refund", "{text}", "refund*", "🎉", "!!!", "x" * 200, "\u0000", "&|!", ":*", "'':*",
])
def test_whatever_people_type_never_raises(store, cases, typed):
    result = found(store, typed)
    assert isinstance(result, list)


def test_punctuation_around_a_word_is_ignored(store, cases):
    assert found(store, '"refund"') == [cases["dana"], cases["walter"]]
    assert found(store, "(crashes)") == [cases["kim"]]
    assert found(store, "!!!") == []


def test_the_index_follows_edits_and_deletes(store, cases):
    with store.transaction() as session:
        message = session.exec(select(Message).where(Message.conversation_id == cases["kim"])).one()
        message.text = "the app freezes at checkout"
        session.add(message)
    assert found(store, "crashes") == []
    assert found(store, "freezes") == [cases["kim"]]
    with store.transaction() as session:
        session.delete(session.exec(select(Message).where(Message.conversation_id == cases["kim"])).one())
        customer = session.get(Customer, session.get(Conversation, cases["kim"]).customer_id)  # type: ignore[union-attr]
        assert customer is not None
        customer.handle = "kimberly"
        session.add(customer)
    assert found(store, "freezes") == []
    assert found(store, "kimberly") == [cases["kim"]]


# --- revision 0009 on a store with data --------------------------------------------------------------
def old_case(conn: sa.Connection, handle: str, name: str, text: str) -> int:
    """`case` written with the columns every revision since 0008 has (revision 0010 added more)."""
    n = next(_N)
    def ts() -> list[sa.ColumnClause]:
        return [sa.column(c, UTCDateTime()) for c in ("created_at", "updated_at")]

    customers = sa.table("customers", *(sa.column(c) for c in ("id", "platform", "external_id", "handle", "name",
                                                                 "verified")), *ts())
    who = conn.execute(customers.insert().values(platform="x", external_id=f"u{n}", handle=handle, name=name,
                                                 verified=False, created_at=T0, updated_at=T0)
                       .returning(sa.column("id"))).scalar_one()
    conversations = sa.table("conversations", *(sa.column(c) for c in (
        "id", "platform", "kind", "thread_key", "customer_id", "query_names", "status", "priority",
        "priority_reasons", "tone", "complaint", "channel", "sla_paused_seconds")), *ts(),
        sa.column("first_seen_at", UTCDateTime()), sa.column("last_customer_message_at", UTCDateTime()))
    key = conn.execute(conversations.insert().values(
        platform="x", kind="mention", thread_key=f"t{n}", customer_id=who, query_names="", status="open",
        priority="normal", priority_reasons="", tone="neutral", complaint=False, channel="C1", sla_paused_seconds=0,
        created_at=T0, updated_at=T0, first_seen_at=T0, last_customer_message_at=T0)
        .returning(sa.column("id"))).scalar_one()
    messages = sa.table("messages", *(sa.column(c) for c in (
        "conversation_id", "platform", "external_id", "direction", "kind", "text", "author_id", "author_name",
        "complaint", "priority_reasons", "delivery_status")), sa.column("created_at", UTCDateTime()),
        sa.column("received_at", UTCDateTime()))
    conn.execute(messages.insert().values(
        conversation_id=key, platform="x", external_id=f"m{n}-0", direction=Direction.INBOUND, kind="mention",
        text=text, author_id=f"u{n}", author_name="", complaint=False, priority_reasons="", delivery_status="received",
        created_at=T0, received_at=T0))
    return int(key)


def test_revision_0009_indexes_what_was_stored_before_it_and_goes_down_and_up(empty_url):
    engine = make_engine(empty_url)
    try:
        upgrade(engine, "0008")
        store = Store(engine)
        with engine.begin() as conn:  # the tables as 0008 had them, not today's models
            old = old_case(conn, "walter", "Walter Skinner", "Where is my refund?")
        upgrade(engine)
        assert found(store, "refund") == [old]
        assert found(store, "skinner") == [old]
        with store.transaction() as session:
            new = case(session, "dana", "Dana", "refund please", age=timedelta(minutes=-5))
        assert found(store, "refund") == [new, old]
        command.downgrade(alembic_config(engine), "0008")
        upgrade(engine)
        assert found(store, "refund") == [new, old]
    finally:
        engine.dispose()


@pytest.mark.parametrize("rare", [0, 1, 10**6])  # every word common, one rare, every word rare
@pytest.mark.parametrize(("typed", "who"), [("refund late", ["dana", "walter"]), ("skinner refund", ["walter"]),
                                            ("devol", ["maria"]), ("order nothing", [])])
def test_every_query_plan_finds_the_same_cases(store, cases, rare, typed, who):
    with store.transaction() as session:
        condition = words_condition(session, typed.split(), rare=rare)
        assert condition is not None
        ids = set(session.exec(select(Conversation.id).where(condition)).all())
    assert ids == {cases[name] for name in who}
