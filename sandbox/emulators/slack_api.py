"""A loopback emulator of the Slack Web API, good enough for slack_sdk's WebClient and Bolt.

Point a client at it with `WebClient(token=SlackEmulator.TOKEN, base_url=emulator.base_url + "/api/")`.
It answers like Slack: HTTP 200 with `{"ok": false, "error": "..."}` for API errors, 429 with
`Retry-After` when rate limited. Channels are created on first use unless `strict_channels`.
The bot is in every channel unless one is added with `member=False`; then Slack's membership rules
apply (see `slack_workspace`), and `conversations.join` lets the bot into a public one. `scopes` are
the bot's granted scopes (default: the manifest's).
A `thread_ts` naming no message is accepted, as Slack does: the reply is stored but shows up in no
channel history (the transcript lists it under "orphaned replies" so a bug is visible).

This module is the HTTP face: authentication, dispatch, and the people and conversation-info methods.
The state lives in `slack_workspace`, the message methods in `slack_chat`, the views in `slack_views`.

Inspection helpers for tests and the demo: `posts()`, `thread()`, `transcript()`, `views`,
`ephemerals`, `uploads` (shared files, sandbox/emulators/slack_files.py), and the inherited `calls` / `fail_next`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from sandbox.emulators import slack_workspace
from sandbox.emulators.server import Emulator, Request, Response
from sandbox.emulators.slack_chat import ChatMethods, Result
from sandbox.emulators.slack_checks import ApiError
from sandbox.emulators.slack_files import SlackFiles
from sandbox.emulators.slack_views import ViewMethods
from sandbox.emulators.slack_workspace import Channel, Post, StoredMessage, Workspace

Method = Callable[[dict], Result]


class SlackEmulator(SlackFiles, Emulator):
    """The Slack Web API on loopback. `clock` (epoch seconds) drives `ts` values and rate limits."""

    name = "slack-emulator"
    TOKEN = "xoxb-parley-sandbox"
    APP_TOKEN = "xapp-1-parley-sandbox"  # app-level token (scope connections:write), Socket Mode only
    TEAM_ID, BOT_USER_ID = slack_workspace.TEAM_ID, slack_workspace.BOT_USER_ID
    BOT_ID, APP_ID = slack_workspace.BOT_ID, slack_workspace.APP_ID

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tokens: Iterable[str] = (TOKEN,),
        app_tokens: Iterable[str] = (APP_TOKEN,),
        strict_channels: bool = False,
        channel_rate_limit: tuple[int, float] | None = None,
        clock: Callable[[], float] = time.time,
        scopes: Iterable[str] = slack_workspace.DEFAULT_SCOPES,
    ) -> None:
        super().__init__(host, port)
        self.tokens, self.app_tokens = set(tokens), set(app_tokens)
        self.workspace = Workspace(strict_channels=strict_channels, channel_rate_limit=channel_rate_limit,
                                   clock=clock, scopes=frozenset(scopes))
        self.chat_methods, self.view_methods = ChatMethods(self.workspace), ViewMethods(self.workspace)
        # The same objects as the workspace's and the method families', exposed for inspection.
        self.channels, self.users = self.workspace.channels, self.workspace.users
        self.usergroups, self.messages = self.workspace.usergroups, self.workspace.messages
        self.views, self.ephemerals = self.view_methods.views, self.chat_methods.ephemerals
        self.add_user(self.BOT_USER_ID, "parley", real_name="Parley", is_bot=True)
        self.route("POST", r"/api/(?P<method>[\w.]+)", self._api)
        self.route("GET", r"/api/(?P<method>[\w.]+)", self._api)
        self._install_files()

    # --- setup and inspection (the workspace's) -----------------------------------------------
    def add_channel(self, name: str, *, id: str | None = None, private: bool = False, member: bool = True,
                    archived: bool = False) -> Channel:
        return self.workspace.add_channel(name, id=id, private=private, member=member, archived=archived)

    def add_user(self, user_id: str, name: str, *, real_name: str = "", is_bot: bool = False,
                 tz: str = "Europe/Madrid") -> dict:
        return self.workspace.add_user(user_id, name, real_name=real_name, is_bot=is_bot, tz=tz)

    def add_usergroup(self, usergroup_id: str, users: list[str]) -> None:
        self.usergroups[usergroup_id] = list(users)

    def posts(self, channel: str | None = None) -> list[Post]:
        return self.workspace.posts(channel)

    def thread(self, channel: str, ts: str) -> list[StoredMessage]:
        """The parent (current state) followed by its replies, oldest first."""
        return self.workspace.thread(channel, ts)

    def transcript(self) -> str:
        """Every channel and thread as text (see `Workspace.transcript`)."""
        return self.workspace.transcript()

    # --- dispatch --------------------------------------------------------------------------
    def _api(self, request: Request) -> Response:
        method = request.params["method"]
        args = request.args()
        auth = request.headers.get("authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else args.get("token")
        handler = self._method("m_" + method.replace(".", "_"))
        try:
            if handler is None:
                raise ApiError("unknown_method")
            if not token:
                raise ApiError("not_authed")
            # An app-level token works only for apps.connections.open, and that method takes nothing
            # else (https://docs.slack.dev/reference/methods/apps.connections.open).
            app_method = method == "apps.connections.open"
            if token not in self.app_tokens | self.tokens:
                raise ApiError("invalid_auth")
            if str(token).startswith("xapp-") != app_method:
                raise ApiError("not_allowed_token_type")
            with self.workspace.lock:
                result = handler(args)
        except ApiError as exc:
            return Response(200, {"ok": False, "error": exc.error})
        if isinstance(result, Response):
            return result
        # Slack lists a bot token's granted scopes in the `x-oauth-scopes` header of every answer.
        headers = {} if app_method else {"x-oauth-scopes": ",".join(sorted(self.workspace.scopes))}
        return Response(200, {"ok": True, **result}, headers)

    def _method(self, name: str) -> Method | None:
        """The handler for a method, looked up per call and on the emulator first, so a test
        subclass can override one (and call the family's own, e.g. `self.chat_methods.m_...`)."""
        for family in (self, self.chat_methods, self.view_methods):
            handler = getattr(family, name, None)
            if handler is not None:
                return handler
        return None

    # --- methods (named m_<method with dots as underscores>) ------------------------------------
    def m_auth_test(self, args: dict) -> Result:
        return {"url": "https://parley-sandbox.slack.com/", "team": "Parley Sandbox", "user": "parley",
                "team_id": self.TEAM_ID, "user_id": self.BOT_USER_ID, "bot_id": self.BOT_ID,
                "is_enterprise_install": False}

    def m_apps_connections_open(self, args: dict) -> Result:
        """A Socket Mode WebSocket URL (this emulator serves no WebSocket: the call proves the token)."""
        return {"url": f"wss://wss-primary.slack.com/link/?ticket=sandbox&app_id={self.APP_ID}"}

    def m_conversations_info(self, args: dict) -> Result:
        return {"channel": _info(self.workspace.channel(args.get("channel")))}

    def m_conversations_join(self, args: dict) -> Result:
        """Join a public channel (bot scope `channels:join`). As documented: an ID only; a private
        channel or a DM is `method_not_supported_for_channel_type` (one the bot is not in is invisible:
        `channel_not_found`); an archived one `is_archived`; joining again succeeds with the warning
        `already_in_channel` (https://docs.slack.dev/reference/methods/conversations.join)."""
        self.workspace.require("channels:join")
        ref = str(args.get("channel") or "")
        if not slack_workspace.CHANNEL_ID.match(ref):
            raise ApiError("channel_not_found")
        channel = self.workspace.channel(ref)
        if channel.is_im or channel.is_private:
            raise ApiError("method_not_supported_for_channel_type")
        if channel.archived:
            raise ApiError("is_archived")
        already, channel.member = channel.member, True
        warning = {"warning": "already_in_channel",
                   "response_metadata": {"warnings": ["already_in_channel"]}} if already else {}
        return {"channel": _info(channel), **warning}

    def m_conversations_open(self, args: dict) -> Result:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) > 1:
            raise ApiError("not_enough_users" if len(users) > 8 else "method_not_supported_for_channel_type")
        channel = self.workspace.open_dm(users[0])
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

    def m_conversations_list(self, args: dict) -> Result:
        """Like Slack: public channels, and private ones only when the bot is a member; one page."""
        types = set(str(args.get("types") or "public_channel").split(","))
        skip_archived = str(args.get("exclude_archived", "")).lower() in ("1", "true")
        listed = [
            {"id": c.id, "name": c.name, "is_private": c.is_private, "is_archived": c.archived,
             "is_member": c.member}
            for c in list(self.channels.values())
            if not c.is_im and ("private_channel" if c.is_private else "public_channel") in types
            and (c.member or not c.is_private) and not (skip_archived and c.archived)]
        return {"channels": listed, "response_metadata": {"next_cursor": ""}}

def _info(c: Channel) -> dict[str, Any]:
    """A conversation object as conversations.info and conversations.join return it."""
    info: dict[str, Any] = {
        "id": c.id, "name": c.name, "is_channel": not (c.is_im or c.is_private), "is_group": c.is_private,
        "is_im": c.is_im, "is_private": c.is_private or c.is_im, "is_archived": c.archived,
        "is_member": c.member, "created": 1_700_000_000}
    if c.is_im:
        info["user"] = c.user
    return info
