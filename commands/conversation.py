"""`/social reply|private|note|assign|unassign|resolve|reopen|snooze #N …`: acting on one case.

Replies are stored first and sent after the ack (commands/context.store_reply), keyed by Slack's
trigger id, so a retried command never sends twice; the delivery receipt appears in the case's
thread. Notes are stored and echoed in the thread, never sent. State changes answer with what
changed, or that it already was so. A malformed command changes nothing and says what to type.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slack_bolt import Respond
from sqlmodel import Session

from bot import ids
from bot.cards import escape
from bot.cards.records import handle_label
from bot.config_file import parse_duration
from bot.replies.rules import Refused
from bot.runtime import Parley
from bot.store import outbox
from bot.store.models import Conversation, Customer, Message, OutboxKind
from commands.context import (
    UserError,
    conversation_or_error,
    echo,
    parse_ref,
    slack_to_plain,
    store_reply,
    user_zone,
)
from commands.social import Invocation, subcommand

U_REPLY = "reply #N <text>"
U_PRIVATE = "private #N <text>"
U_NOTE = "note #N <text>"
U_ASSIGN = "assign #N @person|me"
U_UNASSIGN = "unassign #N"
U_RESOLVE = "resolve #N"
U_REOPEN = "reopen #N"
U_SNOOZE = "snooze #N 30m|2h|1d|tomorrow"

_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_SNOOZE_SPAN = re.compile(r"^\d+(?:\.\d+)?\s*[mhd]$", re.IGNORECASE)
SNOOZE_MAX = timedelta(days=90)
MORNING = time(9, 0)
UTC_ZONE = ZoneInfo("UTC")


# --- parsing (pure) ------------------------------------------------------------------------------
def split_ref(args: str, usage: str) -> tuple[int, str]:
    """'#12 rest of it' → (12, 'rest of it'); UserError naming `usage` if the reference is missing."""
    words = args.split(None, 1)
    ref = parse_ref(words[0] if words else "", escape(usage))
    return ref, words[1].strip() if len(words) > 1 else ""


def parse_assignee(token: str, caller: str, usage: str = U_ASSIGN) -> str:
    """`me`, `<@U123|name>`, `<@U123>` or `U123` → a Slack user id; anything else → UserError."""
    token = token.strip()
    if token.lower() == "me":
        return caller
    match = _MENTION.match(token)
    if match:
        return match.group(1)
    if _USER_ID.match(token):
        return token
    shown = f"`{echo(token)}` is not" if token else "Missing"
    raise UserError(f"{shown} a Slack person Parley can assign. Type `me`, or pick the person from Slack's "
                    f"@-autocomplete. Usage: `/social {escape(usage)}`")


def snooze_until(spec: str, now: datetime, tz: ZoneInfo = UTC_ZONE) -> datetime:
    """When a snooze given as `30m`, `2h`, `1.5h`, `1d` or `tomorrow` (09:00 in `tz`) ends; UserError otherwise."""
    word = spec.strip().lower()
    if word == "tomorrow":
        local_day = now.astimezone(tz).date() + timedelta(days=1)
        return datetime.combine(local_day, MORNING, tzinfo=tz).astimezone(UTC)
    if not word:
        raise UserError(f"How long? Usage: `/social {escape(U_SNOOZE)}`, e.g. `/social snooze #12 2h`.")
    if not _SNOOZE_SPAN.match(word):
        raise UserError(f"`{echo(spec)}` is not a snooze time. Use minutes, hours or days like `30m`, `2h`, "
                        f"`1d`, or `tomorrow`. Usage: `/social {escape(U_SNOOZE)}`")
    span = parse_duration(word)
    if span > SNOOZE_MAX:
        raise UserError(f"Snooze for at most {SNOOZE_MAX.days} days (`{echo(spec)}` is longer). "
                        "Resolve the case instead if nothing more is needed.")
    return now + span


def slack_date(moment: datetime) -> str:
    """A time Slack shows in each reader's own time zone (UTC text as the fallback)."""
    fallback = moment.astimezone(UTC).strftime("%a %d %b %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


# --- helpers -------------------------------------------------------------------------------------
def _key(invocation: Invocation) -> str:
    # Slack repeats the trigger id on a retry of the same command; without one (never in practice)
    # the command still works, only without retry protection.
    return f"cmd:{invocation.trigger_id or uuid.uuid4().hex}"[:120]


def _who(session: Session, conversation: Conversation) -> str:
    customer = session.get(Customer, conversation.customer_id)
    return escape(handle_label(conversation.platform, customer.handle if customer else ""))


def _say(respond: Respond, text: str) -> None:
    respond(response_type="ephemeral", text=text)


# --- replies -------------------------------------------------------------------------------------
def _send(parley: Parley, invocation: Invocation, respond: Respond, *, mode: str, usage: str) -> None:
    ref, text = split_ref(invocation.args, usage)
    text = slack_to_plain(text).strip()
    if not text:
        raise UserError(f"Missing text: type the message after the reference, e.g. `/social {usage.split()[0]} "
                        f"#{ref} Thanks for your patience — we're on it`.")
    message = store_reply(parley, user_id=invocation.user_id, ref=ref, text=text, mode=mode,
                          key=_key(invocation), user_name=invocation.user_name)
    with parley.store.transaction() as session:
        conversation = conversation_or_error(session, ref)
        who = _who(session, conversation)
    network = parley.sender.registry.rules(conversation.platform)
    spec = network.ops.get(message.kind)
    what = spec.sending.format(who=who) if spec is not None else "your reply"
    extra = ""
    if network.nudge_after(message.kind, conversation.kind) is not None:
        extra = " Once the DM is delivered, Parley posts the public notice that you sent one."
    _say(respond, f"Sending {what} (#{ref})…{extra} The receipt will appear in the case's thread.")


@subcommand(ids.SUB_REPLY, U_REPLY, "answer the customer publicly (in a DM conversation: in the DM)",
            "reply #12 Sorry about the wait — your order ships today")
def reply(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    _send(parley, invocation, respond, mode="public", usage=U_REPLY)


@subcommand(ids.SUB_PRIVATE, U_PRIVATE, "take it private: send <text> as a DM (X) or a private reply (Facebook); "
            "on X a short public notice follows the DM", "private #12 Could you send us your order number?")
def private(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    _send(parley, invocation, respond, mode="private", usage=U_PRIVATE)


@subcommand(ids.SUB_NOTE, U_NOTE, "add an internal note to the case's thread (never sent to the customer)",
            "note #12 Customer called the shop too")
def note(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    ref, text = split_ref(invocation.args, U_NOTE)
    text = slack_to_plain(text).strip()
    if not text:
        raise UserError(f"Missing text: type the note after the reference, e.g. `/social note #{ref} Refund approved`.")
    with parley.store.transaction() as session:
        conversation = conversation_or_error(session, ref)
        stored: Message = parley.sender.add_note(session, conversation, agent_id=invocation.user_id, text=text,
                                                 slack_ts=_key(invocation), agent_name=invocation.user_name)
        outbox.enqueue(session, kind=OutboxKind.THREAD_MESSAGE, conversation=conversation, message=stored,
                       text=f"📝 <@{invocation.user_id}> (internal note): {escape(text)}")
    parley.outbox.wake()
    _say(respond, f"Noted on #{ref}. It is in the case's thread and is never sent to the customer.")


# --- case state ----------------------------------------------------------------------------------
def _change(parley: Parley, ref: int, act: Callable[[Session, Conversation], bool]) -> bool:
    """Run one Sender state change on case #ref in a transaction; True if it changed anything."""
    with parley.store.transaction() as session:
        conversation = conversation_or_error(session, ref)
        try:
            changed = act(session, conversation)
        except Refused as refused:
            raise UserError(refused.message) from None
    if changed:
        parley.outbox.wake()  # the card update
    return changed


def _ref_only(invocation: Invocation, usage: str) -> int:
    ref, rest = split_ref(invocation.args, usage)
    if rest:
        raise UserError(f"`/social {escape(usage)}` takes only the reference; remove `{echo(rest)}`.")
    return ref


@subcommand(ids.SUB_ASSIGN, U_ASSIGN, "give the case to someone (or yourself)", "assign #12 me")
def assign(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    ref, rest = split_ref(invocation.args, U_ASSIGN)
    assignee = parse_assignee(rest, invocation.user_id)
    changed = _change(parley, ref, lambda s, c: parley.sender.assign(s, c, assignee, actor=invocation.user_id))
    whom = "you" if assignee == invocation.user_id else f"<@{assignee}>"
    _say(respond, f"#{ref} is now assigned to {whom}." if changed else f"#{ref} was already assigned to {whom}.")


@subcommand(ids.SUB_UNASSIGN, U_UNASSIGN, "take the case off whoever has it", "unassign #12")
def unassign(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    ref = _ref_only(invocation, U_UNASSIGN)
    changed = _change(parley, ref, lambda s, c: parley.sender.unassign(s, c, actor=invocation.user_id))
    _say(respond, f"#{ref} is no longer assigned to anyone." if changed else f"#{ref} was not assigned to anyone.")


@subcommand(ids.SUB_RESOLVE, U_RESOLVE, "close the case (a new customer message reopens it)", "resolve #12")
def resolve(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    ref = _ref_only(invocation, U_RESOLVE)
    changed = _change(parley, ref, lambda s, c: parley.sender.resolve(s, c, actor=invocation.user_id))
    _say(respond, f"Resolved #{ref}. A new message from the customer reopens it." if changed
         else f"#{ref} was already resolved.")


@subcommand(ids.SUB_REOPEN, U_REOPEN, "open a resolved or snoozed case again", "reopen #12")
def reopen(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    ref = _ref_only(invocation, U_REOPEN)
    changed = _change(parley, ref, lambda s, c: parley.sender.reopen(s, c, actor=invocation.user_id))
    _say(respond, f"Reopened #{ref}: it is open and waiting on us." if changed else f"#{ref} is already open.")


@subcommand(ids.SUB_SNOOZE, U_SNOOZE, "hide the case for a while (a customer message wakes it)", "snooze #12 2h")
def snooze(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    ref, spec = split_ref(invocation.args, U_SNOOZE)
    tz = user_zone(parley.bolt.client, invocation.user_id) if spec.strip().lower() == "tomorrow" else UTC_ZONE
    until = snooze_until(spec, parley.sender.clock(), tz)
    changed = _change(parley, ref, lambda s, c: parley.sender.snooze(s, c, until, actor=invocation.user_id))
    when = slack_date(until)
    _say(respond, f"Snoozed #{ref} until {when}. A message from the customer wakes it sooner." if changed
         else f"#{ref} was already snoozed until {when}.")
