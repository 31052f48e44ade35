"""connectors.text: what cleaning does to each kind of hostile string."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from connectors.base import Author, InboundMessage, Kind, Platform
from connectors.text import MAX_NAME, MAX_TEXT, REPLACEMENT, clean, clean_message


def test_lone_surrogates_become_replacement_characters():
    text = json.loads('"half \\ud83d an emoji, and a low \\udc00 one; a whole one \\ud83d\\ude00"')
    assert clean(text, 100) == f"half {REPLACEMENT} an emoji, and a low {REPLACEMENT} one; a whole one \U0001F600"


def test_nul_and_c0_controls_go_newline_and_tab_stay():
    assert clean("a\x00b\x07c\x1bd\r\ne\tf\x7f", 100) == "abcd\ne\tf"


def test_length_is_bounded_without_scanning_what_is_dropped():
    assert clean("x" * 10_000_000, 25_000) == "x" * 25_000
    assert clean("\x00\x00abc", 2) == "ab"  # controls are removed before the cut


@given(st.text(alphabet=st.characters(codec=None), max_size=200))
def test_cleaned_text_always_encodes(text: str):
    cleaned = clean(text, 150)
    cleaned.encode("utf-8")
    assert "\x00" not in cleaned and len(cleaned) <= 150


def test_clean_message_cleans_every_customer_string():
    record = InboundMessage(
        platform=Platform.X, kind=Kind.MENTION, external_id="1\x00", thread_key="1", text="t" * 30_000,
        author=Author(external_id="9", handle="h\ud83d", name="n" * 1_000), created_at=datetime.now(UTC),
        url="https://x.com/" + "a" * 600, query_names=("q\x00",), lang_hint="en\x07", in_reply_to="\udc00",
    )
    cleaned = clean_message(record)
    assert cleaned.external_id == "1" and len(cleaned.text) == MAX_TEXT[Platform.X]
    assert cleaned.author.handle == f"h{REPLACEMENT}" and len(cleaned.author.name) == MAX_NAME
    assert cleaned.url is None  # a cut URL would point elsewhere
    assert cleaned.query_names == ("q",) and cleaned.lang_hint == "en" and cleaned.in_reply_to == REPLACEMENT
