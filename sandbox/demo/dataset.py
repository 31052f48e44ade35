"""The bundled demo dataset (sandbox/data/demo.yaml), parsed and validated into frozen records.

This module only reads and checks the data; seeding the emulators from it happens elsewhere.
A mistake in the file (an unknown author, a reply to a missing tweet, a comment on a DM, a
duplicate key...) raises ValueError naming the item, so a broken dataset fails loudly at load.
The YAML header documents every field.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

import yaml

from sandbox.demo.dataset_records import (
    BRAND,
    KINDS_BY_PLATFORM,
    LABELS,
    TWEET_KINDS,
    WAVES,
    Brand,
    Dataset,
    DemoCustomer,
    Item,
    PagePost,
)

__all__ = [
    "BRAND", "KINDS_BY_PLATFORM", "LABELS", "Brand", "Dataset", "DemoCustomer", "Item", "PagePost",
    "load_dataset", "parse_dataset",
]

DEFAULT_PATH = Path(__file__).parent / "data" / "demo.yaml"

# --- loading and validation ----------------------------------------------------------------------


def load_dataset(path: Path | None = None) -> Dataset:
    """Parse and validate the demo dataset (the bundled one by default)."""
    path = path or DEFAULT_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    return parse_dataset(raw, source=str(path))


def parse_dataset(raw: object, source: str = "dataset") -> Dataset:
    """Build a Dataset from already-parsed YAML data; ValueError naming the first bad entry."""
    top = _mapping(raw, source)
    _only(top, source, required={"brand", "search_queries", "customers", "page_posts", "items"})
    brand = _brand(top["brand"], f"{source}: brand")
    queries = _mapping(top["search_queries"], f"{source}: search_queries")
    for name, query in queries.items():
        if not isinstance(name, str) or not isinstance(query, str) or not query.strip():
            raise ValueError(f"{source}: search query {name!r} must be a non-empty string")

    keys: set[str] = set()
    customers = tuple(_customer(c, keys) for c in _list(top["customers"], f"{source}: customers"))
    posts = tuple(_post(p, keys) for p in _list(top["page_posts"], f"{source}: page_posts"))
    items = tuple(_item(i, keys) for i in _list(top["items"], f"{source}: items"))
    dataset = Dataset(brand, dict(queries), customers, posts, items)
    for item in items:
        _check_links(dataset, item)
    _check_waves(items)
    return dataset


def _mapping(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _list(value: object, where: str) -> list:
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _only(data: dict, where: str, *, required: AbstractSet[str], optional: AbstractSet[str] = frozenset()) -> None:
    missing = required - data.keys()
    if missing:
        raise ValueError(f"{where}: missing {', '.join(sorted(missing))}")
    unknown = data.keys() - required - optional
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")


def _typed(data: dict, name: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = data.get(name)
    # bool is an int in Python; a follower count of `true` is a typo, not a number.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{where}: {name} must be {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _brand(value: object, where: str) -> Brand:
    data = _mapping(value, where)
    fields = {"name", "x_username", "x_name", "x_followers", "x_verified", "page_name"}
    _only(data, where, required=fields)
    return Brand(
        name=_typed(data, "name", str, where),
        x_username=_typed(data, "x_username", str, where).lstrip("@"),
        x_name=_typed(data, "x_name", str, where),
        x_followers=_typed(data, "x_followers", int, where),
        x_verified=_typed(data, "x_verified", bool, where),
        page_name=_typed(data, "page_name", str, where),
    )


def _claim(key: object, keys: set[str], where: str) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError(f"{where}: key must be a non-empty string, got {key!r}")
    if key == BRAND:
        raise ValueError(f"{where}: key {BRAND!r} is reserved for the brand")
    if key in keys:
        raise ValueError(f"{where}: duplicate key {key!r}")
    keys.add(key)
    return key


def _customer(value: object, keys: set[str]) -> DemoCustomer:
    data = _mapping(value, "customer")
    where = f"customer {data.get('key')!r}"
    _only(data, where, required={"key", "platform", "name"}, optional={"username", "followers", "verified"})
    key = _claim(data["key"], keys, where)
    platform = data["platform"]
    if platform not in KINDS_BY_PLATFORM:
        raise ValueError(f"{where}: unknown platform {platform!r}")
    username = data.get("username")
    if platform in ("x", "instagram") and not (isinstance(username, str) and username):
        raise ValueError(f"{where}: {'X' if platform == 'x' else 'Instagram'} customers need a username")
    if platform == "email" and not (isinstance(username, str) and "@" in username):
        raise ValueError(f"{where}: e-mail customers need their address as username")
    followers = data.get("followers")
    if followers is not None and (isinstance(followers, bool) or not isinstance(followers, int) or followers < 0):
        raise ValueError(f"{where}: followers must be a count or null, got {followers!r}")
    return DemoCustomer(
        key=key,
        platform=platform,
        name=_typed(data, "name", str, where),
        username=username.lstrip("@") if isinstance(username, str) else None,
        followers=followers,
        verified=bool(data.get("verified", False)),
    )


def _post(value: object, keys: set[str]) -> PagePost:
    data = _mapping(value, "page post")
    where = f"page post {data.get('key')!r}"
    _only(data, where, required={"key", "text", "minutes_ago"})
    return PagePost(
        key=_claim(data["key"], keys, where),
        text=_typed(data, "text", str, where),
        minutes_ago=_minutes(data, where),
    )


def _minutes(data: dict, where: str) -> int:
    minutes = _typed(data, "minutes_ago", int, where)
    if minutes < 0:
        raise ValueError(f"{where}: minutes_ago must not be negative")
    return minutes


_ITEM_REQUIRED = {"key", "platform", "kind", "author", "text", "minutes_ago", "lang"}
_ITEM_OPTIONAL = {"label", "reply_to", "on", "queries", "wave"}


def _item(value: object, keys: set[str]) -> Item:
    data = _mapping(value, "item")
    if True in data:  # YAML 1.1 reads a bare `on:` key as the boolean true
        data = {("on" if k is True else k): v for k, v in data.items()}
    where = f"item {data.get('key')!r}"
    _only(data, where, required=_ITEM_REQUIRED, optional=_ITEM_OPTIONAL)
    key = _claim(data["key"], keys, where)
    platform, kind = data["platform"], data["kind"]
    if platform not in KINDS_BY_PLATFORM:
        raise ValueError(f"{where}: unknown platform {platform!r}")
    if kind not in KINDS_BY_PLATFORM[platform]:
        raise ValueError(f"{where}: kind {kind!r} does not exist on {platform} "
                         f"(use one of {', '.join(KINDS_BY_PLATFORM[platform])})")
    text = _typed(data, "text", str, where)
    if not text.strip():
        raise ValueError(f"{where}: text is empty")
    lang = _typed(data, "lang", str, where)
    if len(lang) != 2 or not lang.isalpha() or not lang.islower():
        raise ValueError(f"{where}: lang must be a two-letter ISO 639-1 code, got {lang!r}")
    label = data.get("label")
    if label is not None and label not in LABELS:
        raise ValueError(f"{where}: label must be one of {', '.join(LABELS)}, got {label!r}")
    wave = data.get("wave", 1)
    if wave not in WAVES or isinstance(wave, bool):
        raise ValueError(f"{where}: wave must be 1 or 2, got {wave!r}")
    queries = data.get("queries", [])
    if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
        raise ValueError(f"{where}: queries must be a list of query names")
    return Item(
        key=key, platform=platform, kind=kind, author=_typed(data, "author", str, where), text=text,
        minutes_ago=_minutes(data, where), lang=lang, label=label, reply_to=data.get("reply_to"),
        on=data.get("on"), queries=tuple(queries), wave=wave,
    )


def _check_links(dataset: Dataset, item: Item) -> None:
    """Cross-references: author, reply_to, on, queries; a reply is newer than what it answers."""
    where = f"item {item.key!r}"
    if not item.from_brand:
        try:
            author = dataset.customer(item.author)
        except KeyError:
            raise ValueError(f"{where}: unknown author {item.author!r}") from None
        if author.platform != item.platform:
            raise ValueError(f"{where}: author {item.author!r} is a {author.platform} customer, "
                             f"not {item.platform}")
    if item.from_brand and item.kind == "visitor_post":
        raise ValueError(f"{where}: the brand cannot write a visitor post on its own Page")
    if (item.kind == "mention" and not item.from_brand
            and f"@{dataset.brand.x_username}".lower() not in item.text.lower()):
        raise ValueError(f"{where}: a mention must contain @{dataset.brand.x_username}")

    tweet = item.kind in TWEET_KINDS
    if item.queries and not tweet:
        raise ValueError(f"{where}: only X tweets can match search queries")
    for name in item.queries:
        if name not in dataset.search_queries:
            raise ValueError(f"{where}: unknown search query {name!r}")
    if item.kind == "search_hit" and not item.queries:
        raise ValueError(f"{where}: a search_hit needs the queries that find it")

    if item.reply_to is not None:
        if not tweet:
            raise ValueError(f"{where}: reply_to is only for X tweets; {item.kind} threads by author")
        parent = _target(dataset, item, item.reply_to, "reply_to")
        if not isinstance(parent, Item) or parent.kind not in TWEET_KINDS:
            raise ValueError(f"{where}: reply_to {item.reply_to!r} is not an X tweet")
        _check_order(item, parent)

    if item.kind == "comment":
        if item.on is None:
            raise ValueError(f"{where}: a comment needs `on` (a page post or a comment)")
        target = _target(dataset, item, item.on, "on")
        if isinstance(target, Item) and target.kind != "comment":
            raise ValueError(f"{where}: on {item.on!r} must be a page post or a comment, not a {target.kind}")
        _check_order(item, target)
    elif item.on is not None:
        raise ValueError(f"{where}: only comments have `on`")


def _target(dataset: Dataset, item: Item, key: str, what: str) -> Item | PagePost:
    found = dataset.get(key)
    if not isinstance(found, Item | PagePost):
        raise ValueError(f"item {item.key!r}: unknown {what} {key!r}")
    return found


def _check_order(item: Item, parent: Item | PagePost) -> None:
    if isinstance(parent, Item) and parent.wave > item.wave:
        raise ValueError(f"item {item.key!r}: answers {parent.key!r}, which only arrives in wave {parent.wave}")
    if parent.minutes_ago <= item.minutes_ago and (not isinstance(parent, Item) or parent.wave == item.wave):
        raise ValueError(f"item {item.key!r}: must be newer than {parent.key!r} (smaller minutes_ago)")


def _check_waves(items: tuple[Item, ...]) -> None:
    first = [i.minutes_ago for i in items if i.wave == 1]
    if not first:
        return
    oldest_allowed = min(first)
    for item in items:
        if item.wave == 2 and item.minutes_ago > oldest_allowed:
            raise ValueError(f"item {item.key!r}: a wave-2 item must be newer than every wave-1 item "
                             f"(minutes_ago <= {oldest_allowed})")
