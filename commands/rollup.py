"""Storm mode's "Open as card" on a roll-up entry, a button or a menu option (issue 11): the case
gets its own card and thread in its channel, ahead of routine cards, so someone can work it like
any other.

Clicking twice, or on a case that already has its card (a follow-up or a staff action gave it one),
queues nothing more (bot.store.outbox.open_card is keyed once per case) and says so ephemerally.
"""

from __future__ import annotations

from slack_bolt import App, Respond
from sqlalchemy.exc import IntegrityError

from bot import ids
from bot.runtime import Parley
from bot.store import outbox
from commands.acking import after_ack
from commands.context import UserError, button_ref, conversation_or_error, ephemeral


def open_as_card(parley: Parley, conversation_id: int) -> None:
    """Queue the case's own card (as urgent: a person is waiting for it) and wake the outbox."""
    try:
        with parley.store.transaction() as session:
            conversation = conversation_or_error(session, conversation_id)
            queued = outbox.open_card(session, conversation, rank=outbox.URGENT)
    except IntegrityError:  # a second click at the same moment queued it first (the key is unique)
        queued = None
    if queued is None:
        raise UserError(f"#{conversation_id} already has its own card (or one is on its way).")
    parley.outbox.wake()


def register(app: App, parley: Parley) -> None:
    @after_ack(app.action(ids.ACTION_OPEN_AS_CARD))
    def open_card(body: dict, respond: Respond) -> None:
        action = body["actions"][0]  # a button (a small roll-up) or a menu of a few entries (a big one)
        value = (action.get("selected_option") or {}).get("value") or action.get("value")
        ephemeral(respond, lambda: open_as_card(parley, button_ref(value)))
