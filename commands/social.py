"""`/social <subcommand> …`: parsing and dispatch. Each workflow module adds its subcommands to
SUBCOMMANDS through `subcommand()`; unknown input gets an ephemeral error saying what to type."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from slack_bolt import Ack, App, BoltContext, Respond

from bot import ids
from bot.ack_first import ANSWER_NOW
from bot.cards import escape
from bot.runtime import Parley
from commands import failures
from commands.acking import after_ack
from commands.context import UserError

log = logging.getLogger(__name__)


def _run_now(work: Callable[[], None]) -> None:
    work()


@dataclass(frozen=True)
class Invocation:
    user_id: str
    channel_id: str
    args: str  # everything after the subcommand name
    trigger_id: str = ""  # Slack's id of this invocation: the same on a retry, so it keys idempotency
    user_name: str = ""
    # Answers Slack's request (once). A `durable` subcommand calls it once its request is stored;
    # for the others it was called before they run.
    ack: Callable[[], None] = lambda: None
    # Runs what is left once Slack was answered. A durable subcommand's rest (its "Sending…" answer)
    # is handed to a pool that waits while other requests are being acknowledged (bot/ack_first.py):
    # run in the request's thread it took the interpreter from the burst's acks.
    after: Callable[[Callable[[], None]], None] = _run_now


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    run: Callable[[Parley, Invocation, Respond], None]
    example: str = ""  # a complete example invocation (without "/social ") for the help text
    durable: bool = False  # acks only once what it was asked to do is stored (see `register`)


SUBCOMMANDS: dict[str, Subcommand] = {}


def subcommand(name: str, usage: str, summary: str, example: str = "", *, durable: bool = False) -> Callable:
    def decorate(fn: Callable[[Parley, Invocation, Respond], None]) -> Callable:
        if name in SUBCOMMANDS:
            raise RuntimeError(f"/social {name} is defined twice")  # never silently shadow one
        SUBCOMMANDS[name] = Subcommand(name, usage, summary, fn, example, durable)
        return fn

    return decorate


def help_text() -> str:
    lines = ["*Parley* — answer social customers from Slack. Usage:"]
    # In the order of ids.SUBCOMMANDS (the workflow order), whatever order modules were imported in.
    order = {name: i for i, name in enumerate(ids.SUBCOMMANDS)}
    for sub in sorted(SUBCOMMANDS.values(), key=lambda sub: order.get(sub.name, len(order))):
        # Usages hold "<text>", which Slack would read as a link: escape & < >.
        example = f" · e.g. `/social {escape(sub.example)}`" if sub.example else ""
        lines.append(f"• `/social {escape(sub.usage)}` — {escape(sub.summary)}{example}")
    lines.append("Every mirrored conversation has a reference like `#12`; `12` works too.")
    return "\n".join(lines)


@subcommand(ids.SUB_HELP, "help", "this list")
def _help(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    respond(response_type="ephemeral", text=help_text())


def register(app: App, parley: Parley) -> None:
    """`/social` acks at once, before any database or Slack work (the subcommand runs after, as a
    lazy listener: commands/acking.py), except a `durable` subcommand (a reply to a customer): it
    runs in the ack and acks once the reply is stored (one insert), as the reply modal's submission
    does, so a process killed right after Slack was answered can never lose a reply staff were told
    was accepted (bench/kill_drill.py found that loss)."""
    def ack_social(ack: Ack, command: dict, respond: Respond, context: BoltContext) -> None:
        if is_durable(command):
            def answer_slack() -> None:
                ack()
                answer_now = context.get(ANSWER_NOW)  # HTTP mode: Slack hears 200 now, not after the rest
                if answer_now is not None:
                    answer_now()
            _run(parley, command, respond, answer_slack)
        else:
            ack()

    @after_ack(app.command(ids.SLASH_COMMAND), ack=ack_social)
    def social(command: dict, respond: Respond) -> None:
        if not is_durable(command):  # a durable one already ran, before the ack
            _run(parley, command, respond, lambda: None)


def _parsed(command: dict) -> tuple[str, str]:
    """The subcommand's name (lower case; `help` when none is given) and everything after it."""
    words = (command.get("text") or "").strip().split(None, 1)  # any whitespace, newlines too
    return (words[0].lower() if words else ids.SUB_HELP), (words[1] if len(words) > 1 else "")


def is_durable(command: dict) -> bool:
    """Whether this `/social` invocation runs in its ack (a reply is stored before Slack hears 200)."""
    sub = SUBCOMMANDS.get(_parsed(command)[0])
    return sub is not None and sub.durable


@contextmanager
def _failures_told(respond: Respond, name: str, first: Callable[[], None] = lambda: None) -> Iterator[None]:
    """What a subcommand's work raises is told to the person (after `first`): a UserError as it says
    (nothing was changed or sent; it says what to type), anything else logged with an id."""
    try:
        yield
    except UserError as error:
        first()
        respond(response_type="ephemeral", text=error.message)
    except Exception as error:  # unplanned: logged with an id, and the agent still gets an answer
        first()
        failures.tell(respond, failures.report(error, f"`/social {escape(name)}`"))


def _later(parley: Parley, respond: Respond, name: str) -> Callable[[Callable[[], None]], None]:
    """`Invocation.after` for a durable subcommand: the work runs in Parley's workers, which wait for
    the acknowledgements in flight; a failure is told to the person as `_run` tells it."""
    def guarded(work: Callable[[], None]) -> None:
        with _failures_told(respond, name):
            work()

    def submit(work: Callable[[], None]) -> None:
        parley.workers.submit(guarded, work)

    return submit


def _run(parley: Parley, command: dict, respond: Respond, ack: Callable[[], None]) -> None:
    """Run the command's subcommand and answer through `respond`; `ack` is called exactly once (by
    a durable subcommand once its work is stored, else here at the latest)."""
    acked: list[bool] = []

    def ack_once() -> None:
        if not acked:
            acked.append(True)
            ack()

    name, args = _parsed(command)
    sub = SUBCOMMANDS.get(name)
    if sub is None:
        ack_once()
        respond(response_type="ephemeral",
                text=f"`/social {name}` is not a Parley command. Try `/social help` for the list.")
        return
    invocation = Invocation(command["user_id"], command.get("channel_id", ""), args.strip(),
                            trigger_id=command.get("trigger_id", ""), user_name=command.get("user_name", ""),
                            ack=ack_once, after=_later(parley, respond, name) if sub.durable else _run_now)
    try:
        with _failures_told(respond, name, first=ack_once):
            sub.run(parley, invocation, respond)
    finally:
        ack_once()
