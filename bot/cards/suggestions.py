"""Suggested answers in the reply modal: what staff wrote on the most similar past cases, each with
a link to its Slack thread, and a picker that inserts one into the text box (to edit, then send —
a human always sends).

Pure: `SuggestedAnswer` records in, Block Kit out; `bot/replies/suggestions.py` finds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot import ids
from bot.cards.blocks import plain_text, section
from bot.cards.mrkdwn import clip, safe_url

SUGGESTIONS_MAX = 5
# Slack's option object: `text` and `description` at most 75 characters, `value` at most 150
# (https://api.slack.com/reference/block-kit/composition-objects#option).
_OPTION_TEXT_MAX = 75
_LINE_QUOTE_MAX = 280


@dataclass(frozen=True)
class SuggestedAnswer:
    """A staff answer sent on an earlier case (`message_id` is the outbound message's row id)."""

    message_id: int
    ref: int  # the earlier case's #N
    text: str
    language: str | None = None
    link: str | None = None  # the earlier case's Slack thread
    question: str = ""  # what the customer asked there (shown as the option's description)


def _line(answer: SuggestedAnswer) -> str:
    url = safe_url(answer.link)
    label = f"<{url}|#{answer.ref}>" if url else f"#{answer.ref}"
    flat = " ".join(answer.text.split())
    return f"• {label} “{clip(flat, _LINE_QUOTE_MAX)}”"  # clip() escapes


def suggestion_blocks(answers: Sequence[SuggestedAnswer], selected: int | None = None) -> list[dict]:
    """A section listing the answers (best first, each linking to its thread) and a select whose
    options insert one; no blocks when there is nothing to suggest."""
    shown = list(answers[:SUGGESTIONS_MAX])
    if not shown:
        return []
    lines = "\n".join(_line(a) for a in shown)
    options = []
    for answer in shown:
        option: dict = {"text": plain_text(f"#{answer.ref}: {' '.join(answer.text.split())}", _OPTION_TEXT_MAX),
                        "value": str(answer.message_id)}
        question = " ".join(answer.question.split())
        if question:
            option["description"] = plain_text(f"Asked: {question}", _OPTION_TEXT_MAX)
        options.append(option)
    select: dict = {
        "type": "static_select",
        "action_id": ids.ACTION_MODAL_SUGGESTION,
        "placeholder": plain_text("Insert a past answer…"),
        "options": options,
    }
    chosen = next((o for o in options if o["value"] == str(selected)), None)
    if chosen is not None:
        select["initial_option"] = chosen
    return [
        section(ids.BLOCK_MODAL_SUGGESTIONS, f"*Answers to similar cases*\n{lines}"),
        # An actions block, like the template picker: choosing sends block_actions at once.
        {"type": "actions", "block_id": ids.BLOCK_MODAL_SUGGESTION, "elements": [select]},
    ]
