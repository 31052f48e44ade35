"""The case-state workflow: `/social assign|unassign|resolve|reopen|snooze #N …` and the card's
Assign to me · Resolve · Reopen · Snooze buttons.

Both forms change the case through the Sender (audited, card updated in place) with one helper
(commands/context.change_case) and read snooze times with one parser (commands/snooze.py). A command
answers with what changed, or that it already was so; a click that changes nothing (a double click)
writes nothing and says so ephemerally. A malformed command changes nothing and says what to type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from slack_bolt import App, Respond
from slack_sdk import WebClient
from sqlmodel import Session

from bot import ids
from bot.cards import escape
from bot.runtime import Parley
from bot.store.models import Conversation
from commands import snooze as snooze_time
from commands.acking import after_ack
from commands.context import (
    UserError,
    button_ref,
    change_case,
    echo,
    ephemeral,
    say,
    split_ref,
    user_zone,
)
from commands.social import Invocation, subcommand

U_ASSIGN = "assign #N @person|me"
U_UNASSIGN = "unassign #N"
U_RESOLVE = "resolve #N"
U_REOPEN = "reopen #N"
U_SNOOZE = snooze_time.USAGE

_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")


# --- parsing (pure) ------------------------------------------------------------------------------
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


def slack_date(moment: datetime) -> str:
    """A time Slack shows in each reader's own time zone (UTC text as the fallback)."""
    fallback = moment.astimezone(UTC).strftime("%a %d %b %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


# --- /social assign | unassign | resolve | reopen | snooze ------------------------------
def _ref_only(invocation: Invocation, usage: str) -> int:
    ref, rest = split_ref(invocation.args, usage)
    if rest:
        raise UserError(f"`/social {escape(usage)}` takes only the reference; remove `{echo(rest)}`.")
    return ref


@subcommand(ids.SUB_ASSIGN, U_ASSIGN, "give the case to someone (or yourself)", "assign #12 me")
def assign(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    ref, rest = split_ref(invocation.args, U_ASSIGN)
    assignee = parse_assignee(rest, invocation.user_id)
    changed = change_case(parley, ref, lambda s, c: parley.sender.assign(s, c, assignee, actor=invocation.user_id))
    whom = "you" if assignee == invocation.user_id else f"<@{assignee}>"
    say(respond, f"#{ref} is now assigned to {whom}." if changed else f"#{ref} was already assigned to {whom}.")


@subcommand(ids.SUB_UNASSIGN, U_UNASSIGN, "take the case off whoever has it", "unassign #12")
def unassign(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    ref = _ref_only(invocation, U_UNASSIGN)
    changed = change_case(parley, ref, lambda s, c: parley.sender.unassign(s, c, actor=invocation.user_id))
    say(respond, f"#{ref} is no longer assigned to anyone." if changed else f"#{ref} was not assigned to anyone.")


@subcommand(ids.SUB_RESOLVE, U_RESOLVE, "close the case (a new customer message reopens it)", "resolve #12")
def resolve(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    ref = _ref_only(invocation, U_RESOLVE)
    changed = change_case(parley, ref, lambda s, c: parley.sender.resolve(s, c, actor=invocation.user_id))
    say(respond, f"Resolved #{ref}. A new message from the customer reopens it." if changed
         else f"#{ref} was already resolved.")


@subcommand(ids.SUB_REOPEN, U_REOPEN, "open a resolved or snoozed case again", "reopen #12")
def reopen(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    ref = _ref_only(invocation, U_REOPEN)
    changed = change_case(parley, ref, lambda s, c: parley.sender.reopen(s, c, actor=invocation.user_id))
    say(respond, f"Reopened #{ref}: it is open and waiting on us." if changed else f"#{ref} is already open.")


@subcommand(ids.SUB_SNOOZE, U_SNOOZE, "hide the case for a while (a customer message wakes it)", "snooze #12 2h")
def snooze(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    ref, spec = split_ref(invocation.args, U_SNOOZE)
    zone = user_zone(parley.bolt.client, invocation.user_id) if snooze_time.needs_zone(spec) else UTC
    until = snooze_time.snooze_until(spec, parley.sender.clock(), zone)
    changed = change_case(parley, ref, lambda s, c: parley.sender.snooze(s, c, until, actor=invocation.user_id))
    when = slack_date(until)
    say(respond, f"Snoozed #{ref} until {when}. A message from the customer wakes it sooner." if changed
         else f"#{ref} was already snoozed until {when}.")


# --- buttons -------------------------------------------------------------------------------------
def _change(parley: Parley, conversation_id: int, change: Callable[[Session, Conversation], bool],
            unchanged: str) -> None:
    """`change_case`, answering UserError(`unchanged`) when the click changed nothing (a double click)."""
    if not change_case(parley, conversation_id, change):
        raise UserError(unchanged.format(ref=conversation_id))


def register(app: App, parley: Parley) -> None:
    sender = parley.sender

    @after_ack(app.action(ids.ACTION_ASSIGN_ME))
    def assign_me(body: dict, respond: Respond) -> None:
        user = body["user"]["id"]
        ephemeral(respond, lambda: _change(
            parley, button_ref(body["actions"][0].get("value")),
            lambda s, c: sender.assign(s, c, user, actor=user), "#{ref} is already assigned to you."))

    @after_ack(app.action(ids.ACTION_RESOLVE))
    def resolve(body: dict, respond: Respond) -> None:
        user = body["user"]["id"]
        ephemeral(respond, lambda: _change(
            parley, button_ref(body["actions"][0].get("value")),
            lambda s, c: sender.resolve(s, c, actor=user), "#{ref} is already resolved."))

    @after_ack(app.action(ids.ACTION_REOPEN))
    def reopen(body: dict, respond: Respond) -> None:
        user = body["user"]["id"]
        ephemeral(respond, lambda: _change(
            parley, button_ref(body["actions"][0].get("value")),
            lambda s, c: sender.reopen(s, c, actor=user), "#{ref} is already open."))

    @after_ack(app.action(ids.ACTION_SNOOZE))
    def snooze(body: dict, client: WebClient, respond: Respond) -> None:
        user = body["user"]["id"]

        def run() -> None:
            try:
                conversation_id, choice = ids.parse_snooze_option_value(
                    (body["actions"][0].get("selected_option") or {}).get("value") or "")
            except ValueError:
                raise UserError("That snooze choice is not one Parley offers; try `/social snooze #12 2h`.") from None
            spec = snooze_time.choice_spec(choice)
            zone = user_zone(client, user) if snooze_time.needs_zone(spec) else UTC
            until = snooze_time.snooze_until(spec, sender.clock(), zone)
            _change(parley, conversation_id, lambda s, c: sender.snooze(s, c, until, actor=user),
                    "#{ref} is already snoozed until then.")

        ephemeral(respond, run)
