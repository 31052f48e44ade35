"""The Reply / Take private modal: open it from a card, fill it from a template or from the answer
to a similar past case, count X's weighted characters while typing, and send on submit.

Opening the modal marks the card "✍️ <agent> is replying" (a hint, not a lock); a second person
opening it within `REPLYING_SHOWN_FOR` is warned inside the modal. Submitting or closing it clears
the mark. A submission is stored under the key "view:<view id>", so a double submit or a Slack
retry stores and sends one reply; a refusal (too long, not allowed, window closed) comes back as
`response_action: errors` inside the modal, so the typed text is never lost.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session, col, select

from bot import cards, ids, placeholders
from bot.delivery.directory import SlackDirectory, thread_url
from bot.delivery.slack import replying_now
from bot.replies.rules import Mode, render_nudge
from bot.replies.suggestions import answers_by_id, similar_answers
from bot.runtime import Parley
from bot.store import outbox
from bot.store.keys import row_id
from bot.store.models import Conversation, Customer, Direction, Message, OutboxKind, Template
from commands.acking import after_ack
from commands.context import UserError, conversation_or_error, store_reply

log = logging.getLogger(__name__)

__all__ = ["Meta", "clear_replying", "open_reply_modal", "register", "send_key"]


@dataclass(frozen=True)
class Meta:
    """What the modal carries between requests (its private_metadata)."""

    conversation_id: int
    mode: str  # Mode value
    version: int = 0  # of the text box's block_id (ids.modal_text_block)
    template: str | None = None
    warning: str | None = None
    # Suggested answers (message ids) offered when the modal opened, the workspace URL for their
    # thread links, and the one last inserted: a rebuilt modal shows the same ones.
    suggested: tuple[int, ...] = ()
    base: str = ""
    suggestion: int | None = None

    def dump(self) -> str:
        return json.dumps({"c": self.conversation_id, "m": self.mode, "v": self.version, "t": self.template,
                           "w": self.warning, "s": list(self.suggested), "u": self.base, "a": self.suggestion},
                          separators=(",", ":"))

    @classmethod
    def load(cls, raw: str) -> Meta:
        data = json.loads(raw or "{}")
        chosen = data.get("a")
        return cls(int(data["c"]), Mode(data["m"]).value, int(data.get("v") or 0), data.get("t"), data.get("w"),
                   tuple(int(i) for i in data.get("s") or ()), str(data.get("u") or ""),
                   int(chosen) if chosen is not None else None)

    def link(self, channel: str, ts: str | None) -> str | None:
        return thread_url(self.base, channel, ts)


def send_key(view_id: str) -> str:
    """The idempotency key of a modal's reply: one view submits one reply, however often."""
    return f"view:{view_id}"


def _agent_name(client: WebClient, user: dict) -> str:
    """The person's real first name for {agent}, else their Slack name (never a mention: it goes to
    the customer)."""
    try:
        info = client.users_info(user=user["id"]).get("user") or {}
        real = (info.get("profile") or {}).get("real_name") or info.get("real_name") or ""
        if real.strip():
            return real.split()[0]
    except SlackApiError:
        log.info("users.info failed for %s; using the Slack name for {agent}", user.get("id"))
    return user.get("name") or user.get("username") or ""


def _latest_text(session: Session, conversation: Conversation) -> str:
    latest = session.exec(select(Message).where(Message.conversation_id == conversation.id,
                                                Message.direction == Direction.INBOUND)
                          .order_by(col(Message.created_at).desc(), col(Message.id).desc())).first()
    return latest.text if latest is not None else ""


def _templates(session: Session) -> list[tuple[str, str]]:
    return [(t.name, t.text) for t in session.exec(select(Template).order_by(Template.name)).all()]


def _build(parley: Parley, session: Session, conversation: Conversation, meta: Meta, agent_id: str,
           text: str = "") -> dict:
    customer = session.get_one(Customer, conversation.customer_id)  # a foreign key: it exists
    nudge = None
    network = parley.sender.registry.rules(conversation.platform)
    if meta.mode == Mode.PRIVATE and network.announces_private(conversation.kind):
        nudge = render_nudge(parley.sender.nudge_template, handle=customer.handle, prefix=network.handle_prefix,
                             ref=conversation.ref)
    view = cards.reply_modal(
        conversation=conversation, customer=customer, latest_text=_latest_text(session, conversation),
        mode=meta.mode, templates=_templates(session), agent_id=agent_id, text=text,
        replying_warning=meta.warning, private_metadata=meta.dump(), nudge_text=nudge,
        selected_template=meta.template, text_version=meta.version, rules=network,
        suggestions=answers_by_id(session, meta.suggested, meta.link), selected_suggestion=meta.suggestion)
    view["notify_on_close"] = True  # closing the modal clears "is replying"
    return view


def _mark_replying(parley: Parley, session: Session, conversation: Conversation, user_id: str,
                   now: datetime) -> str | None:
    """Mark `user_id` as replying; return a warning if someone else opened the reply recently."""
    other = replying_now(conversation, now)
    warning = None
    if other is not None and other != user_id and conversation.replying_at is not None:
        warning = cards.replying_warning_text(other, conversation.replying_at, now)
    if other != user_id:  # the card changes only when who is replying changes
        outbox.enqueue(session, kind=OutboxKind.UPDATE_CARD, conversation=conversation)
    conversation.replying_by, conversation.replying_at = user_id, now
    session.add(conversation)
    return warning


def clear_replying(parley: Parley, conversation_id: int, user_id: str) -> bool:
    """Take `user_id`'s "is replying" mark off the card (another person's mark stays)."""
    with parley.store.transaction() as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None or conversation.replying_by != user_id:
            return False
        conversation.replying_by, conversation.replying_at = None, None
        session.add(conversation)
        outbox.enqueue(session, kind=OutboxKind.UPDATE_CARD, conversation=conversation)
    parley.outbox.wake()
    return True


def open_reply_modal(parley: Parley, client: WebClient, *, trigger_id: str, user_id: str, conversation_id: int,
                     mode: Mode) -> None:
    """Open the modal for `user_id` (call after ack: the trigger is valid for 3 seconds).
    Raises UserError for an unknown conversation or when Slack will not open it."""
    base = SlackDirectory(client).workspace_url() or ""  # for thread links; asked outside the transaction
    with parley.store.transaction() as session:
        conversation = conversation_or_error(session, conversation_id)
        warning = _mark_replying(parley, session, conversation, user_id, parley.sender.clock())
        network = parley.sender.registry.rules(conversation.platform)
        meta = Meta(row_id(conversation), mode.value, warning=warning, base=base)
        public = mode == Mode.PUBLIC and not network.is_private(conversation.kind)
        suggested = similar_answers(session, conversation, meta.link, public_only=public)
        meta = replace(meta, suggested=tuple(a.message_id for a in suggested))
        view = _build(parley, session, conversation, meta, user_id)
    parley.outbox.wake()
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("views.open for #%s failed: %s", conversation_id, exc.response.get("error"))
        clear_replying(parley, conversation_id, user_id)
        raise UserError("Slack did not open the reply form (it took too long). Click the button again, or use "
                        f"`/social reply #{conversation_id} <text>`.") from None


def _update(parley: Parley, client: WebClient, body: dict, *, text: str, meta: Meta,
            view_hash: str | None) -> None:
    view = body["view"]
    with parley.store.transaction() as session:
        conversation = session.get(Conversation, meta.conversation_id)
        if conversation is None:
            return
        new_view = _build(parley, session, conversation, meta, body["user"]["id"], text)
    try:
        client.views_update(view_id=view["id"], hash=view_hash, view=new_view)
    except SlackApiError as exc:
        # hash_conflict: a newer update got there first and already shows newer input.
        log.info("views.update of %s skipped: %s", view["id"], exc.response.get("error"))


def _typed(view: dict) -> tuple[str, str]:
    return cards.modal_text((view.get("state") or {}).get("values") or {})


def on_template(parley: Parley, client: WebClient, body: dict) -> None:
    """A template was picked: fill the text box with it (variables filled in), replacing the typing."""
    meta = Meta.load(body["view"].get("private_metadata", ""))
    name = ((body["actions"][0].get("selected_option") or {}).get("value")) or ""
    with parley.store.transaction() as session:
        template = session.exec(select(Template).where(Template.name == name)).first()
        conversation = session.get(Conversation, meta.conversation_id)
        if template is None or conversation is None:
            return
        customer = session.get_one(Customer, conversation.customer_id)
        network = parley.sender.registry.rules(conversation.platform)
        # A public reply names the customer by verified handle only (never their display name).
        public = meta.mode == Mode.PUBLIC and not network.is_private(conversation.kind)
        text = placeholders.fill(template.text, placeholders.customer_values(
            name=customer.name, handle=customer.handle, ref=conversation.ref or row_id(conversation),
            agent=_agent_name(client, body["user"]), public=public, prefix=network.handle_prefix))
    # A new block_id makes Slack show the template instead of keeping what was typed.
    meta = replace(meta, version=meta.version + 1, template=name)
    _update(parley, client, body, text=text, meta=meta, view_hash=body["view"].get("hash"))


def on_suggestion(parley: Parley, client: WebClient, body: dict) -> None:
    """A past answer was picked: put its text in the box, replacing the typing, to edit before sending.
    Only an answer this modal offered can be inserted."""
    meta = Meta.load(body["view"].get("private_metadata", ""))
    value = ((body["actions"][0].get("selected_option") or {}).get("value")) or ""
    if not value.isdigit() or int(value) not in meta.suggested:
        return
    with parley.store.transaction() as session:
        answer = session.get(Message, int(value))
        if answer is None:
            return
        text = answer.text
    meta = replace(meta, version=meta.version + 1, suggestion=int(value))
    _update(parley, client, body, text=text, meta=meta, view_hash=body["view"].get("hash"))


def on_typing(parley: Parley, client: WebClient, body: dict) -> None:
    """A character was typed in an X public reply: refresh the weighted count."""
    meta = Meta.load(body["view"].get("private_metadata", ""))
    text = body["actions"][0].get("value") or ""
    # No hash: every character event carries the whole text, so the latest update wins.
    _update(parley, client, body, text=text, meta=meta, view_hash=None)


def on_submit(parley: Parley, ack: Ack, body: dict, view: dict) -> None:
    """Store the reply and close the modal, or show why not inside it."""
    user = body["user"]
    meta = Meta.load(view.get("private_metadata", ""))
    block_id, text = _typed(view)
    block_id = block_id or ids.modal_text_block(meta.version)
    if not text.strip():
        ack(response_action="errors", errors={block_id: "Type a reply first."})
        return
    try:
        store_reply(parley, user_id=user["id"], ref=meta.conversation_id, text=text, mode=Mode(meta.mode),
                    key=send_key(view["id"]), user_name=user.get("name") or user.get("username") or "")
    except UserError as error:
        ack(response_action="errors", errors={block_id: error.message})
        return
    ack()


def on_submitted(parley: Parley, body: dict, view: dict) -> None:
    """After a submission was answered: a stored reply takes the card's "is replying" mark off; a
    refused one (still open, showing why) keeps it until it is sent or closed."""
    with parley.store.transaction() as session:
        stored = session.exec(select(Message.id).where(Message.send_key == send_key(view["id"]))).first()
    if stored is not None:
        clear_replying(parley, Meta.load(view.get("private_metadata", "")).conversation_id, body["user"]["id"])


def on_closed(parley: Parley, body: dict, view: dict) -> None:
    clear_replying(parley, Meta.load(view.get("private_metadata", "")).conversation_id, body["user"]["id"])


def register(app: App, parley: Parley) -> None:
    @after_ack(app.action(ids.ACTION_MODAL_TEMPLATE))
    def template_picked(body: dict, client: WebClient) -> None:
        on_template(parley, client, body)

    @after_ack(app.action(ids.ACTION_MODAL_SUGGESTION))
    def suggestion_picked(body: dict, client: WebClient) -> None:
        on_suggestion(parley, client, body)

    @after_ack(app.action(ids.ACTION_MODAL_TEXT))
    def text_typed(body: dict, client: WebClient) -> None:
        on_typing(parley, client, body)

    for callback_id in (ids.CALLBACK_REPLY_MODAL, ids.CALLBACK_PRIVATE_MODAL):
        # The submission's answer is its acknowledgement (errors shown inside the modal), so storing
        # the reply comes before it; only the card's mark waits until after.
        def submitted(ack: Ack, body: dict, view: dict) -> None:
            on_submit(parley, ack, body, view)

        @after_ack(app.view(callback_id), ack=submitted)
        def after_submit(body: dict, view: dict) -> None:
            on_submitted(parley, body, view)

        @after_ack(app.view_closed(callback_id))
        def closed(body: dict, view: dict) -> None:
            on_closed(parley, body, view)
