"""What a staff reply becomes, checked against its network's rules before anything is sent.

Pure functions of plain data and `now`: `plan_reply` makes the checks every network shares (empty
text, nothing to answer) and asks the network's `Rules.plan` for the stored operation and the
customer message it answers, or raises `ReplyRefused` with words staff can act on. No platform
is named here: the rules live in `connectors/<network>/rules.py`; the receipt echoed in the Slack
thread after a send is worded in `bot/cards/receipts.py`.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable
from datetime import datetime

from bot import placeholders
from connectors.base import Heard, OpSpec, Plan, Refusal, ReplyRequest, Rules

__all__ = ["DEFAULT_NUDGE", "OUTCOME_UNKNOWN", "RETRY_HINT", "Heard", "Mode", "Plan", "Refused", "ReplyRefused",
           "failure_kind", "plan_reply", "render_nudge", "visible"]

DEFAULT_NUDGE = "We've sent you a DM 📩"
RETRY_HINT = " You can try again."  # ends the stored error of a failed send worth trying again
OUTCOME_UNKNOWN = "Outcome unknown:"  # starts the stored error of a send that may have been posted


# Characters that draw nothing: controls, format characters (U+200B zero width space, U+2060 word
# joiner, …), spaces and separators, and lone combining marks (variation selectors, U+034F). Some
# blank-looking letters and symbols are not in those categories, so they are named: U+2800 (braille
# blank), U+3164 and U+FFA0 (hangul fillers), U+115F and U+1160 (hangul choseong/jungseong fillers).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})
_BLANK_LETTERS = frozenset("\u2800\u3164\uffa0\u115f\u1160")


def visible(text: str) -> bool:
    """Whether `text` shows anything once invisible, format and blank characters are ignored."""
    return any(ch not in _BLANK_LETTERS and unicodedata.category(ch) not in _INVISIBLE_CATEGORIES
               for ch in text)


class Mode(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class Refused(Exception):
    """An action staff asked for that Parley will not do; `message` says why and what to do instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReplyRefused(Refused):
    """A reply that must not be sent; nothing reached the platform."""


def audit_action(spec: OpSpec | None) -> str:
    """"reply_public" or "reply_private"; "reply" for an operation no network declares."""
    if spec is None:
        return "reply"
    return "reply_public" if spec.public else "reply_private"


def plan_reply(
    *,
    rules: Rules,
    conversation_kind: str,
    thread_key: str,
    mode: Mode,
    text: str,
    heard: Iterable[Heard],
    private_replied: Iterable[str] = (),
    nudge_text: str = DEFAULT_NUDGE,
    now: datetime,
) -> Plan:
    """The network's operation for a reply, or ReplyRefused. `heard` is the customer's messages;
    `private_replied` the public messages that already have a (not failed) private reply."""
    if not text.strip():
        raise ReplyRefused("There is nothing to send: the reply is empty. Type the text after the command.")
    if not visible(text):
        raise ReplyRefused("There is nothing to send: the reply holds only invisible characters (such as "
                           "zero-width or blank spaces), so it would post as a blank message. Type the text "
                           "to send.")
    ordered = sorted(heard, key=lambda h: (h.created_at, h.external_id))
    if not ordered:
        raise ReplyRefused("This conversation has no customer message to answer yet.")
    request = ReplyRequest(conversation_kind=conversation_kind, thread_key=thread_key, mode=mode.value, text=text,
                           heard=ordered, private_replied=frozenset(private_replied), nudge_text=nudge_text,
                           now=now)
    try:
        return rules.plan(request)
    except Refusal as refusal:
        raise ReplyRefused(refusal.message) from refusal


def render_nudge(template: str, *, handle: str, prefix: str, ref: int | None) -> str:
    """The public DM notice from its template, filled by the one engine (`bot.placeholders`):
    once, never re-expanded; `{agent}` and unknown `{words}` are left as typed. It is public, so
    the customer is named by their verified handle only (`{first_name}` is `@handle`), never by
    their display name, which anyone can set to a mention or a link."""
    return placeholders.fill(template, placeholders.customer_values(
        name=None, handle=handle, ref=ref, public=True, prefix=prefix))


def failure_kind(delivery_status: str, delivery_error: str | None) -> str | None:
    """How a FAILED outbound message failed, from its stored status and error: "retryable" (an outage
    or rate limit: sending again may work), "unknown" (it may have been posted, so a person checks
    before sending again) or "final" (the platform refused it). None when it did not fail."""
    if delivery_status != "failed":
        return None
    error = delivery_error or ""
    if error.startswith(OUTCOME_UNKNOWN):
        return "unknown"
    return "retryable" if error.endswith(RETRY_HINT) else "final"
