"""Customer text made safe to store: every string a platform hands us passes through `clean`.

Platforms deliver text we cannot store as is: X's JSON may carry half an emoji (a lone UTF-16
surrogate such as "\\ud83d", which no UTF-8 encoder accepts), PostgreSQL refuses NUL in text
columns, and a sender may paste megabytes. One such item must never stop a stream, so the text is
repaired here, at the boundary, before anything downstream sees it. Pure: imports nothing from bot/.
"""

from __future__ import annotations

import dataclasses
import re

from connectors.base import Author, InboundMessage, Platform

REPLACEMENT = "\ufffd"

# Longest text each network lets a customer post, in characters; anything longer did not come from
# the platform as documented, and is cut there (the card and triage only need the start).
# - X: 25,000 characters for long posts by Premium accounts (280 otherwise); DMs are shorter.
#   Sources: https://ayrshare.com/integration/twitter ("Publish Long Form Posts"),
#   https://docs.postsyncer.com/platforms/x ("An account with X Premium takes 25,000").
# - Facebook: 63,206 characters for a post (https://docs.upload-post.com/resources/character-limits/).
#   Comments and Messenger messages are shorter on the platform (Messenger's *Send* API documents
#   2,000 for what a Page sends), but we found no confirmed limit for what a customer can send us,
#   so the post limit is used for every Facebook kind rather than cut a genuine message short.
MAX_TEXT: dict[str, int] = {Platform.X: 25_000, Platform.FACEBOOK: 63_206}
FALLBACK_MAX_TEXT = 63_206  # a future network without its own entry
MAX_NAME = 255  # the customers.name/handle and messages.author_name columns
MAX_URL = 512  # the url columns; a longer "URL" is dropped, not cut into a different link
MAX_ID = 128  # generous for every platform id; longer ones fail to store and are quarantined

# C0 controls except tab and newline, plus DEL: invisible, and NUL is refused by PostgreSQL.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def clean(value: str, limit: int) -> str:
    """`value` with every lone surrogate (or other code point UTF-8 cannot carry) replaced by
    U+FFFD, NUL and other C0 controls except newline and tab removed (CR included: a line break
    is kept as its \\n), cut to at most `limit` characters."""
    if len(value) > limit * 2:
        value = value[: limit * 2]  # cleaning removes characters; never scan megabytes we will drop
    if _SURROGATES.search(value):
        # A valid pair was already joined by the JSON decoder; what is left here is unpaired.
        value = _SURROGATES.sub(REPLACEMENT, value)
    value = _CONTROLS.sub("", value)
    return value[:limit]


def _clean_optional(value: str | None, limit: int) -> str | None:
    return None if value is None else clean(value, limit)


def clean_message(message: InboundMessage) -> InboundMessage:
    """The same record with every customer-supplied string cleaned and bounded (see `clean`).
    A URL longer than any real permalink is dropped: a cut one would point somewhere else."""
    author = message.author
    url = _clean_optional(message.url, MAX_URL + 1)
    return dataclasses.replace(
        message,
        external_id=clean(message.external_id, MAX_ID),
        thread_key=clean(message.thread_key, MAX_ID),
        text=clean(message.text, MAX_TEXT.get(message.platform, FALLBACK_MAX_TEXT)),
        author=Author(
            external_id=clean(author.external_id, MAX_ID),
            handle=clean(author.handle, MAX_NAME),
            name=clean(author.name, MAX_NAME),
            followers=author.followers,
            verified=author.verified,
        ),
        url=url if url is None or len(url) <= MAX_URL else None,
        query_names=tuple(clean(name, 64) for name in message.query_names),
        lang_hint=_clean_optional(message.lang_hint, 16),
        in_reply_to=_clean_optional(message.in_reply_to, MAX_ID),
    )
