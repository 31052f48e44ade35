"""What the Slack emulator stores, and the lookups every Web API method shares.

The workspace holds channels, people, user groups and messages (in `ts` order per channel), issues
`ts` values from the emulator clock, resolves a channel reference the way Slack does (an ID, a name
when posting, a user ID when posting opens the app's DM) and renders a stored message as Slack's JSON.

Membership follows Slack's rule for bot tokens: the bot sees a private channel only if it is in it
(`channel_not_found` otherwise, for every method); in a public channel it is not in, it may post
only with `chat:write.public` ("Send messages to channels your Slack app isn't a member of",
https://docs.slack.dev/reference/scopes/chat:write.public) and reading answers `not_in_channel`
(`channels:history` covers "public channels that your Slack app has been added to",
https://docs.slack.dev/reference/scopes/channels.history).
"""

from __future__ import annotations

import collections
import itertools
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.emulators.server import Response
from sandbox.emulators.slack_checks import ApiError, block_lines

CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
TEAM_ID, BOT_USER_ID, BOT_ID, APP_ID = "T0PARLEY01", "U0PARLEYBOT", "B0PARLEYBOT", "A0PARLEYAPP"
# The bot scopes granted by default: those of Parley's manifest.yml (a test narrows them to see
# what a workspace that installed an older manifest answers).
DEFAULT_SCOPES = frozenset({
    "channels:history", "channels:join", "channels:read", "chat:write", "chat:write.public", "commands",
    "files:write", "groups:history", "im:write", "metadata.message:read", "usergroups:read", "users:read",
})


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    user: str | None = None  # the other member of a DM
    member: bool = True  # is the bot in it? (see the module docstring for what that changes)
    archived: bool = False


@dataclass
class StoredMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict]
    thread_ts: str | None = None
    metadata: dict | None = None
    broadcast: bool = False
    versions: list[tuple[str, list[dict]]] = field(default_factory=list)  # (text, blocks) after edits
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edited_ts: str | None = None
    colour: str | None = None  # the side bar of a coloured attachment (e.g. red for an overdue card)
    # `blocks` is what a person sees (top-level blocks, then those inside attachments); these are the
    # two fields as Slack stores them, which chat.update keeps when a call leaves one out.
    own_blocks: list[dict] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Post:
    """One successful chat.postMessage, as the emulator received it; `at` is the emulator clock."""

    channel: str
    ts: str
    text: str
    blocks: list[dict]
    thread_ts: str | None
    metadata: dict | None
    at: float


class Workspace:
    """The emulated workspace's state. `clock` (epoch seconds) drives `ts` values and rate limits;
    `lock` guards every read and write, since the HTTP server answers on many threads."""

    def __init__(self, *, strict_channels: bool, channel_rate_limit: tuple[int, float] | None,
                 clock: Callable[[], float], scopes: frozenset[str] = DEFAULT_SCOPES) -> None:
        self.strict_channels = strict_channels
        self.scopes = scopes
        self.channel_rate_limit = channel_rate_limit
        self.clock = clock
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, dict] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.messages: dict[str, list[StoredMessage]] = {}  # channel → every message, in ts order
        self.posted: list[Post] = []
        self.ids = itertools.count(1)
        self.lock = threading.RLock()
        self._recent: dict[str, collections.deque[float]] = {}
        self._last_ts_us = 0

    # --- setup -----------------------------------------------------------------------------
    def add_channel(self, name: str, *, id: str | None = None, private: bool = False, member: bool = True,
                    archived: bool = False) -> Channel:
        with self.lock:
            prefix = "G" if private else "C"
            channel = Channel(id or f"{prefix}0{next(self.ids):08d}", name.lstrip("#"), private, member=member,
                              archived=archived)
            self.channels[channel.id] = channel
            self.messages.setdefault(channel.id, [])
            return channel

    def add_user(self, user_id: str, name: str, *, real_name: str = "", is_bot: bool = False,
                 tz: str = "Europe/Madrid") -> dict:
        user = {"id": user_id, "team_id": TEAM_ID, "name": name, "real_name": real_name or name,
                "deleted": False, "is_bot": is_bot, "tz": tz, "is_admin": False,
                "profile": {"real_name": real_name or name, "display_name": name}}
        self.users[user_id] = user
        return user

    # --- inspection ------------------------------------------------------------------------
    def posts(self, channel: str | None = None) -> list[Post]:
        with self.lock:
            return [p for p in self.posted if channel is None or p.channel == channel]

    def thread(self, channel: str, ts: str) -> list[StoredMessage]:
        """The parent (current state) followed by its replies, oldest first."""
        with self.lock:
            return [m for m in self.messages.get(channel, []) if m.ts == ts or m.thread_ts == ts]

    def transcript(self) -> str:
        """Every channel and thread as text: each card's posted fallback text, its replies indented,
        then the card's current state if it was updated."""
        out: list[str] = []
        with self.lock:
            for channel in self.channels.values():
                msgs = self.messages.get(channel.id, [])
                if msgs:
                    out.append(f"=== #{channel.name} ({channel.id}) ===")
                    out.extend(_channel_transcript(msgs))
                    out.append("")
        return "\n".join(out)

    # --- lookups shared by the methods ---------------------------------------------------------
    def next_ts(self) -> str:
        micros = max(int(self.clock() * 1_000_000), self._last_ts_us + 1)
        self._last_ts_us = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise ApiError("missing_scope")

    def channel(self, ref: Any, *, posting: bool = False, reading: bool = False) -> Channel:
        """The channel a call names, checked for what the call does (see the module docstring)."""
        ref = str(ref or "").lstrip("#")
        if not ref:
            raise ApiError("channel_not_found")
        if ref in self.channels:
            channel = self.channels[ref]
        elif USER_ID.match(ref) and posting:  # posting to a user id posts to the app's DM with them
            channel = self.open_dm(ref)
        else:
            named = next((c for c in self.channels.values() if c.name == ref), None)
            if named is None:
                # Unless strict, any channel ID exists (as it would in a real workspace); a name is
                # created only by posting to it, since only chat.postMessage accepts names.
                if self.strict_channels or not (posting or CHANNEL_ID.match(ref)):
                    raise ApiError("channel_not_found")
                named = self.add_channel(ref.lower(), id=ref if CHANNEL_ID.match(ref) else None)
            channel = named
        if channel.is_private and not channel.member:
            raise ApiError("channel_not_found")  # a bot token cannot see a private channel it is not in
        if posting and channel.archived:
            raise ApiError("is_archived")
        if not channel.member and (reading or (posting and "chat:write.public" not in self.scopes)):
            raise ApiError("not_in_channel")
        return channel

    def open_dm(self, user_id: str) -> Channel:
        if user_id not in self.users:
            raise ApiError("user_not_found")
        existing = next((c for c in self.channels.values() if c.is_im and c.user == user_id), None)
        if existing is not None:
            return existing
        channel = Channel(f"D0{next(self.ids):08d}", user_id, is_im=True, user=user_id)
        self.channels[channel.id] = channel
        self.messages[channel.id] = []
        return channel

    def find(self, channel: Channel, ts: Any) -> StoredMessage:
        message = next((m for m in self.messages[channel.id] if m.ts == str(ts)), None)
        if message is None:
            raise ApiError("message_not_found")
        return message

    def rate_limited(self, channel: Channel) -> Response | None:
        """A 429 with Retry-After once a channel has had `channel_rate_limit` posts in its window."""
        if self.channel_rate_limit is None:
            return None
        limit, per = self.channel_rate_limit
        now = self.clock()
        recent = self._recent.setdefault(channel.id, collections.deque())
        while recent and recent[0] <= now - per:
            recent.popleft()
        if len(recent) >= limit:
            retry_after = max(1, math.ceil(recent[0] + per - now))
            return Response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})
        recent.append(now)
        return None

    def as_json(self, message: StoredMessage, *, metadata: bool) -> dict:
        """The message as Slack returns it, with thread fields on a parent that has replies."""
        out: dict[str, Any] = {
            "type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID,
            "team": TEAM_ID, "ts": message.ts, "text": message.text, "blocks": message.own_blocks,
        }
        if message.attachments:
            out["attachments"] = message.attachments
        if message.thread_ts is not None:
            out["thread_ts"] = message.thread_ts
            out["parent_user_id"] = BOT_USER_ID
            if message.broadcast:
                out["subtype"] = "thread_broadcast"
        replies = [m for m in self.messages[message.channel] if m.thread_ts == message.ts]
        if message.thread_ts is None and replies:
            out.update(thread_ts=message.ts, reply_count=len(replies), reply_users=[BOT_USER_ID],
                       reply_users_count=1, latest_reply=replies[-1].ts)
        if message.edited_ts is not None:
            out["edited"] = {"user": BOT_USER_ID, "ts": message.edited_ts}
        if message.reactions:
            out["reactions"] = [{"name": n, "users": u, "count": len(u)} for n, u in message.reactions.items()]
        if metadata and message.metadata is not None:
            out["metadata"] = message.metadata
        return out


def _channel_transcript(msgs: list[StoredMessage]) -> list[str]:
    out: list[str] = []
    parents = {m.ts for m in msgs if m.thread_ts is None}
    for msg in msgs:
        if msg.thread_ts is not None:
            continue
        posted = msg.versions[0][0] if msg.versions else msg.text
        out.append("● " + posted.replace("\n", "\n  "))
        for reply in msgs:
            if reply.thread_ts == msg.ts:
                out.append("    ↳ " + reply.text.replace("\n", "\n      "))
        if msg.versions:
            out.append(f"    ✎ card now ({len(msg.versions) - 1} update(s)):")
            for text in block_lines(msg.blocks) or [msg.text]:
                out.extend(f"      │ {line}" for line in text.splitlines())
    orphans = [m for m in msgs if m.thread_ts is not None and m.thread_ts not in parents]
    for reply in orphans:
        out.append(f"  (orphaned reply to missing {reply.thread_ts}) {reply.text}")
    return out
