"""The Graph emulator's Messenger: the Page's conversations, their messages, and sending.

A send must name its `messaging_type`: RESPONSE or UPDATE within 24 hours of the customer's last
message, MESSAGE_TAG with HUMAN_AGENT within 7 days; any other tag or a later send is refused with
Graph's error codes. Sending to a PSID with no conversation is `No matching user found`.

Quick replies (`message.quick_replies`) are checked as Graph documents them: at most 13, a text one
has a title of at most 20 characters and a payload of at most 1000
(https://developers.facebook.com/docs/messenger-platform/reference/buttons/quick-replies). The
buttons stay offered until the customer writes; `tap` is the customer tapping one: its title is
posted as their message (what a polled conversation shows) and the webhook carries the payload.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.emulators import graph_wire as wire
from sandbox.emulators.graph_page import Page
from sandbox.emulators.server import Request, Response

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


@dataclass
class Message:
    id: str
    from_id: str
    to_id: str
    text: str
    created: datetime
    quick_reply: str | None = None  # the payload of the tapped quick reply this message is


@dataclass
class Conversation:
    id: str
    psid: str
    messages: list[Message]
    offered: list[dict[str, Any]] = field(default_factory=list)  # quick replies shown until the customer writes


class Messenger:
    """The Page's Messenger conversations by PSID; `sent_messages` records each accepted send."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.conversations: dict[str, Conversation] = {}  # by PSID
        self.sent_messages: list[dict[str, Any]] = []

    def append(self, psid: str, from_id: str, to_id: str, text: str, created: datetime) -> str:
        """Add a message to the PSID's conversation (created on first use), kept in time order."""
        conv = self.conversations.setdefault(psid, Conversation(f"t_{next(self.page.seq) + 10**15}", psid, []))
        message = Message("m_" + secrets.token_urlsafe(40), from_id, to_id, text, created)
        if from_id == psid:
            conv.offered = []  # a new message from the customer dismisses the buttons
        conv.messages.append(message)
        conv.messages.sort(key=lambda m: m.created)
        return message.id

    # --- rendering ----------------------------------------------------------------------------
    def _participant(self, uid: str) -> dict[str, str]:
        return {**self.page.who(uid), "email": f"{uid}@facebook.com"}

    def message_json(self, message: Message) -> dict[str, Any]:
        return {"id": message.id, "message": message.text, "from": self._participant(message.from_id),
                "to": {"data": [self._participant(message.to_id)]},
                "created_time": wire.graph_time(message.created)}

    def conversation_json(self, conv: Conversation, req: Request, fields: wire.Fields) -> dict[str, Any]:
        body: dict[str, Any] = {"id": conv.id, "updated_time": wire.graph_time(conv.messages[-1].created)}
        if "participants" in fields:
            body["participants"] = {"data": [self._participant(uid) for uid in (conv.psid, self.page.id)]}
        for name, nested in fields.items():
            if name.split(".")[0] == "messages":
                limit = name.partition(".limit(")[2].rstrip(")") or "25"
                items = [self.message_json(m) for m in reversed(conv.messages)]
                body["messages"] = wire.page(req, [wire.select(m, wire.parse_fields(nested)) for m in items],
                                             self.page.base_url(), limit=int(limit), nested=True)
        return body

    # --- endpoints ----------------------------------------------------------------------------
    def list_conversations(self, req: Request) -> Response | dict:
        """GET /{page-id}/conversations, most recently active first (Messenger only)."""
        if req.params["id"] not in (self.page.id, "me"):
            return wire.missing(req.params["id"])
        if req.args().get("platform", "messenger") != "messenger":
            return {"data": []}  # Instagram conversations are not emulated
        fields = wire.parse_fields(req.args().get("fields")) or {"updated_time": None}
        convs = sorted(self.conversations.values(), key=lambda c: c.messages[-1].created, reverse=True)
        return wire.page(req, [self.conversation_json(c, req, fields) for c in convs], self.page.base_url())

    def list_messages(self, req: Request) -> Response | dict:
        """GET /{conversation-id}/messages, newest first."""
        conv = next((c for c in self.conversations.values() if c.id == req.params["id"]), None)
        if conv is None:
            return wire.missing(req.params["id"])
        fields = wire.parse_fields(req.args().get("fields")) or {"created_time": None}
        return wire.page(req, [wire.select(self.message_json(m), fields) for m in reversed(conv.messages)],
                         self.page.base_url())

    def send(self, psid: str, text: str, args: dict[str, Any], now: datetime,
             quick_replies: tuple[dict[str, Any], ...] = ()) -> Response | dict:
        """A Send API call to a PSID, inside the window its `messaging_type` (and tag) allows."""
        conv = self.conversations.get(psid)
        if conv is None:
            return wire.graph_error(100, "(#100) No matching user found", subcode=2018001)
        messaging_type, tag = args.get("messaging_type"), args.get("tag")
        last_in = max(m.created for m in conv.messages if m.from_id == psid)
        if messaging_type in ("RESPONSE", "UPDATE"):
            window = STANDARD_WINDOW
        elif messaging_type == "MESSAGE_TAG" and tag == "HUMAN_AGENT":
            window = HUMAN_AGENT_WINDOW
        elif messaging_type == "MESSAGE_TAG":
            return wire.graph_error(100, f"(#100) Invalid tag: {tag}", subcode=2018102)
        else:
            return wire.graph_error(100, "(#100) The parameter messaging_type is required")
        if now - last_in > window:
            return wire.graph_error(10, "(#10) This message is sent outside of allowed window.",
                                    subcode=2018278, status=400)
        mid = self.append(psid, self.page.id, psid, text, now)
        conv.offered = list(quick_replies)
        sent = {"psid": psid, "text": text, "messaging_type": messaging_type, "tag": tag, "message_id": mid}
        self.sent_messages.append(sent | ({"quick_replies": list(quick_replies)} if quick_replies else {}))
        return {"recipient_id": psid, "message_id": mid}

    def tap(self, psid: str, index: int, now: datetime) -> dict[str, Any]:
        """The customer taps the `index`th quick reply offered: their message (the button's title) and
        the `messaging` event Graph sends the webhook for it (`message.quick_reply.payload`)."""
        conv = self.conversations[psid]
        if not 0 <= index < len(conv.offered):
            raise ValueError(f"PSID {psid} has no quick reply {index} on offer ({len(conv.offered)} offered)")
        button = conv.offered[index]
        mid = self.append(psid, psid, self.page.id, button["title"], now)
        message = next(m for m in conv.messages if m.id == mid)
        message.quick_reply, conv.offered = button.get("payload"), []
        return {"sender": {"id": psid}, "recipient": {"id": self.page.id}, "timestamp": int(now.timestamp() * 1000),
                "message": {"mid": mid, "text": button["title"], "quick_reply": {"payload": button.get("payload")}}}
