"""A loopback emulator of the Slack Web API, good enough for slack_sdk's WebClient and Bolt.

Point a client at it with `WebClient(token=SlackEmulator.TOKEN, base_url=emulator.base_url + "/api/")`.
It answers like Slack: HTTP 200 with `{"ok": false, "error": "..."}` for API errors, 429 with
`Retry-After` when rate limited. Channels are created on first use unless `strict_channels`.
A `thread_ts` naming no message is accepted, as Slack does: the reply is stored but shows up in no
channel history (the transcript lists it under "orphaned replies" so a bug is visible).

Inspection helpers for tests and the demo: `posts()`, `thread()`, `transcript()`, `views`,
`ephemerals`, and the inherited `calls` / `fail_next`.
"""

from __future__ import annotations

import base64
import collections
import itertools
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox.emulators.server import Emulator, Request, Response
from sandbox.emulators.slack_checks import ApiError, block_lines, check_blocks, check_metadata, json_arg, truthy

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
MAX_TEXT = 40_000
Result = dict[str, Any] | Response


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    user: str | None = None  # the other member of a DM
    member: bool = True  # is the bot in it? (False → not_in_channel)
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


def _attachments(args: dict) -> list[dict]:
    raw = args.get("attachments")
    if not raw:
        return []
    attachments = json_arg(raw, "invalid_attachments")
    if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
        raise ApiError("invalid_attachments")
    return attachments


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


class SlackEmulator(Emulator):
    """The Slack Web API on loopback. `clock` (epoch seconds) drives `ts` values and rate limits."""

    name = "slack-emulator"
    TOKEN = "xoxb-parley-sandbox"
    TEAM_ID, BOT_USER_ID, BOT_ID, APP_ID = "T0PARLEY01", "U0PARLEYBOT", "B0PARLEYBOT", "A0PARLEYAPP"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tokens: Iterable[str] = (TOKEN,),
        strict_channels: bool = False,
        channel_rate_limit: tuple[int, float] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(host, port)
        self.tokens = set(tokens)
        self.strict_channels = strict_channels
        self.channel_rate_limit = channel_rate_limit
        self.clock = clock
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, dict] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.messages: dict[str, list[StoredMessage]] = {}  # channel → every message, in ts order
        self.views: list[dict] = []  # {"method", "view", "trigger_id"/"user_id"}
        self.ephemerals: list[dict] = []
        self._posts: list[Post] = []
        self._recent: dict[str, collections.deque[float]] = {}
        self._used_triggers: set[str] = set()
        self._last_ts_us = 0
        self._ids = itertools.count(1)
        self._state_lock = threading.RLock()
        self.add_user(self.BOT_USER_ID, "parley", real_name="Parley", is_bot=True)
        self.route("POST", r"/api/(?P<method>[\w.]+)", self._api)
        self.route("GET", r"/api/(?P<method>[\w.]+)", self._api)

    # --- setup helpers ---------------------------------------------------------------------
    def add_channel(self, name: str, *, id: str | None = None, private: bool = False, member: bool = True,
                    archived: bool = False) -> Channel:
        with self._state_lock:
            prefix = "G" if private else "C"
            channel = Channel(id or f"{prefix}0{next(self._ids):08d}", name.lstrip("#"), private, member=member,
                              archived=archived)
            self.channels[channel.id] = channel
            self.messages.setdefault(channel.id, [])
            return channel

    def add_user(self, user_id: str, name: str, *, real_name: str = "", is_bot: bool = False,
                 tz: str = "Europe/Madrid") -> dict:
        user = {"id": user_id, "team_id": self.TEAM_ID, "name": name, "real_name": real_name or name,
                "deleted": False, "is_bot": is_bot, "tz": tz, "is_admin": False,
                "profile": {"real_name": real_name or name, "display_name": name}}
        self.users[user_id] = user
        return user

    def add_usergroup(self, usergroup_id: str, users: list[str]) -> None:
        self.usergroups[usergroup_id] = list(users)

    # --- inspection ------------------------------------------------------------------------
    def posts(self, channel: str | None = None) -> list[Post]:
        with self._state_lock:
            return [p for p in self._posts if channel is None or p.channel == channel]

    def thread(self, channel: str, ts: str) -> list[StoredMessage]:
        """The parent (current state) followed by its replies, oldest first."""
        with self._state_lock:
            return [m for m in self.messages.get(channel, []) if m.ts == ts or m.thread_ts == ts]

    def transcript(self) -> str:
        """Every channel and thread as text: each card's posted fallback text, its replies indented,
        then the card's current state if it was updated."""
        out: list[str] = []
        with self._state_lock:
            for channel in self.channels.values():
                msgs = self.messages.get(channel.id, [])
                if not msgs:
                    continue
                out.append(f"=== #{channel.name} ({channel.id}) ===")
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
                out.append("")
        return "\n".join(out)

    # --- dispatch --------------------------------------------------------------------------
    def _api(self, request: Request) -> Response:
        method = request.params["method"]
        args = request.args()
        auth = request.headers.get("authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else args.get("token")
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        try:
            if handler is None:
                raise ApiError("unknown_method")
            if not token:
                raise ApiError("not_authed")
            if token not in self.tokens:
                raise ApiError("invalid_auth")
            with self._state_lock:
                result = handler(args)
        except ApiError as exc:
            return Response(200, {"ok": False, "error": exc.error})
        if isinstance(result, Response):
            return result
        return Response(200, {"ok": True, **result})

    def _next_ts(self) -> str:
        micros = max(int(self.clock() * 1_000_000), self._last_ts_us + 1)
        self._last_ts_us = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _channel(self, ref: Any, *, posting: bool = False) -> Channel:
        ref = str(ref or "").lstrip("#")
        if not ref:
            raise ApiError("channel_not_found")
        if ref in self.channels:
            channel = self.channels[ref]
        elif _USER_ID.match(ref) and posting:  # posting to a user id posts to the app's DM with them
            channel = self._open_dm(ref)
        else:
            named = next((c for c in self.channels.values() if c.name == ref), None)
            if named is None:
                # Unless strict, any channel ID exists (as it would in a real workspace); a name is
                # created only by posting to it, since only chat.postMessage accepts names.
                if self.strict_channels or not (posting or _CHANNEL_ID.match(ref)):
                    raise ApiError("channel_not_found")
                named = self.add_channel(ref.lower(), id=ref if _CHANNEL_ID.match(ref) else None)
            channel = named
        if posting and channel.archived:
            raise ApiError("is_archived")
        if posting and not channel.member:
            raise ApiError("not_in_channel")
        return channel

    def _open_dm(self, user_id: str) -> Channel:
        if user_id not in self.users:
            raise ApiError("user_not_found")
        existing = next((c for c in self.channels.values() if c.is_im and c.user == user_id), None)
        if existing is not None:
            return existing
        channel = Channel(f"D0{next(self._ids):08d}", user_id, is_im=True, user=user_id)
        self.channels[channel.id] = channel
        self.messages[channel.id] = []
        return channel

    def _find(self, channel: Channel, ts: Any) -> StoredMessage:
        message = next((m for m in self.messages[channel.id] if m.ts == str(ts)), None)
        if message is None:
            raise ApiError("message_not_found")
        return message

    def _content(self, args: dict) -> tuple[str, list[dict]]:
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

    @staticmethod
    def colour_of(args: dict) -> str | None:
        return next((a.get("color") for a in _attachments(args) if a.get("color")), None)

    def _rate_limited(self, channel: Channel) -> Response | None:
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

    def _as_json(self, message: StoredMessage, *, metadata: bool) -> dict:
        out: dict[str, Any] = {
            "type": "message", "user": self.BOT_USER_ID, "bot_id": self.BOT_ID, "app_id": self.APP_ID,
            "team": self.TEAM_ID, "ts": message.ts, "text": message.text, "blocks": message.blocks,
        }
        if message.thread_ts is not None:
            out["thread_ts"] = message.thread_ts
            out["parent_user_id"] = self.BOT_USER_ID
            if message.broadcast:
                out["subtype"] = "thread_broadcast"
        replies = [m for m in self.messages[message.channel] if m.thread_ts == message.ts]
        if message.thread_ts is None and replies:
            out.update(thread_ts=message.ts, reply_count=len(replies), reply_users=[self.BOT_USER_ID],
                       reply_users_count=1, latest_reply=replies[-1].ts)
        if message.edited_ts is not None:
            out["edited"] = {"user": self.BOT_USER_ID, "ts": message.edited_ts}
        if message.reactions:
            out["reactions"] = [{"name": n, "users": u, "count": len(u)} for n, u in message.reactions.items()]
        if metadata and message.metadata is not None:
            out["metadata"] = message.metadata
        return out

    @staticmethod
    def _page(items: list[StoredMessage], args: dict) -> tuple[list[StoredMessage], str]:
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
        page = kept[start:start + limit]
        more = start + limit < len(kept)
        return page, base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""

    # --- methods (named m_<method with dots as underscores>) ------------------------------------
    def m_auth_test(self, args: dict) -> Result:
        return {"url": "https://parley-sandbox.slack.com/", "team": "Parley Sandbox", "user": "parley",
                "team_id": self.TEAM_ID, "user_id": self.BOT_USER_ID, "bot_id": self.BOT_ID,
                "is_enterprise_install": False}

    def m_chat_postMessage(self, args: dict) -> Result:
        channel = self._channel(args.get("channel"), posting=True)
        text, blocks = self._content(args)
        metadata = check_metadata(args["metadata"]) if args.get("metadata") else None
        limited = self._rate_limited(channel)
        if limited is not None:
            return limited
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        if thread_ts is not None:  # replying to a reply threads under its parent, as Slack does
            parent = next((m for m in self.messages[channel.id] if m.ts == thread_ts), None)
            thread_ts = (parent.thread_ts or parent.ts) if parent is not None else thread_ts
        message = StoredMessage(channel.id, self._next_ts(), text, blocks, thread_ts, metadata,
                                broadcast=thread_ts is not None and truthy(args.get("reply_broadcast", False)),
                                colour=self.colour_of(args))
        self.messages[channel.id].append(message)
        self._posts.append(Post(channel.id, message.ts, text, blocks, thread_ts, metadata, self.clock()))
        return {"channel": channel.id, "ts": message.ts, "message": self._as_json(message, metadata=True)}

    def m_chat_update(self, args: dict) -> Result:
        channel = self._channel(args.get("channel"))
        message = self._find(channel, args.get("ts"))
        text, blocks = self._content(args)
        if not message.versions:
            message.versions.append((message.text, message.blocks))
        message.text, message.blocks, message.colour = text, blocks, self.colour_of(args)
        message.versions.append((text, blocks))
        message.edited_ts = self._next_ts()
        if args.get("metadata"):
            message.metadata = check_metadata(args["metadata"])
        return {"channel": channel.id, "ts": message.ts, "text": text,
                "message": self._as_json(message, metadata=True)}

    def m_chat_postEphemeral(self, args: dict) -> Result:
        channel = self._channel(args.get("channel"), posting=True)
        if args.get("user") not in self.users:
            raise ApiError("user_not_in_channel")
        text, blocks = self._content(args)
        record = {"channel": channel.id, "user": args["user"], "text": text, "blocks": blocks,
                  "thread_ts": args.get("thread_ts"), "message_ts": self._next_ts()}
        self.ephemerals.append(record)
        return {"message_ts": record["message_ts"]}

    def m_chat_getPermalink(self, args: dict) -> Result:
        channel = self._channel(args.get("channel"))
        message = self._find(channel, args.get("message_ts"))
        link = f"https://parley-sandbox.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"
        if message.thread_ts is not None:
            link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}

    def m_conversations_history(self, args: dict) -> Result:
        channel = self._channel(args.get("channel"))
        visible = [m for m in self.messages[channel.id] if m.thread_ts is None or m.broadcast]
        page, cursor = self._page(list(reversed(visible)), args)
        metadata = truthy(args.get("include_all_metadata", False))
        return {"messages": [self._as_json(m, metadata=metadata) for m in page], "has_more": bool(cursor),
                "pin_count": 0, "response_metadata": {"next_cursor": cursor}}

    def m_conversations_replies(self, args: dict) -> Result:
        channel = self._channel(args.get("channel"))
        if not args.get("ts"):
            raise ApiError("invalid_arguments")
        start = next((m for m in self.messages[channel.id] if m.ts == str(args["ts"])), None)
        if start is None:
            raise ApiError("thread_not_found")
        root = start.thread_ts or start.ts
        page, cursor = self._page(self.thread(channel.id, root), args)
        metadata = truthy(args.get("include_all_metadata", False))
        return {"messages": [self._as_json(m, metadata=metadata) for m in page], "has_more": bool(cursor),
                "response_metadata": {"next_cursor": cursor}}

    def m_conversations_info(self, args: dict) -> Result:
        c = self._channel(args.get("channel"))
        info = {"id": c.id, "name": c.name, "is_channel": not (c.is_im or c.is_private), "is_group": c.is_private,
                "is_im": c.is_im, "is_private": c.is_private or c.is_im, "is_archived": c.archived,
                "is_member": c.member, "created": 1_700_000_000}
        if c.is_im:
            info["user"] = c.user
        return {"channel": info}

    def m_conversations_open(self, args: dict) -> Result:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) > 1:
            raise ApiError("not_enough_users" if len(users) > 8 else "method_not_supported_for_channel_type")
        channel = self._open_dm(users[0])
        return {"channel": {"id": channel.id}, "no_op": False, "already_open": False}

    def m_users_info(self, args: dict) -> Result:
        user = self.users.get(str(args.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        return {"user": user}

    def m_usergroups_users_list(self, args: dict) -> Result:
        group = str(args.get("usergroup") or "")
        if group not in self.usergroups:
            raise ApiError("no_such_subteam")
        return {"users": self.usergroups[group]}

    def _view(self, args: dict, *, home: bool = False) -> dict:
        view = json_arg(args.get("view"), "invalid_arguments")
        if not isinstance(view, dict) or view.get("type") not in ({"home"} if home else {"modal"}):
            raise ApiError("invalid_arguments")
        if (not home and "title" not in view) or len(view.get("blocks", [])) > 100:
            raise ApiError("invalid_arguments")
        return view

    def _trigger(self, args: dict) -> str:
        trigger = str(args.get("trigger_id") or "")
        if not trigger or trigger == "expired":
            raise ApiError("invalid_trigger_id" if not trigger else "expired_trigger_id")
        if trigger in self._used_triggers:
            raise ApiError("exchanged_trigger_id")
        self._used_triggers.add(trigger)
        return trigger

    def _record_view(self, method: str, view: dict, view_id: str | None = None, **extra: Any) -> Result:
        stored = {**view, "id": view_id or f"V0{next(self._ids):08d}", "hash": f"{time.time_ns()}.h",
                  "team_id": self.TEAM_ID, "app_id": self.APP_ID}
        self.views.append({"method": method, "view": stored, **extra})
        return {"view": stored}

    def _known_view(self, args: dict) -> dict:
        wanted_id, wanted_ext = args.get("view_id"), args.get("external_id")
        view = json_arg(args.get("view"), "invalid_arguments") or {}
        for record in reversed(self.views):
            stored = record["view"]
            if (wanted_id and stored["id"] == wanted_id) or (
                wanted_ext and stored.get("external_id") == wanted_ext
            ):
                return stored
        if not wanted_id and not wanted_ext and view.get("external_id"):
            return self._known_view({"external_id": view["external_id"]})
        raise ApiError("not_found")

    def m_views_open(self, args: dict) -> Result:
        trigger = self._trigger(args)
        return self._record_view("views.open", self._view(args), trigger_id=trigger)

    def m_views_push(self, args: dict) -> Result:
        trigger = self._trigger(args)
        return self._record_view("views.push", self._view(args), trigger_id=trigger)

    def m_views_update(self, args: dict) -> Result:
        current = self._known_view(args)
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        return self._record_view("views.update", self._view(args), current["id"])

    def m_views_publish(self, args: dict) -> Result:
        user = str(args.get("user_id") or "")
        if user not in self.users:
            raise ApiError("user_not_found" if user else "invalid_arguments")
        return self._record_view("views.publish", self._view(args, home=True), user_id=user)

    def m_reactions_add(self, args: dict) -> Result:
        channel = self._channel(args.get("channel"))
        message = self._find(channel, args.get("timestamp"))
        name = str(args.get("name") or "").strip(":")
        if not name:
            raise ApiError("invalid_name")
        users = message.reactions.setdefault(name, [])
        if self.BOT_USER_ID in users:
            raise ApiError("already_reacted")
        users.append(self.BOT_USER_ID)
        return {}
