"""`integer_table`: integer columns read back exactly through the database's text aggregate (SQLite
group_concat, PostgreSQL string_agg), on both databases."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col

from bot.reports.first_times import integer_table
from bot.store.models import Conversation
from tests.bot.reports.test_figures import NOW, add_case

FOUR_YEARS_US = 4 * 366 * 24 * 3600 * 10**6 + 123_457  # the largest times a store holds, to the microsecond


def test_integers_come_back_exactly_one_row_each(store):
    keys = [add_case(store, seen=NOW - timedelta(hours=n)) for n in range(3)]
    values = {keys[0]: FOUR_YEARS_US, keys[1]: 0, keys[2]: 7}
    with store.transaction() as session:
        for key, value in values.items():
            session.get(Conversation, key).first_response_business_us = value  # type: ignore[union-attr]
    with store.transaction() as session:
        table = integer_table(session, (col(Conversation.id).in_(keys),), col(Conversation.id),
                              col(Conversation.first_response_business_us), sa.literal(-1))
        nothing = integer_table(session, (col(Conversation.id) < 0,), col(Conversation.id))
    assert sorted(map(tuple, table.tolist())) == sorted((key, value, -1) for key, value in values.items())
    assert nothing.shape == (0, 1)
