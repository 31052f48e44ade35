"""The card's moderation pieces: "Hide comment" (asked first) only where the network can hide and a
comment is still visible, the "hidden on …" line, the thread receipt, and the token-expiry warning."""

from __future__ import annotations

from datetime import timedelta

from bot import ids
from bot.cards import Hidden, conversation_card
from bot.cards.receipts import hide_receipt
from bot.cards.reminders import token_expiry
from tests.bot.cards.test_builders import NOW, _block, _block_text, assert_valid, make


def test_hide_comment_is_offered_with_a_confirmation_only_when_asked():
    conversation, customer, opening = make(platform="instagram", kind="comment", url=None)
    plain = conversation_card(conversation, customer, opening, now=NOW)
    assert ids.ACTION_HIDE not in str(plain.blocks)
    offered = conversation_card(conversation, customer, opening, now=NOW, can_hide=True)
    assert_valid(offered)
    [hide] = [e for e in _block(offered, ids.BLOCK_CARD_ACTIONS)["elements"] if e["action_id"] == ids.ACTION_HIDE]
    assert (hide["value"], hide["style"], hide["text"]["text"]) == ("42", "danger", "Hide comment")
    assert "on Instagram" in hide["confirm"]["text"]["text"] and "Nothing is sent" in hide["confirm"]["text"]["text"]


def test_the_card_says_which_comments_were_hidden_by_whom():
    conversation, customer, opening = make(platform="instagram", kind="comment", url=None)
    one = conversation_card(conversation, customer, opening, now=NOW,
                            hidden=Hidden("U0DANA", NOW - timedelta(minutes=5), 1))
    assert_valid(one)
    assert _block_text(one, ids.BLOCK_CARD_HIDDEN) == "🙈 Comment hidden on Instagram by <@U0DANA> 5m ago"
    two = conversation_card(conversation, customer, opening, now=NOW, hidden=Hidden("U0DANA", NOW, 2))
    assert _block_text(two, ids.BLOCK_CARD_HIDDEN).startswith("🙈 2 comments hidden on Instagram")


def test_the_hide_receipt_says_what_happened_and_escapes_the_networks_words():
    assert hide_receipt(agent_id="U1", site="Facebook", hidden=1) == (
        "🙈 <@U1> hid the customer's comment on Facebook ✅ — only its author (and their friends) still see it")
    failed = hide_receipt(agent_id="U1", site="Instagram", hidden=1, error="<!channel> no")
    assert failed.startswith("🙈 <@U1> hid comment, then could not hide a comment on Instagram ❌")
    assert "<!channel>" not in failed and "&lt;!channel&gt;" in failed


def test_the_token_warning_says_when_and_how_to_renew():
    soon = token_expiry("Instagram", "the Instagram token", NOW + timedelta(days=2), "make a <new> one", NOW)
    assert "expires in 2d" in soon.text and "make a &lt;new&gt; one" in soon.text
    gone = token_expiry("Instagram", "the Instagram token", NOW - timedelta(days=1), "renew", NOW)
    assert "has expired" in gone.text and "until it is renewed" in gone.text
