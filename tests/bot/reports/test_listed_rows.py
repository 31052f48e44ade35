"""`listed_rows` (App Home's lists): the drawn rows exactly as `conversation_rows` makes them, the
others bare — the same rows, in the same order, as drawing every one and blanking the rest gave —
while only the drawn ones are loaded as ORM rows. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col, select

from bot.reports.figures import conversation_rows, listed_rows
from bot.store.models import Conversation
from tests.bot.reports.test_figures import NOW, add_case, service_level


def test_only_the_drawn_rows_are_full_and_every_row_keeps_its_place(store):
    sl = service_level()
    made = [add_case(store, seen=NOW - timedelta(hours=n), waiting_since=NOW - timedelta(hours=n),
                     assignee="U1" if n % 3 else None, text=f"words {n}") for n in range(1, 8)]
    order = [made[i] for i in (4, 0, 6, 2, 1, 5, 3)]  # not id order: the caller's order is kept
    with store.transaction() as session:
        loaded = {c.id: c for c in session.exec(select(Conversation).where(col(Conversation.id).in_(order)))}
        every = conversation_rows(session, [loaded[key] for key in order], sl, NOW)
        expected = every[:3] + [sl.row(loaded[key], None, "", NOW, badge=False) for key in order[3:]]
        session.expunge_all()
        loads: list[object] = []
        sa.event.listen(session, "loaded_as_persistent", lambda _, instance: loads.append(instance))
        [listed, again] = listed_rows(session, [order, order[2:]], sl, NOW, drawn=3)
    # Only the drawn conversations of both lists are loaded as ORM rows.
    assert sorted(c.id for c in loads if isinstance(c, Conversation)) == sorted(order[:5])
    assert listed == expected
    assert again[:3] == every[2:5] and again[3:] == expected[5:]
    assert [row.ref for row in listed] == order
    assert all(row.sla is None and row.snippet == "" for row in listed[3:])


def test_short_and_empty_lists(store):
    sl = service_level()
    one = add_case(store, seen=NOW - timedelta(hours=1), waiting_since=NOW - timedelta(hours=1))
    with store.transaction() as session:
        assert listed_rows(session, [[], []], sl, NOW, drawn=15) == [[], []]
        [[row]] = listed_rows(session, [[one]], sl, NOW, drawn=15)
        assert row.ref == one and row.snippet == "where is my order?" and row.sla is not None
