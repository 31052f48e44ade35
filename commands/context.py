"""What every workflow shares: finding the case people name, storing a reply and sending it after
the ack, and turning refusals into words.

`UserError` carries a message for the person who asked (shown ephemerally, or inside a modal);
nothing has been changed or sent when it is raised.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.cards import escape
from bot.replies.rules import Refused
from bot.replies.sender import SEND_AFTER_COMMIT, Mode, ReplyRefused
from bot.runtime import Parley
from bot.store.keys import row_id
from bot.store.models import Conversation, Message

_REF = re.compile(r"^#?(\d{1,9})$")


class UserError(Exception):
    """A request Parley will not carry out; `message` says why and what to type instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_ref(token: str, usage: str) -> int:
    """'#12' or '12' → 12; anything else → UserError quoting `usage`."""
    match = _REF.match((token or "").strip())
    if not match:
        shown = f"`{token}` is not" if token else "Missing"
        raise UserError(f"{shown} a conversation reference like `#12`. Usage: `/social {usage}`")
    return int(match.group(1))


def split_ref(args: str, usage: str) -> tuple[int, str]:
    """'#12 rest of it' → (12, 'rest of it'); UserError naming `usage` if the reference is missing."""
    words = args.split(None, 1)
    ref = parse_ref(words[0] if words else "", escape(usage))
    return ref, words[1].strip() if len(words) > 1 else ""


def invocation_key(trigger_id: str) -> str:
    """The idempotency key of one slash command: Slack repeats the trigger id on a retry of the same
    command; without one (never in practice) the command still works, only without retry protection."""
    return f"cmd:{trigger_id or uuid.uuid4().hex}"[:120]


def button_ref(value: str | None) -> int:
    """The case a card button names in its value; UserError for a card Parley no longer knows."""
    if not value or not value.isdigit():
        raise UserError("This button belongs to a card Parley no longer knows; use `/social queue`.")
    return int(value)


def say(respond: Respond, text: str) -> None:
    """An answer only the person who asked sees."""
    respond(response_type="ephemeral", text=text)


def ephemeral(respond: Respond, run: Callable[[], object]) -> None:
    """Run a click's work; a UserError becomes an ephemeral message to the clicker (the card stays)."""
    try:
        run()
    except UserError as error:
        respond(response_type="ephemeral", replace_original=False, text=error.message)


def conversation_or_error(session: Session, ref: int) -> Conversation:
    conversation = session.get(Conversation, ref)
    if conversation is None:
        raise UserError(f"There is no conversation #{ref}. `/social queue` lists the open ones.")
    return conversation


def change_case(parley: Parley, ref: int, change: Callable[[Session, Conversation], bool]) -> bool:
    """Run one Sender state change (assign, resolve, snooze…) on case #ref in one transaction; True
    when it changed anything, and then the card is updated. A refusal becomes a UserError."""
    with parley.store.transaction() as session:
        conversation = conversation_or_error(session, ref)
        try:
            changed = change(session, conversation)
        except Refused as refused:
            raise UserError(refused.message) from None
    if changed:
        parley.outbox.wake()  # the card update
    for message_id in session.info.pop(SEND_AFTER_COMMIT, []):  # e.g. the CSAT question of a resolve
        parley.send_soon(message_id)
    return changed


def store_reply(parley: Parley, *, user_id: str, ref: int, text: str, mode: Mode | str, key: str,
                user_name: str = "") -> Message:
    """Store a reply (idempotent on `key`) and have it sent in the background; UserError if refused.

    The message is committed before anything is sent, so a restart in between finishes or reports it
    (Sender.deliver_pending) instead of losing it or sending it twice. Its commit runs in Slack's
    acknowledgement (commands/social.py), so it is `Store.write`: writers queue instead of being
    refused, and the commit skips the disk flush (`durable=False`): a killed process loses nothing
    committed, and the send's claim a moment later is a durable commit that flushes this one with
    it, so only an operating-system crash in between could lose it (docs/ARCHITECTURE.md, "Acks").
    """
    with parley.store.write(durable=False) as session:
        conversation = conversation_or_error(session, ref)
        try:
            message = parley.sender.queue_reply(session, conversation, agent_id=user_id, text=text, mode=mode,
                                                idempotency_key=key, agent_name=user_name)
        except ReplyRefused as refused:
            raise UserError(refused.message) from None
        session.flush()
        message_id, case = row_id(message), row_id(conversation)
    parley.send_soon(message_id, case=case)  # after the commit above
    return message


_SLACK_MARKUP = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")


def slack_to_plain(text: str) -> str:
    """Slash-command text as the person typed it: Slack's markup undone, so a customer never gets
    `&amp;` or `<https://…|…>`. Mentions become `@name` (or `@U123` without a name), channel
    references `#name`, links their URL, and `&lt; &gt; &amp;` the characters."""
    def plain(match: re.Match) -> str:
        sigil, target, label = match.group(1), match.group(2), match.group(3)
        if sigil == "@":
            return f"@{label or target}"
        if sigil == "#":
            return f"#{label or target}"
        if sigil == "!":  # <!here>, <!subteam^S1|@team>
            name = label or target.split("^")[0]
            return name if name.startswith("@") else f"@{name}"
        if target.startswith("mailto:"):
            return target.removeprefix("mailto:")
        return target  # a link: the URL is what the customer needs
    text = _SLACK_MARKUP.sub(plain, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def echo(raw: str) -> str:
    """Command text quoted back to the person: plain again, then escaped, so it shows as typed and
    can never form a link or mention."""
    return escape(slack_to_plain(raw))


def user_zone(client: WebClient, user_id: str) -> ZoneInfo:
    """The person's Slack time zone (for "tomorrow 9:00"), or UTC when Slack cannot tell us."""
    try:
        name = (client.users_info(user=user_id).get("user") or {}).get("tz") or "UTC"
        return ZoneInfo(name)
    except (SlackApiError, ValueError, ZoneInfoNotFoundError):
        return ZoneInfo("UTC")
