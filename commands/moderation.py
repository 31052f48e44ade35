"""Moderation from Slack: the card's "Hide comment" button and `/social hide #N`.

Both hide the customer's comments in the case that are still visible (bot/replies/moderation.py: only
PARLEY_AGENTS, only where the network's rules can hide, audited, a receipt in the thread, the card
updated). The network is called after the ack; the person hears back ephemerally only when nothing
was hidden or the network refused.
"""

from __future__ import annotations

from slack_bolt import App, Respond

from bot import ids
from bot.cards import escape
from bot.replies.moderation import HideOutcome, Moderator
from bot.replies.rules import Refused
from bot.runtime import Parley
from commands.acking import after_ack
from commands.context import UserError, button_ref, ephemeral, say, split_ref
from commands.social import Invocation, subcommand

U_HIDE = "hide #N"


def moderator(parley: Parley) -> Moderator:
    sender = parley.sender
    return Moderator(parley.store, sender.registry, sender.policy, sender.clock, on_committed=parley.outbox.wake)


def hide_case(parley: Parley, ref: int, user: str) -> HideOutcome:
    """Hide what is still visible of case #ref; UserError when refused, already hidden or the network said no."""
    try:
        outcome = moderator(parley).hide(ref, user)
    except Refused as refused:
        raise UserError(refused.message) from None
    if outcome.error is not None:
        raise UserError(f"#{ref}: the network refused to hide a comment: {escape(outcome.error)}")
    if not outcome.hidden:
        raise UserError(f"#{ref} has no visible comment left to hide." if outcome.already
                        else f"#{ref} has no customer comment Parley can hide.")
    return outcome


@subcommand(ids.SUB_HIDE, U_HIDE, "hide the customer's comments on the brand's post (Instagram, Facebook)",
            "hide #12")
def hide(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    ref, rest = split_ref(invocation.args, U_HIDE)
    if rest:
        raise UserError(f"`/social {U_HIDE}` takes only the reference; remove `{escape(rest)}`.")
    outcome = hide_case(parley, ref, invocation.user_id)
    n = len(outcome.hidden)
    say(respond, f"Hid {'the comment' if n == 1 else f'{n} comments'} of #{ref}; only the customer (and their "
                 "friends) still see it. The thread has the receipt.")


def register(app: App, parley: Parley) -> None:
    @after_ack(app.action(ids.ACTION_HIDE))
    def hide_button(body: dict, respond: Respond) -> None:
        user = body["user"]["id"]
        ephemeral(respond, lambda: hide_case(parley, button_ref(body["actions"][0].get("value")), user))
