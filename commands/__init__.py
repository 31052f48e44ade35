"""Staff workflows, one module each. Every module exposes `register(app, parley)`; this list is the
one place they are wired (nothing is discovered automatically)."""

from __future__ import annotations

from slack_bolt import App

from bot.runtime import Parley
from commands import (
    card_actions,
    conversation,
    home,
    lookup,
    reply_modal,
    social,
    stats,
    templates,
    thread_events,
)

REGISTRARS = [social.register, card_actions.register, reply_modal.register, thread_events.register, home.register]
# Modules that only add `/social` subcommands (through @subcommand, when imported above).
SUBCOMMAND_MODULES = (conversation, lookup, templates, stats)


def register_all(app: App, parley: Parley) -> None:
    for register in REGISTRARS:
        register(app, parley)
