"""Low-level Block Kit pieces shared by every builder: the message record, blocks, Slack's limits,
and packing many lines into as few sections as the limits allow.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import overload

from bot.cards.mrkdwn import clip, cut_mrkdwn, slack_len

SECTION_TEXT_MAX = 3000
BUTTON_TEXT_MAX = 75
FALLBACK_MAX = 1000  # Slack accepts far more; a notification needs far less
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100  # modals and App Home
RED = "#e01e5a"  # Slack's palette
AMBER = "#ecb22e"

_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")


@dataclass(frozen=True)
class SlackMessage:
    """What chat.postMessage / chat.update need: fallback/notification `text` and `blocks`.

    `colour`, when set, is the side bar of a legacy attachment (red for an overdue card). `blocks`
    always holds the content; `payload()` / `update_payload()` give the keyword arguments for
    chat.postMessage / chat.update, moving the blocks into a coloured attachment when there is a colour.
    """

    text: str
    blocks: list[dict]
    colour: str | None = None

    def payload(self) -> dict:
        """kwargs for chat.postMessage (add channel, thread_ts): the blocks, or a coloured attachment
        holding them. Never `blocks: []`, which Slack documents only for chat.update."""
        if self.colour is None:
            return {"text": self.text, "blocks": self.blocks}
        attachment = {"color": self.colour, "blocks": self.blocks, "fallback": self.text}
        return {"text": self.text, "attachments": [attachment]}

    def update_payload(self) -> dict:
        """kwargs for chat.update (add channel, ts), stating both `blocks` and `attachments`: chat.update
        keeps whichever a call leaves out, so a card that was red would keep its red copy."""
        return {"blocks": [], "attachments": [], **self.payload()}


@overload
def utc(dt: datetime) -> datetime: ...
@overload
def utc(dt: None) -> None: ...
@overload
def utc(dt: datetime | None) -> datetime | None: ...
def utc(dt: datetime | None) -> datetime | None:
    """`dt` as an aware UTC datetime: a naive one (SQLite drops tzinfo) is taken to be UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def user(slack_id: str | None, none: str = "unassigned") -> str:
    """A Slack user id as a mention; anything else escaped, so it can never ping."""
    if not slack_id:
        return none
    return f"<@{slack_id}>" if _SLACK_USER_ID.match(slack_id) else clip(slack_id, 40)


def mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def plain_text(text: str, limit: int = BUTTON_TEXT_MAX) -> dict:
    return {"type": "plain_text", "text": (text or " ")[:limit], "emoji": True}


def section(block_id: str, text: str) -> dict:
    return {"type": "section", "block_id": block_id, "text": mrkdwn(cut_mrkdwn(text, SECTION_TEXT_MAX))}


def context(block_id: str, *texts: str) -> dict:
    return {
        "type": "context",
        "block_id": block_id,
        "elements": [mrkdwn(cut_mrkdwn(t, SECTION_TEXT_MAX)) for t in texts[:10]],
    }


def header(block_id: str, text: str) -> dict:
    return {"type": "header", "block_id": block_id, "text": plain_text(text, 150)}


def divider() -> dict:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    element = {"type": "button", "action_id": action_id, "text": plain_text(text), "value": value}
    if style:
        element["style"] = style
    return element


def pack_lines(
    lines: Sequence[str],
    *,
    block_id: str,
    max_sections: int,
    max_lines: int | None = None,
    refs: Sequence[int] | None = None,
    more_block_id: str | None = None,
) -> list[dict]:
    """`lines` as sections of up to 3000 characters each, at most `max_sections` of them and at
    most `max_lines` lines.

    Lines that do not fit are summarised in one more block, "…and N more", listing their `refs` as
    "#N" when given, so every conversation is still named. Section block ids are `block_id.<n>`.
    """
    if max_sections < 1:
        raise ValueError("max_sections must be at least 1")
    sections: list[list[str]] = []
    size = 0
    shown = 0
    for line in lines[:max_lines]:
        line = cut_mrkdwn(line, SECTION_TEXT_MAX)
        add = slack_len(line) + 1
        if sections and size + add <= SECTION_TEXT_MAX:
            sections[-1].append(line)
            size += add
        elif len(sections) < max_sections:
            sections.append([line])
            size = add
        else:
            break
        shown += 1
    blocks = [section(f"{block_id}.{n}", "\n".join(chunk)) for n, chunk in enumerate(sections)]
    left = len(lines) - shown
    if left:
        text = f"…and {left} more"
        if refs is not None:
            text += ": " + ", ".join(f"#{r}" for r in refs[shown:])
        blocks.append(context(more_block_id or f"{block_id}.more", text))
    return blocks
