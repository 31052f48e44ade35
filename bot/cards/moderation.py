"""The card's moderation pieces: the "Hide comment" button (with Slack's confirm dialog) and the line
that says which of the customer's comments staff hid on the network."""

from __future__ import annotations

from datetime import datetime

from bot import ids
from bot.cards.blocks import button, context, plain_text, user
from bot.cards.blocks import utc as _utc
from bot.cards.mrkdwn import escape, human_duration
from bot.cards.records import Hidden

_DIALOG_TEXT_MAX = 300  # a confirmation dialog's text (Block Kit composition objects)


def hide_button(value: str, site: str) -> dict:
    """"Hide comment", asking first: hiding is public moderation, not a reply."""
    text = (f"Hides the customer's comments in this case on {site}: only they (and their friends) will still "
            "see them. Nothing is sent to the customer.")
    return button("Hide comment", ids.ACTION_HIDE, value, "danger") | {"confirm": {
        "title": plain_text("Hide the comment?"), "text": plain_text(text, _DIALOG_TEXT_MAX),
        "confirm": plain_text("Hide"), "deny": plain_text("Cancel"), "style": "danger"}}


def hidden_block(hidden: Hidden, site: str, now: datetime) -> dict:
    """"🙈 Comment hidden on Instagram by @dana 5m ago"."""
    what = "Comment" if hidden.count == 1 else f"{hidden.count} comments"
    ago = escape(human_duration((_utc(now) - _utc(hidden.at)).total_seconds()))
    return context(ids.BLOCK_CARD_HIDDEN, f"🙈 {what} hidden on {escape(site)} by {user(hidden.agent_id, 'someone')} "
                                          f"{ago} ago")
