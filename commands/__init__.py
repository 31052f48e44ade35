"""Staff workflows, one module each. Every module exposes `register(app, parley)`; this list is the
one place they are wired (nothing is discovered automatically)."""

from __future__ import annotations

from slack_bolt import App

from bot.runtime import Parley
from commands import (
    case_state,
    failures,
    home,
    lookup,
    moderation,
    notes,
    reply,
    reply_modal,
    rollup,
    social,
    stats,
    templates,
)

# reply (+ reply_modal): /social reply|private, Reply · Take private · Retry, the modal;
# case_state: assign … snooze, slash and buttons; notes: thread messages and /social note;
# moderation: Hide comment and /social hide; home: the App Home. Their /social subcommands register
# through @subcommand when imported.
REGISTRARS = [social.register, reply.register, reply_modal.register, case_state.register, notes.register,
              moderation.register, home.register, rollup.register]  # rollup: storm mode's "Open as card"
# Modules that only add `/social` subcommands (through @subcommand, when imported above).
SUBCOMMAND_MODULES = (lookup, templates, stats)


def register_all(app: App, parley: Parley) -> None:
    for register in REGISTRARS:
        register(app, parley)
    # Whatever a handler did not catch: logged with an error id, and the person is told (commands/failures).
    app.error(failures.on_unhandled)
