"""Records of the demo dataset: frozen, validated by sandbox/dataset.py when loaded.

`Dataset` also answers the threading questions the demo and tests ask: which items form one
conversation, and what the platform would use as its thread id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

BRAND = "brand"  # reserved author key: the brand's own tweet / Page comment / Messenger reply

KINDS_BY_PLATFORM = {
    "x": ("mention", "search_hit", "dm"),
    "facebook": ("comment", "visitor_post", "messenger"),
    "instagram": ("comment", "mention", "dm"),
    "email": ("dm",),  # an author's e-mails are one thread (each follow-up answers their first)
}
TWEET_KINDS = ("mention", "search_hit")
LABELS = ("complaint", "question", "praise", "spam", "info")
WAVES = (1, 2)


@dataclass(frozen=True)
class Brand:
    name: str
    x_username: str
    x_name: str
    x_followers: int
    x_verified: bool
    page_name: str


@dataclass(frozen=True)
class DemoCustomer:
    key: str
    platform: str
    name: str
    username: str | None = None  # X screen name / Instagram username without '@' / e-mail address; None on Facebook
    followers: int | None = None
    verified: bool = False


@dataclass(frozen=True)
class PagePost:
    key: str
    text: str
    minutes_ago: int

    def created_at(self, now: datetime) -> datetime:
        return now - timedelta(minutes=self.minutes_ago)


@dataclass(frozen=True)
class Item:
    """One message as it will appear on the platform."""

    key: str
    platform: str
    kind: str
    author: str  # a customer key, or BRAND
    text: str
    minutes_ago: int
    lang: str
    label: str | None = None
    reply_to: str | None = None
    on: str | None = None
    queries: tuple[str, ...] = ()
    wave: int = 1

    @property
    def from_brand(self) -> bool:
        """The brand's own message: connectors must skip it, it never becomes a card."""
        return self.author == BRAND

    def created_at(self, now: datetime) -> datetime:
        """Posting time, given the moment this item's wave is seeded."""
        return now - timedelta(minutes=self.minutes_ago)


@dataclass(frozen=True)
class Dataset:
    brand: Brand
    search_queries: Mapping[str, str]
    customers: tuple[DemoCustomer, ...]
    page_posts: tuple[PagePost, ...]
    items: tuple[Item, ...]
    _by_key: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_key.update({c.key: c for c in self.customers})
        self._by_key.update({p.key: p for p in self.page_posts})
        self._by_key.update({i.key: i for i in self.items})

    def without(self, platform: str) -> Dataset:
        """The dataset minus one platform's customers and items (the demo without a mail server)."""
        return Dataset(self.brand, self.search_queries, tuple(c for c in self.customers if c.platform != platform),
                       self.page_posts, tuple(i for i in self.items if i.platform != platform))

    def get(self, key: str) -> DemoCustomer | PagePost | Item | None:
        """Whatever has this key (customer, page post or item), or None."""
        return self._by_key.get(key)

    def customer(self, key: str) -> DemoCustomer:
        found = self._by_key.get(key)
        if not isinstance(found, DemoCustomer):
            raise KeyError(key)
        return found

    def item(self, key: str) -> Item:
        found = self._by_key.get(key)
        if not isinstance(found, Item):
            raise KeyError(key)
        return found

    def page_post(self, key: str) -> PagePost:
        found = self._by_key.get(key)
        if not isinstance(found, PagePost):
            raise KeyError(key)
        return found

    def wave(self, number: int) -> tuple[Item, ...]:
        """The items of one wave, oldest first (the order they were posted in)."""
        return tuple(sorted((i for i in self.items if i.wave == number), key=lambda i: -i.minutes_ago))

    @property
    def customer_items(self) -> tuple[Item, ...]:
        """Every item a customer wrote: what should end up stored and mirrored."""
        return tuple(i for i in self.items if not i.from_brand)

    def thread_root(self, item: Item) -> str:
        """The key that threads `item` with its follow-ups, like the platform's own thread id.

        X tweets: the first tweet of the reply chain (X `conversation_id`). Comments: the top-level
        comment. Visitor posts: themselves. DMs and Messenger: one conversation per author.
        """
        if item.kind in ("dm", "messenger"):
            return f"{item.kind}:{item.author}"
        while item.reply_to is not None:
            item = self.item(item.reply_to)
        while item.on is not None and isinstance(self._by_key.get(item.on), Item):
            item = self.item(item.on)
        return item.key

    def conversation_key(self, item: Item) -> tuple[str, str, str]:
        """(platform, thread root, author): items sharing it belong to one conversation."""
        return (item.platform, self.thread_root(item), item.author)
