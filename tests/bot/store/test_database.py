from sqlmodel import select

from bot.store.database import set_cursor
from bot.store.models import Cursor


def test_cursor_round_trip(store):
    with store.transaction() as s:
        set_cursor(s, "x:mentions", "100")
    with store.transaction() as s:
        set_cursor(s, "x:mentions", "200")
    assert store.cursors() == {"x:mentions": "200"}


def test_failed_transaction_leaves_cursor_untouched(store):
    try:
        with store.transaction() as s:
            set_cursor(s, "x:mentions", "300")
            raise RuntimeError("crash mid-batch")
    except RuntimeError:
        pass
    with store.transaction() as s:
        assert s.exec(select(Cursor)).all() == []
