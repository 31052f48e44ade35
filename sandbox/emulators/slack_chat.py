"""The Slack emulator's message methods: chat.*, reading history and threads, and reactions.

Messages are checked as Slack checks them (`slack_checks`), stored in the workspace and read back
with Slack's paging: `oldest`/`latest`/`inclusive`, then an opaque cursor.
"""

from __future__ import annotations

import base64
import math
from typing import Any

from sandbox.emulators.server import Response
from sandbox.emulators.slack_checks import ApiError, check_blocks, check_metadata, json_arg, truthy
from sandbox.emulators.slack_workspace import BOT_USER_ID, Post, StoredMessage, Workspace

MAX_TEXT = 40_000
Result = dict[str, Any] | Response


def _attachments(args: dict) -> list[dict]:
    raw = args.get("attachments")
    if not raw:
        return []
    attachments = json_arg(raw, "invalid_attachments")
    if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
        raise ApiError("invalid_attachments")
    return attachments


def colour_of(args: dict) -> str | None:
    """The side-bar colour of the first coloured attachment, if any."""
    return next((a.get("color") for a in _attachments(args) if a.get("color")), None)


def content(args: dict) -> tuple[str, list[dict]]:
    """Text and blocks; blocks inside (coloured) attachments are checked the same way and kept
    after the top-level ones, so inspection sees what a person sees. `colour_of` gives the bar."""
    text = str(args.get("text") or "")
    blocks = check_blocks(args["blocks"]) if args.get("blocks") else []
    for attachment in _attachments(args):
        blocks += check_blocks(attachment.get("blocks") or [])
    if not text and not blocks:
        raise ApiError("no_text")
    if len(text) > MAX_TEXT:
        raise ApiError("msg_too_long")
    return text, blocks


def page(items: list[StoredMessage], args: dict) -> tuple[list[StoredMessage], str]:
    """Filter by oldest/latest/inclusive, then page with an opaque cursor (an offset)."""
    oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or math.inf)
    inclusive = truthy(args.get("inclusive", False))
    kept = [m for m in items
            if (oldest <= float(m.ts) <= latest if inclusive else oldest < float(m.ts) < latest)]
    try:
        start = int(base64.b64decode(args["cursor"]).decode().split(":")[1]) if args.get("cursor") else 0
    except (ValueError, IndexError):
        raise ApiError("invalid_cursor") from None
    limit = min(max(int(args.get("limit") or 100), 1), 999)
    kept_page = kept[start:start + limit]
    more = start + limit < len(kept)
    return kept_page, base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""


class ChatMethods:
    """Web API methods named m_<method with dots as underscores>, over one workspace.
    `ephemerals` records each chat.postEphemeral (only its user would see it)."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self.ephemerals: list[dict] = []

    def m_chat_postMessage(self, args: dict) -> Result:
        ws = self.ws
        channel = ws.channel(args.get("channel"), posting=True)
        text, blocks = content(args)
        metadata = check_metadata(args["metadata"]) if args.get("metadata") else None
        limited = ws.rate_limited(channel)
        if limited is not None:
            return limited
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        if thread_ts is not None:  # replying to a reply threads under its parent, as Slack does
            parent = next((m for m in ws.messages[channel.id] if m.ts == thread_ts), None)
            thread_ts = (parent.thread_ts or parent.ts) if parent is not None else thread_ts
        message = StoredMessage(channel.id, ws.next_ts(), text, blocks, thread_ts, metadata,
                                broadcast=thread_ts is not None and truthy(args.get("reply_broadcast", False)),
                                colour=colour_of(args))
        ws.messages[channel.id].append(message)
        ws.posted.append(Post(channel.id, message.ts, text, blocks, thread_ts, metadata, ws.clock()))
        return {"channel": channel.id, "ts": message.ts, "message": ws.as_json(message, metadata=True)}

    def m_chat_update(self, args: dict) -> Result:
        channel = self.ws.channel(args.get("channel"))
        message = self.ws.find(channel, args.get("ts"))
        text, blocks = content(args)
        if not message.versions:
            message.versions.append((message.text, message.blocks))
        message.text, message.blocks, message.colour = text, blocks, colour_of(args)
        message.versions.append((text, blocks))
        message.edited_ts = self.ws.next_ts()
        if args.get("metadata"):
            message.metadata = check_metadata(args["metadata"])
        return {"channel": channel.id, "ts": message.ts, "text": text,
                "message": self.ws.as_json(message, metadata=True)}

    def m_chat_postEphemeral(self, args: dict) -> Result:
        channel = self.ws.channel(args.get("channel"), posting=True)
        if args.get("user") not in self.ws.users:
            raise ApiError("user_not_in_channel")
        text, blocks = content(args)
        record = {"channel": channel.id, "user": args["user"], "text": text, "blocks": blocks,
                  "thread_ts": args.get("thread_ts"), "message_ts": self.ws.next_ts()}
        self.ephemerals.append(record)
        return {"message_ts": record["message_ts"]}

    def m_chat_getPermalink(self, args: dict) -> Result:
        channel = self.ws.channel(args.get("channel"))
        message = self.ws.find(channel, args.get("message_ts"))
        link = f"https://parley-sandbox.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"
        if message.thread_ts is not None:
            link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}

    def m_conversations_history(self, args: dict) -> Result:
        channel = self.ws.channel(args.get("channel"))
        visible = [m for m in self.ws.messages[channel.id] if m.thread_ts is None or m.broadcast]
        messages, cursor = page(list(reversed(visible)), args)
        metadata = truthy(args.get("include_all_metadata", False))
        return {"messages": [self.ws.as_json(m, metadata=metadata) for m in messages], "has_more": bool(cursor),
                "pin_count": 0, "response_metadata": {"next_cursor": cursor}}

    def m_conversations_replies(self, args: dict) -> Result:
        channel = self.ws.channel(args.get("channel"))
        if not args.get("ts"):
            raise ApiError("invalid_arguments")
        start = next((m for m in self.ws.messages[channel.id] if m.ts == str(args["ts"])), None)
        if start is None:
            raise ApiError("thread_not_found")
        root = start.thread_ts or start.ts
        messages, cursor = page(self.ws.thread(channel.id, root), args)
        metadata = truthy(args.get("include_all_metadata", False))
        return {"messages": [self.ws.as_json(m, metadata=metadata) for m in messages], "has_more": bool(cursor),
                "response_metadata": {"next_cursor": cursor}}

    def m_reactions_add(self, args: dict) -> Result:
        channel = self.ws.channel(args.get("channel"))
        message = self.ws.find(channel, args.get("timestamp"))
        name = str(args.get("name") or "").strip(":")
        if not name:
            raise ApiError("invalid_name")
        users = message.reactions.setdefault(name, [])
        if BOT_USER_ID in users:
            raise ApiError("already_reacted")
        users.append(BOT_USER_ID)
        return {}
