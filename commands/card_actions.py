"""The buttons on a conversation card and on a ❌ delivery receipt.

Reply · Take private open the reply modal (commands/reply_modal.py). Assign to me · Resolve ·
Reopen · Snooze change the case through the Sender (audited, card updated in place); a click that
changes nothing (a double click) changes nothing and writes nothing. Retry sends a failed reply
again as a new stored message keyed "retry:<failed message id>", so clicking Retry twice still
sends once; a send whose outcome is unknown (it may have been posted) is never sent again from
the button: the person is asked, ephemerally, to check the platform first.

Every click is acknowledged first; refusals come back as ephemeral messages to the clicker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta, tzinfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlmodel import Session, select

from bot import ids
from bot.replies.rules import Mode, Refused, failure_kind
from bot.runtime import Parley
from bot.store.models import Conversation, DeliveryStatus, Direction, Message
from commands.context import UserError, conversation_or_error, store_reply, user_zone
from commands.reply_modal import open_reply_modal

log = logging.getLogger(__name__)

__all__ = ["register", "retry_key", "retry_send", "snooze_until"]

SNOOZE_HOUR = 9  # "tomorrow 9:00" and "next week" wake at this local hour


def snooze_until(choice: str, now: datetime, zone: tzinfo = UTC) -> datetime:
    """When a snooze choice ends, as an aware UTC datetime. "tomorrow_9" is 9:00 tomorrow and
    "next_week" 9:00 next Monday, both in `zone` (the clicker's Slack time zone)."""
    if choice == ids.SNOOZE_30M:
        return now + timedelta(minutes=30)
    if choice == ids.SNOOZE_2H:
        return now + timedelta(hours=2)
    local = now.astimezone(zone)
    if choice == ids.SNOOZE_TOMORROW_9:
        day = local.date() + timedelta(days=1)
    elif choice == ids.SNOOZE_NEXT_WEEK:
        day = local.date() + timedelta(days=7 - local.weekday())
    else:
        raise ValueError(f"unknown snooze choice {choice!r}")
    return datetime.combine(day, time(SNOOZE_HOUR), tzinfo=zone).astimezone(UTC)


def retry_key(message_id: int) -> str:
    """One retry per failed message: a retry that fails again has its own receipt and Retry button."""
    return f"retry:{message_id}"


def retry_send(parley: Parley, *, user_id: str, message_id: int, user_name: str = "") -> Message:
    """Queue a failed reply again (sent in the background); UserError when it must not be."""
    with parley.store.transaction() as session:
        failed = session.get(Message, message_id)
        if failed is None or failed.direction != Direction.OUTBOUND:
            raise UserError("That reply is no longer in Parley's records; nothing was sent.")
        ref = failed.conversation_id
        kind = failure_kind(failed.delivery_status, failed.delivery_error)
        if kind is None:
            raise UserError("That reply was sent already; nothing more was sent." if
                            failed.delivery_status == DeliveryStatus.SENT else
                            "That reply is being sent right now; its receipt will follow in the thread.")
        if kind == "unknown":
            url = session.get_one(Conversation, ref).url  # the reply's own conversation
            where = f" (<{url}|open the conversation>)" if url else ""
            raise UserError(
                "Parley stopped while sending this reply, so it may already have been posted. Check the platform"
                f"{where} first; if it is not there, send it again with `/social reply #{ref} <text>` (or "
                f"`/social private #{ref} <text>`). Nothing was sent.")
        if kind == "final":
            raise UserError("The platform refused this reply, and sending the same again would fail the same way. "
                            f"Change it and send it with `/social reply #{ref} <text>`.")
        again = session.exec(select(Message).where(Message.send_key == retry_key(message_id))).first()
        if again is not None:  # a second click: the first one's retry stands (and has its own receipt)
            raise UserError("This reply was sent again already; its receipt is in the thread. Nothing more was sent.")
        text, mode = failed.text, Mode.PUBLIC if parley.sender.registry.op(failed.kind).public else Mode.PRIVATE
    return store_reply(parley, user_id=user_id, ref=ref, text=text, mode=mode, key=retry_key(message_id),
                       user_name=user_name)


def _conversation_id(value: str | None) -> int:
    if not value or not value.isdigit():
        raise UserError("This button belongs to a card Parley no longer knows; use `/social queue`.")
    return int(value)


def _change(parley: Parley, conversation_id: int, change: Callable[[Session, Conversation], bool],
            unchanged: str) -> None:
    """Run a case change in one transaction; UserError(`unchanged`) when it changed nothing."""
    with parley.store.transaction() as session:
        conversation = conversation_or_error(session, conversation_id)
        try:
            changed = change(session, conversation)
        except Refused as refused:
            raise UserError(refused.message) from None
    if not changed:
        raise UserError(unchanged.format(ref=conversation_id))
    parley.outbox.wake()


def _ephemeral(respond: Respond, run: Callable[[], object]) -> None:
    try:
        run()
    except UserError as error:
        respond(response_type="ephemeral", replace_original=False, text=error.message)


def register(app: App, parley: Parley) -> None:
    sender = parley.sender

    def modal(mode: Mode) -> Callable[..., None]:
        def open_modal(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
            ack()
            _ephemeral(respond, lambda: open_reply_modal(
                parley, client, trigger_id=body["trigger_id"], user_id=body["user"]["id"],
                conversation_id=_conversation_id(body["actions"][0].get("value")), mode=mode))
        return open_modal

    app.action(ids.ACTION_REPLY)(modal(Mode.PUBLIC))
    app.action(ids.ACTION_TAKE_PRIVATE)(modal(Mode.PRIVATE))

    @app.action(ids.ACTION_ASSIGN_ME)
    def assign_me(ack: Ack, body: dict, respond: Respond) -> None:
        ack()
        user = body["user"]["id"]
        _ephemeral(respond, lambda: _change(
            parley, _conversation_id(body["actions"][0].get("value")),
            lambda s, c: sender.assign(s, c, user, actor=user), "#{ref} is already assigned to you."))

    @app.action(ids.ACTION_RESOLVE)
    def resolve(ack: Ack, body: dict, respond: Respond) -> None:
        ack()
        user = body["user"]["id"]
        _ephemeral(respond, lambda: _change(
            parley, _conversation_id(body["actions"][0].get("value")),
            lambda s, c: sender.resolve(s, c, actor=user), "#{ref} is already resolved."))

    @app.action(ids.ACTION_REOPEN)
    def reopen(ack: Ack, body: dict, respond: Respond) -> None:
        ack()
        user = body["user"]["id"]
        _ephemeral(respond, lambda: _change(
            parley, _conversation_id(body["actions"][0].get("value")),
            lambda s, c: sender.reopen(s, c, actor=user), "#{ref} is already open."))

    @app.action(ids.ACTION_SNOOZE)
    def snooze(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        user = body["user"]["id"]

        def run() -> None:
            try:
                conversation_id, choice = ids.parse_snooze_option_value(
                    (body["actions"][0].get("selected_option") or {}).get("value") or "")
            except ValueError:
                raise UserError("That snooze choice is not one Parley offers; try `/social snooze #12 2h`.") from None
            until = snooze_until(choice, sender.clock(), user_zone(client, user))
            _change(parley, conversation_id, lambda s, c: sender.snooze(s, c, until, actor=user),
                    "#{ref} is already snoozed until then.")

        _ephemeral(respond, run)

    @app.action(ids.ACTION_OPEN_ORIGINAL)
    def open_original(ack: Ack) -> None:
        ack()  # a link button: Slack opens the URL itself but still tells us about the click

    @app.action(ids.ACTION_RETRY_SEND)
    def retry(ack: Ack, body: dict, respond: Respond) -> None:
        ack()
        user = body["user"]
        value = body["actions"][0].get("value") or ""

        def run() -> None:
            if not value.isdigit():
                raise UserError("This Retry button names no reply Parley knows; nothing was sent.")
            retry_send(parley, user_id=user["id"], message_id=int(value),
                       user_name=user.get("name") or user.get("username") or "")

        _ephemeral(respond, run)
