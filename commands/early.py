"""Which Slack requests the HTTP endpoint answers before Bolt runs (bot/web.py).

Most of Parley's acknowledgements are a plain, empty 200 that needs nothing done first
(commands/acking.py): every button and menu on cards, roll-ups and the reply modal, a reply modal
closed, and every `/social` subcommand but the durable ones. For those the endpoint answers as
soon as the signature is verified, from the event loop, and hands the request to Bolt after, in
the handlers' pool (bot/ack_first.py) — so a burst of 50 is answered at the pace of an async app,
not of 50 threads taking turns in the interpreter through Bolt's middleware. Everything else goes
through Bolt before the answer: a view submission (its answer carries the errors), a durable
subcommand (a reply is stored before Slack hears 200), events (a thread note is stored first), and
anything Parley does not listen to (Bolt's 404).
"""

from __future__ import annotations

from typing import Any

from bot import ids
from commands.social import is_durable

# The action ids registered with the plain ack (`after_ack(app.action(...))` and the link button);
# tests/commands/test_early.py checks this list against the registrations in commands/.
PLAIN_ACTIONS = frozenset({
    ids.ACTION_REPLY, ids.ACTION_TAKE_PRIVATE, ids.ACTION_ASSIGN_ME, ids.ACTION_RESOLVE, ids.ACTION_REOPEN,
    ids.ACTION_SNOOZE, ids.ACTION_HIDE, ids.ACTION_OPEN_ORIGINAL, ids.ACTION_RETRY_SEND, ids.ACTION_OPEN_AS_CARD,
    ids.ACTION_MODAL_TEMPLATE, ids.ACTION_MODAL_SUGGESTION, ids.ACTION_MODAL_TEXT,
})
# Modals whose closing is acknowledged plainly (their handler takes the "is replying" mark off).
PLAIN_CLOSES = frozenset({ids.CALLBACK_REPLY_MODAL, ids.CALLBACK_PRIVATE_MODAL})


def answered_at_once(body: dict[str, Any]) -> bool:
    """Whether Parley's answer to this (signed, parsed) request is an empty 200 owed before any work."""
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        return (isinstance(actions, list) and bool(actions)
                and all(isinstance(a, dict) and _text(a.get("action_id")) in PLAIN_ACTIONS for a in actions))
    if kind == "view_closed":
        view = body.get("view")
        return isinstance(view, dict) and _text(view.get("callback_id")) in PLAIN_CLOSES
    if body.get("command") == ids.SLASH_COMMAND and isinstance(body.get("text", ""), str):
        return not is_durable(body)
    return False  # what Parley does not know goes to Bolt, which says so (a 404, or a 400 for a bad body)


def _text(value: object) -> str:
    """A field Slack sends as a string; anything else (a forged body) matches nothing."""
    return value if isinstance(value, str) else ""
