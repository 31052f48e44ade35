"""The Page the Graph emulator serves: its identity, the people it knows by name, its clock and ids.

Shared by the feed and the Messenger endpoints, which both render people as `{"name", "id"}`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime

Author = str | tuple[str, str] | None


class Page:
    """One Facebook Page. `base_url` gives the emulator's address (for `paging.next` links)."""

    def __init__(self, page_id: str, page_name: str, clock: Callable[[], datetime],
                 base_url: Callable[[], str]) -> None:
        self.id, self.name = page_id, page_name
        self.clock = clock
        self.base_url = base_url
        self.names: dict[str, str] = {page_id: page_name}
        self.seq = itertools.count(1)
        self._user_ids = itertools.count(7_310_000_000_000_001)
        self._by_name: dict[str, str] = {}

    def user(self, name: str) -> str:
        """The stable user id for a visitor name (created on first use)."""
        if name not in self._by_name:
            self._by_name[name] = str(next(self._user_ids))
            self.names[self._by_name[name]] = name
        return self._by_name[name]

    def author(self, author: Author) -> str:
        """The id of an author given as None (the Page), a visitor name, or (id, name)."""
        if author is None:
            return self.id
        if isinstance(author, tuple):
            self.names[author[0]] = author[1]
            return author[0]
        return self.user(author)

    def who(self, user_id: str) -> dict[str, str]:
        return {"name": self.names.get(user_id, "Facebook User"), "id": user_id}
