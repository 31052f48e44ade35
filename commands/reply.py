"""The reply workflow: `/social reply|private #N <text>`, the card's Reply · Take private buttons
(they open the reply modal, commands/reply_modal.py), Open original, and Retry on a ❌ receipt.

Replies are stored first and sent after the ack (commands/context.store_reply), keyed by Slack's
trigger id, so a retried command never sends twice; the delivery receipt appears in the case's
thread. Retry sends a failed reply again as a new stored message keyed "retry:<failed message id>",
so clicking Retry twice still sends once; a send whose outcome is unknown (it may have been posted)
is never sent again from the button: the person is asked, ephemerally, to check the platform first.
A malformed command or a refused click changes nothing and says what to do instead.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlmodel import Session, select

from bot import ids
from bot.cards.records import handle_label
from bot.replies.rules import Mode, failure_kind
from bot.runtime import Parley
from bot.store.models import Conversation, Customer, DeliveryStatus, Direction, Message
from commands.acking import after_ack
from commands.context import (
    UserError,
    button_ref,
    conversation_or_error,
    ephemeral,
    invocation_key,
    say,
    slack_to_plain,
    split_ref,
    store_reply,
)
from commands.reply_modal import open_reply_modal
from commands.social import Invocation, subcommand

__all__ = ["register", "retry_key", "retry_send"]

U_REPLY = "reply #N <text>"
U_PRIVATE = "private #N <text>"


# --- /social reply | private ---------------------------------------------------------------------
def _who(session: Session, conversation: Conversation) -> str:
    """The customer as mrkdwn, escaped once (by `handle_label`): "Ben &amp; Jerry", never "&amp;amp;"."""
    customer = session.get(Customer, conversation.customer_id)
    return handle_label(conversation.platform, customer.handle if customer else "")


def _send(parley: Parley, invocation: Invocation, respond: Respond, *, mode: str, usage: str) -> None:
    ref, text = split_ref(invocation.args, usage)
    text = slack_to_plain(text).strip()
    if not text:
        raise UserError(f"Missing text: type the message after the reference, e.g. `/social {usage.split()[0]} "
                        f"#{ref} Thanks for your patience — we're on it`.")
    message = store_reply(parley, user_id=invocation.user_id, ref=ref, text=text, mode=mode,
                          key=invocation_key(invocation.trigger_id), user_name=invocation.user_name)
    invocation.ack()  # stored: now Slack may be told the command was received (commands/social.py)
    invocation.after(lambda: _say_sending(parley, respond, message, ref))


def _say_sending(parley: Parley, respond: Respond, message: Message, ref: int) -> None:
    with parley.store.transaction() as session:
        conversation = conversation_or_error(session, ref)
        who = _who(session, conversation)
    network = parley.sender.registry.rules(conversation.platform)
    spec = network.ops.get(message.kind)
    what = spec.sending.format(who=who) if spec is not None else "your reply"
    extra = ""
    if network.nudge_after(message.kind, conversation.kind) is not None:
        extra = " Once the DM is delivered, Parley posts the public notice that you sent one."
    say(respond, f"Sending {what} (#{ref})…{extra} The receipt will appear in the case's thread.")


@subcommand(ids.SUB_REPLY, U_REPLY, "answer the customer publicly (in a DM conversation: in the DM)",
            "reply #12 Sorry about the wait — your order ships today", durable=True)
def reply(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    _send(parley, invocation, respond, mode="public", usage=U_REPLY)


@subcommand(ids.SUB_PRIVATE, U_PRIVATE, "take it private: send <text> as a DM (X) or a private reply (Facebook); "
            "on X a short public notice follows the DM", "private #12 Could you send us your order number?",
            durable=True)
def private(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    _send(parley, invocation, respond, mode="private", usage=U_PRIVATE)


# --- Retry on a ❌ receipt -----------------------------------------------------------------------
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
            url = conversation_or_error(session, ref).url
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


# --- buttons -------------------------------------------------------------------------------------
def register(app: App, parley: Parley) -> None:
    def modal(mode: Mode) -> Callable[..., None]:
        def open_modal(body: dict, client: WebClient, respond: Respond) -> None:
            ephemeral(respond, lambda: open_reply_modal(
                parley, client, trigger_id=body["trigger_id"], user_id=body["user"]["id"],
                conversation_id=button_ref(body["actions"][0].get("value")), mode=mode))
        return open_modal

    after_ack(app.action(ids.ACTION_REPLY))(modal(Mode.PUBLIC))
    after_ack(app.action(ids.ACTION_TAKE_PRIVATE))(modal(Mode.PRIVATE))

    @app.action(ids.ACTION_OPEN_ORIGINAL)
    def open_original(ack: Ack) -> None:
        ack()  # a link button: Slack opens the URL itself but still tells us about the click

    @after_ack(app.action(ids.ACTION_RETRY_SEND))
    def retry(body: dict, respond: Respond) -> None:
        user = body["user"]
        value = body["actions"][0].get("value") or ""

        def run() -> None:
            if not value.isdigit():
                raise UserError("This Retry button names no reply Parley knows; nothing was sent.")
            retry_send(parley, user_id=user["id"], message_id=int(value),
                       user_name=user.get("name") or user.get("username") or "")

        ephemeral(respond, run)
