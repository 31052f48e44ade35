"""`X_SEARCH_QUERIES`: the named keyword and competitor searches, as one setting value.

Each name keys a search stream's cursor and its share-of-voice row, so names are short and safe."""

from __future__ import annotations

import re

_QUERY_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def parse_search_queries(value: str | dict[str, str] | None) -> dict[str, str]:
    """'acme: (acme OR "acme corp") -is:retweet; rival: rivalco -is:retweet' -> {name: query}."""
    if not value:
        return {}
    if isinstance(value, dict):
        return value
    queries: dict[str, str] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        name, sep, query = part.partition(":")
        name, query = name.strip(), query.strip()
        if not sep or not query:
            raise ValueError(f"{part.strip()!r} should look like 'name: query'")
        if not _QUERY_NAME.match(name):
            raise ValueError(f"query name {name!r} may only use letters, digits, '_' and '-'")
        if name in queries:
            raise ValueError(f"query name {name!r} is used twice")
        queries[name] = query
    return queries
