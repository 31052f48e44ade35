"""The reply modal says what sending does in the words of the conversation's own network."""

from __future__ import annotations

import pytest

from bot import ids
from bot.cards import reply_modal
from bot.store.models import Conversation, Customer
from connectors.registry import UnknownPlatform
from connectors.testing import mastodon_rules


def _view(platform: str, kind: str, mode: str, text: str = "", **kw: object) -> dict:
    conversation = Conversation(id=7, ref=7, platform=platform, kind=kind, thread_key="1", customer_id=1, channel="C1")
    customer = Customer(platform=platform, external_id="9", handle="dana", name="Dana Q")
    return reply_modal(conversation=conversation, customer=customer, latest_text="help", mode=mode, templates=[],
                       agent_id="U0ABC", private_metadata="{}", text=text, **kw)


def _context(view: dict, block_id: str) -> str:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return block["elements"][0]["text"]


@pytest.mark.parametrize(("mode", "words"), [("public", "Toots a public reply to @dana on Mastodon"),
                                             ("private", "Sends a direct (mentioned-only) toot to @dana")])
def test_a_third_network_explains_itself_in_its_own_words_not_facebooks(mode: str, words: str) -> None:
    view = _view("mastodon", "mention", mode, rules=mastodon_rules())
    explain = _context(view, ids.BLOCK_MODAL_EXPLAIN)
    assert words in explain and "Facebook" not in explain


def test_a_third_network_with_a_limit_gets_a_live_count_by_its_own_counter() -> None:
    view = _view("mastodon", "mention", "public", text="Hello", rules=mastodon_rules())
    assert _context(view, ids.BLOCK_MODAL_COUNT) == "5/500 characters (plain characters)"


def test_a_network_nobody_registered_is_refused_rather_than_described_as_facebook() -> None:
    with pytest.raises(UnknownPlatform, match="'mastodon'"):
        _view("mastodon", "mention", "public")
