"""`/social <subcommand> …`: parsing and dispatch. Each workflow module adds its subcommands to
SUBCOMMANDS through `subcommand()`; unknown input gets an ephemeral error saying what to type."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond

from bot import ids

if TYPE_CHECKING:
    from app import Parley

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Invocation:
    user_id: str
    channel_id: str
    args: str  # everything after the subcommand name


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    run: Callable[[Parley, Invocation, Respond], None]


SUBCOMMANDS: dict[str, Subcommand] = {}


def subcommand(name: str, usage: str, summary: str) -> Callable:
    def decorate(fn: Callable[[Parley, Invocation, Respond], None]) -> Callable:
        if name in SUBCOMMANDS:
            raise RuntimeError(f"/social {name} is defined twice")  # never silently shadow one
        SUBCOMMANDS[name] = Subcommand(name, usage, summary, fn)
        return fn

    return decorate


def help_text() -> str:
    lines = ["*Parley* — answer social customers from Slack. Usage:"]
    lines += [f"• `/social {s.usage}` — {s.summary}" for s in SUBCOMMANDS.values()]
    lines.append("Every mirrored conversation has a reference like `#12`; `12` works too.")
    return "\n".join(lines)


@subcommand(ids.SUB_HELP, "help", "this list")
def _help(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    respond(response_type="ephemeral", text=help_text())


def register(app: App, parley: Parley) -> None:
    @app.command(ids.SLASH_COMMAND)
    def social(ack: Ack, command: dict, respond: Respond) -> None:
        ack()
        name, _, args = (command.get("text") or "").strip().partition(" ")
        name = name.lower() or ids.SUB_HELP
        sub = SUBCOMMANDS.get(name)
        if sub is None:
            respond(response_type="ephemeral",
                    text=f"`/social {name}` is not a Parley command. Try `/social help` for the list.")
            return
        sub.run(parley, Invocation(command["user_id"], command.get("channel_id", ""), args.strip()), respond)
