"""The notes workflow: what people write in a case's thread, and `/social note #N <text>`, is an
internal note — stored and shown in the thread, never sent to the customer.

A `/social note` is stored and echoed in the thread, keyed by Slack's trigger id (a retried command
stores one note). Of Slack's `message` events, a person's reply in a case's thread is stored as a
note; every other message event — bots (Parley's own cards and
receipts included), edits, deletions, joins, top-level chatter, threads that are not cases — is
acknowledged (200, so Slack does not retry it) and ignored.

The note is committed before Slack is answered, so a crash in between makes Slack send the event
again rather than lose the note. Slack retries an event it thinks was not acknowledged
(`X-Slack-Retry-Num`), possibly to another replica. A Claim row "slack-event:<event_id>" is
inserted in the same transaction as the note, so each event is processed once across restarts and
replicas; the note itself is also keyed by the
message's ts, so even a re-sent event with a new id stores one note.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import Ack, App, Respond
from sqlmodel import select

from bot import ids
from bot.cards import escape
from bot.runtime import Parley
from bot.store import outbox
from bot.store.claims import claim
from bot.store.models import Conversation, Message, OutboxKind
from commands.context import (
    UserError,
    conversation_or_error,
    invocation_key,
    say,
    slack_to_plain,
    split_ref,
)
from commands.social import Invocation, subcommand

log = logging.getLogger(__name__)

__all__ = ["claim_key", "note", "note_from_event", "register"]

U_NOTE = "note #N <text>"

# Subtypes that still are a person writing: a reply also sent to the channel, a message with a file.
_PERSON_SUBTYPES = frozenset({"thread_broadcast", "file_share"})


def claim_key(event_id: str) -> str:
    return f"slack-event:{event_id}"


def is_person_thread_reply(event: dict) -> bool:
    """A message a person wrote as a reply in some thread (not a bot, an edit or a join)."""
    subtype = event.get("subtype")
    if subtype is not None and subtype not in _PERSON_SUBTYPES:
        return False
    if event.get("bot_id") or event.get("bot_profile") or not event.get("user"):
        return False
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    return bool(thread_ts and ts and thread_ts != ts)


def note_from_event(parley: Parley, event: dict, event_id: str | None) -> Message | None:
    """Store a person's reply in a case thread as an internal note, once per event; None if the
    event is not one (or was processed before)."""
    if not is_person_thread_reply(event):
        return None
    with parley.store.transaction() as session:
        conversation = session.exec(select(Conversation).where(
            Conversation.channel == event.get("channel"), Conversation.slack_ts == event["thread_ts"])).first()
        if conversation is None:
            return None  # a thread that is not a case
        if event_id and not claim(session, claim_key(event_id), now=parley.sender.clock()):
            log.info("Slack event %s was processed already (a retry); ignored", event_id)
            return None
        note = parley.sender.add_note(session, conversation, agent_id=event["user"], text=event.get("text") or "",
                                      slack_ts=event["ts"])
        session.flush()
        session.expunge(note)
        return note


def register(app: App, parley: Parley) -> None:
    def store_first(body: dict, next_: Callable[[], None]) -> None:
        # A listener middleware runs before Bolt's automatic ack of an event, so the note is committed
        # before Slack hears 200: a crash in between makes Slack retry instead of losing the note.
        note_from_event(parley, body.get("event") or {}, body.get("event_id"))
        next_()

    # Every message subtype matches here, so none goes unanswered (Bolt answers 404 to an unmatched
    # event, and Slack would retry it).
    @app.event("message", middleware=[store_first])
    def message(ack: Ack) -> None:
        ack()


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
                                                 slack_ts=invocation_key(invocation.trigger_id),
                                                 agent_name=invocation.user_name)
        outbox.enqueue(session, kind=OutboxKind.THREAD_MESSAGE, conversation=conversation, message=stored,
                       text=f"📝 <@{invocation.user_id}> (internal note): {escape(text)}")
    parley.outbox.wake()
    say(respond, f"Noted on #{ref}. It is in the case's thread and is never sent to the customer.")
