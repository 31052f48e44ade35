"""Keys of saved rows, for code that needs them as plain ints.

SQLModel declares every primary key `int | None` (None until the row is flushed); these give the
key of a row the database has assigned one, and raise for a row that was never saved.
"""

from __future__ import annotations

from typing import Protocol

from bot.store.models import Conversation


class _Row(Protocol):
    id: int | None


def row_id(row: _Row) -> int:
    """The primary key of a row the database has assigned one (added and flushed, or loaded).

    Raises ValueError for a row never flushed: using its missing id would be a programming error.
    """
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: flush the session first")
    return row.id


def ref_of(conversation: Conversation) -> int:
    """The "#N" of a conversation, set when it is opened; raises ValueError before that."""
    if conversation.ref is None:
        raise ValueError(f"conversation {conversation.id} has no ref yet")
    return conversation.ref
