"""`/social find` for common words (bot/store/search_walk.py): the newest-first walk that reads words
in Python finds exactly what the full-text index finds, in the same order, pages across ties, and
hands over to the index when it cannot answer. Small stores have no common words, so the tests lower
the threshold from which a walk is taken."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

import bot.store.search_walk as walk
from bot.store.database import Store
from bot.store.models import Conversation
from bot.store.search import words_condition
from commands.lookup import _newest_order, search
from tests.bot.store.test_search import case, cases  # noqa: F401  (the fixture, shared)


@pytest.fixture(autouse=True)
def every_word_common(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(walk, "WALK_FROM", 0)


def by_walk(store: Store, typed: str, limit: int = 20) -> list[int] | None:
    with store.transaction() as session:
        return walk.newest_matching(session, typed.split(), limit, walk_postgres=True)


def by_index(store: Store, typed: str, limit: int = 20) -> list[int]:
    with store.transaction() as session:
        condition = words_condition(session, typed.split())
        assert condition is not None
        query = select(Conversation.id).where(condition).order_by(*_newest_order()).limit(limit)
        return list(session.exec(query).all())


@pytest.mark.parametrize("typed", [
    "refund", "REFU", "refund late", "refund three", "order 100_5", "fund", "acme.com", "@walter", "skinner",
    "kim_k", "scully late", "devolución", "DEVOL", "pérez", "devolucion", '"refund"', "(crashes)", "late", "a",
    "100", "mobile",
])
def test_the_walk_finds_what_the_index_finds(store, cases, typed):  # noqa: F811
    walked = by_walk(store, typed)
    assert walked is not None
    assert walked == by_index(store, typed)


def test_words_beyond_latin_letters_are_left_to_the_index(store, cases):  # noqa: F811
    assert by_walk(store, "заказ") is None
    assert by_walk(store, "refund κειμενο") is None
    assert [c.id for c in search_in(store, "заказ")] == [cases["olga"]]


def search_in(store: Store, typed: str) -> list[Conversation]:
    with store.transaction() as session:
        return search(session, typed.split())


def test_pages_across_conversations_of_the_same_moment(store):
    # 40 cases at one instant (ties broken by id), every third without the word, a substring
    # look-alike ("prefunded") in some: pages of limit + 5 must continue exactly where they stopped.
    with store.transaction() as session:
        for n in range(40):
            text = "no luck" if n % 3 == 0 else ("prefunded twice" if n % 5 == 0 else "refund please")
            case(session, f"c{n}", "Same Moment", text)
    for limit in (1, 3, 10, 25, 40):
        assert by_walk(store, "refund", limit) == by_index(store, "refund", limit)
    assert len(by_walk(store, "refund", 40) or []) == 40 - 14 - 5


def test_a_walk_that_finds_too_few_hands_over_to_the_index(store, monkeypatch):
    with store.transaction() as session:
        old = case(session, "old", "Old", "refund from last year", age=timedelta(days=400))
        for n in range(6):
            case(session, f"n{n}", "New", "nothing to see", age=timedelta(hours=n))
    monkeypatch.setattr(walk, "WALK_MAX", 3)  # the old case lies beyond the walk
    assert by_walk(store, "refund") is None
    assert [c.id for c in search_in(store, "refund")] == [old]
    monkeypatch.setattr(walk, "WALK_MAX", 50)  # the walk saw every case: its answer is complete
    assert by_walk(store, "refund") == [old]
    assert by_walk(store, "nowhere") == []
