"""A loopback emulator of the slice of the Facebook Graph API that Parley uses.

One Page, its feed (the Page's own posts and visitor posts), comments and replies, Messenger
conversations, and the send endpoints with the rules Graph enforces: one private reply per comment,
no private reply to a comment older than 7 days, Messenger's 24-hour window, and the HUMAN_AGENT
tag's 7 days. Objects, paging and errors have Graph's shapes, so the real facebook-sdk client
works against it unchanged (pointed here through the base-URL setting).

This module is the HTTP face: routes, access tokens, object lookup and fault injection. The feed
lives in `graph_feed`, Messenger in `graph_messenger`, the wire formats and webhook signing in
`graph_wire`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sandbox.emulators import graph_wire as wire
from sandbox.emulators.graph_feed import Feed
from sandbox.emulators.graph_instagram import Instagram
from sandbox.emulators.graph_instagram_writes import InstagramWrites
from sandbox.emulators.graph_messenger import Messenger
from sandbox.emulators.graph_page import Author, Page
from sandbox.emulators.graph_token import ALL_PAGE_PERMISSIONS, PageToken, TokenEndpoints, expired_error
from sandbox.emulators.server import Emulator, Handler, Request, Response

V = r"/v\d+\.\d+"
ID = r"(?P<id>[^/]+)"


class GraphEmulator(Emulator):
    """Graph API for one Page. Seed it with `add_post` / `add_comment` / `add_messenger_message`;
    read what Parley sent from `comment_replies`, `private_replies` and `sent_messages`."""

    name = "graph-emulator"

    def __init__(
        self,
        page_id: str = "104729385610",
        page_name: str = "Acme",
        page_token: str = "EAAGpage-token-for-tests",
        *,
        instagram_id: str = "17841400000000001",
        instagram_username: str = "acme",
        clock: Callable[[], datetime] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        scopes: tuple[str, ...] = ALL_PAGE_PERMISSIONS,
        token_expires_at: int = 0,
        subscribed_fields: list[str] | None = None,
    ) -> None:
        super().__init__(host, port)
        self.page_id, self.page_name, self.page_token = page_id, page_name, page_token
        self.clock = clock or (lambda: datetime.now(UTC))
        self.page = Page(page_id, page_name, lambda: self.clock(), lambda: self.base_url)
        self.feed, self.messenger = Feed(self.page), Messenger(self.page)
        # The Page token's permissions and expiry, and the app's webhook subscription to the Page
        # (subscribed to what Parley needs unless a test says otherwise).
        self.token = PageToken(set(scopes), token_expires_at,
                               ["feed", "messages"] if subscribed_fields is None else subscribed_fields)
        self.tokens = TokenEndpoints(self.token, page_id, lambda: self.clock())
        # The same objects as the feed's and Messenger's, exposed for inspection.
        self.names, self.posts, self.comments = self.page.names, self.feed.posts, self.feed.comments
        self.comment_replies, self.private_replies = self.feed.comment_replies, self.feed.private_replies
        self.conversations, self.sent_messages = self.messenger.conversations, self.messenger.sent_messages
        # The professional Instagram account linked to the Page (graph_instagram*.py).
        self.instagram = Instagram(self.page, instagram_id, instagram_username)
        self.instagram_writes = InstagramWrites(self.instagram)
        # The share of the Page's Business Use Case rate limit used (percent), sent on every answer in
        # X-Business-Use-Case-Usage as Graph does for Page tokens; None sends no usage header.
        self.usage_percent: int | None = 1
        self._add_routes()

    def _add_routes(self) -> None:
        ig, ig_writes = self.instagram, self.instagram_writes
        # Permissions per endpoint, Facebook's and (on the Instagram account's objects) Instagram's:
        # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment/replies
        reads, user_content = "pages_read_engagement", "pages_read_user_content"
        ig_reads, ig_comments = ("instagram_basic", reads), ("instagram_basic", "instagram_manage_comments", reads)
        ig_messages = ("instagram_basic", "instagram_manage_messages")
        for method, path, handler, needed, ig_needed in (
            ("GET", f"{V}/debug_token", self.tokens.debug_token, (), ()),
            ("GET", f"{V}/me/permissions", self.tokens.permissions, (), ()),
            ("GET", f"{V}/{ID}/subscribed_apps", self.tokens.subscribed_apps, (), ()),
            ("POST", f"{V}/{ID}/subscribed_apps", self.tokens.subscribed_apps, (), ()),
            ("GET", f"{V}/{ID}/feed", self.feed.feed, (reads, user_content), ()),
            ("GET", f"{V}/{ID}/comments", self._ig_or(ig.list_comments, self.feed.list_comments),
             (reads, user_content), ig_comments),
            ("POST", f"{V}/{ID}/comments", self.feed.reply_comment, ("pages_manage_engagement",), ()),
            ("GET", f"{V}/{ID}/conversations", self._conversations, ("pages_messaging",), ig_messages),
            ("GET", f"{V}/{ID}/messages", self._messages, ("pages_messaging",), ig_messages),
            ("POST", f"{V}/{ID}/messages", self._send, ("pages_messaging",), ig_messages),
            ("GET", f"{V}/{ID}/media", self._ig_or(ig.list_media), (), ig_reads),
            ("GET", f"{V}/{ID}/tags", self._ig_or(ig.list_tags), (), ig_reads),
            ("GET", f"{V}/{ID}/replies", self._ig_or(ig.list_comments), (), ig_comments),
            ("POST", f"{V}/{ID}/replies", self._ig_or(lambda req: ig_writes.reply(req, self.clock())),
             (), ig_comments),
            ("POST", f"{V}/{ID}/mentions", self._ig_or(lambda req: ig_writes.mention_reply(req, self.clock())),
             (), ig_comments),
            ("POST", f"{V}/{ID}", self._ig_or(ig_writes.hide, self.feed.hide), ("pages_manage_engagement",),
             ig_comments),
            ("GET", f"{V}/{ID}", self._object, (), ()),
        ):
            self.route(method, path, self._authed(handler, partial(self._refusal, needed, ig_needed)))

    # --- seeding ------------------------------------------------------------------------------
    def user(self, name: str) -> str:
        """The stable user id for a visitor name (created on first use)."""
        return self.page.user(name)

    def add_post(self, text: str, *, by: Author = None, created_at: datetime | None = None,
                 link: str | None = None) -> str:
        """A post on the Page: by the Page (`by=None`) or a visitor (name or (id, name)); with `link`,
        a link share of that URL."""
        with self._lock:
            return self.feed.add_post(text, by, created_at or self.clock(), link)

    def feed_webhook(self, post_id: str) -> dict[str, Any]:
        """The body Facebook POSTs to a `feed` subscriber when `post_id` is published."""
        with self._lock:
            change = self.feed.post_change(post_id)
        return {"object": "page", "entry": [{"id": self.page.id, "time": int(self.clock().timestamp()),
                                             "changes": [change]}]}

    def add_comment(self, object_id: str, author: Author, text: str, *, created_at: datetime | None = None) -> str:
        """A comment on a post, or a reply when `object_id` is a comment. `author=None` is the Page."""
        with self._lock:
            return self.feed.add_comment(object_id, author, text, created_at or self.clock())

    def add_messenger_message(self, psid: str, name: str, text: str, *,
                              created_at: datetime | None = None) -> str:
        """A message from a customer (PSID) to the Page; returns its mid."""
        with self._lock:
            self.names[psid] = name
            return self.messenger.append(psid, psid, self.page_id, text, created_at or self.clock())

    def tap_quick_reply(self, psid: str, index: int, *, at: datetime | None = None) -> dict[str, Any]:
        """The customer `psid` taps the `index`th quick reply the Page offered last: their message is
        the button's title (as polling reads it); returns the webhook body Graph POSTs for it."""
        with self._lock:
            now = at or self.clock()
            event = self.messenger.tap(psid, index, now)
        return {"object": "page", "entry": [{"id": self.page_id, "time": int(now.timestamp() * 1000),
                                             "messaging": [event]}]}

    def add_page_message(self, psid: str, text: str, *, created_at: datetime | None = None) -> str:
        """A message the Page sent to a customer (PSID) outside Parley, e.g. from the Inbox app."""
        with self._lock:
            return self.messenger.append(psid, self.page_id, psid, text, created_at or self.clock())

    def add_instagram_media(self, caption: str, *, by: str | None = None, created_at: datetime | None = None) -> str:
        """An Instagram post: the account's own (`by=None`), or another user's that tags/@mentions it."""
        with self._lock:
            return self.instagram.add_media(caption, created_at or self.clock(), by=by)

    def add_instagram_comment(self, object_id: str, username: str | None, text: str, *,
                              created_at: datetime | None = None) -> str:
        """A comment on Instagram media, or a reply to a comment; `username=None` is the account."""
        with self._lock:
            return self.instagram.add_comment(object_id, username, text, created_at or self.clock())

    def add_instagram_dm(self, username: str, text: str, *, created_at: datetime | None = None) -> str:
        """An Instagram DM from a customer to the account; returns its mid (`instagram.user(name)`: IGSID)."""
        with self._lock:
            return self.instagram.add_dm(username, text, created_at or self.clock())

    def fail_with_graph_error(self, path_regex: str, code: int, times: int = 1, subcode: int | None = None,
                              *, regain_minutes: int | None = None) -> None:
        """Answer the next `times` matching requests with a Graph rate-limit (4, 17, 32, 613) or
        token (190) error, with the usage headers Graph sends alongside."""
        response = wire.limit_error(code, self.page_id, subcode, regain_minutes)
        self.fail_next(path_regex, response.status, times=times, headers=response.headers, body=response.body)

    # --- handlers -----------------------------------------------------------------------------
    def expire_token(self, at: datetime | None = None) -> None:
        """The Page token expires at `at` (now by default): every call is then refused (190/463)."""
        self.token.expires_at = int((at or self.clock()).timestamp())

    def _refusal(self, facebook: tuple[str, ...], instagram: tuple[str, ...], req: Request) -> Response | None:
        """The missing permission for this request: Instagram's on the Instagram account's objects
        and its Direct threads, else Facebook's."""
        target = req.params.get("id", "")
        is_instagram = (self.instagram.owns(target) or req.args().get("platform") == "instagram"
                        or any(thread.id == target for thread in self.instagram.threads.values()))
        return self.tokens.missing(*(instagram if is_instagram else facebook))

    def _authed(self, handler: Handler, refusal: Callable[[Request], Response | None]) -> Handler:
        def checked(req: Request) -> Response | dict | list:
            token = req.args().get("access_token")
            if token is None:
                auth = req.headers.get("authorization", "")
                token = auth.partition(" ")[2] if auth.split(" ")[0] in ("OAuth", "Bearer") else None
            if token is None:
                return wire.graph_error(2500, "An active access token must be used to query information about "
                                              "the current user.")
            if not hmac.compare_digest(str(token), self.page_token):
                return wire.graph_error(190, "Invalid OAuth access token - Cannot parse access token")
            if self.token.expired(self.clock()):
                return expired_error(self.token.expires_at)
            with self._lock:
                result = refusal(req) or handler(req)
                response = result if isinstance(result, Response) else Response(200, result)
                if self.usage_percent is not None:
                    response.headers.setdefault("x-business-use-case-usage",
                                                wire.usage_header(self.page_id, self.usage_percent))
                return response
        return checked

    def _ig_or(self, instagram: Handler, facebook: Handler | None = None) -> Handler:
        """Instagram's handler for the account and its objects, else Facebook's (or Graph's 'missing')."""
        def either(req: Request) -> Response | dict | list:
            if self.instagram.owns(req.params["id"]):
                return instagram(req)
            return facebook(req) if facebook is not None else wire.missing(req.params["id"])
        return either

    def _conversations(self, req: Request) -> Response | dict:
        if req.args().get("platform") == "instagram" and req.params["id"] in (self.page_id, "me"):
            return self.instagram_writes.list_conversations(req)
        return self.messenger.list_conversations(req)

    def _messages(self, req: Request) -> Response | dict:
        thread = next((t for t in self.instagram.threads.values() if t.id == req.params["id"]), None)
        if thread is None:
            return self.messenger.list_messages(req)
        return self.instagram_writes.list_messages(req, thread)

    def _object(self, req: Request) -> Response | dict:
        object_id = req.params["id"]
        fields = wire.parse_fields(req.args().get("fields"))
        if object_id == self.instagram.id:
            return self.instagram.account(req)
        found = self.instagram.lookup(object_id, fields)
        if found is not None:
            return found
        if object_id in self.posts:
            return wire.select(self.feed.post_json(self.posts[object_id]), fields)
        if object_id in self.comments:
            return wire.select(self.feed.comment_json(self.comments[object_id]), fields)
        if object_id in self.names:
            return wire.select({"id": object_id, "name": self.names[object_id]}, fields or {"name": None})
        return wire.missing(object_id)

    def _send(self, req: Request) -> Response | dict:
        """POST /{page-id}/messages: a private reply when the recipient is a comment, else Messenger."""
        if req.params["id"] not in (self.page_id, "me"):
            return wire.missing(req.params["id"])
        args: dict[str, Any] = req.args()
        recipient, message = wire.json_arg(args.get("recipient")), wire.json_arg(args.get("message"))
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(recipient, dict) or not text:
            return wire.graph_error(100, "(#100) Param recipient and message[text] are required")
        offered = wire.quick_replies(message)
        if isinstance(offered, Response):
            return offered
        now = self.clock()
        if str(recipient.get("comment_id")) in self.instagram.comments:
            return self.instagram_writes.private_reply(str(recipient["comment_id"]), text, now)
        if str(recipient.get("id")) in self.instagram.threads:
            return self.instagram_writes.direct(str(recipient["id"]), text, args, now, offered)
        if "comment_id" in recipient:
            return self.feed.private_reply(str(recipient["comment_id"]), text, now)
        if "post_id" in recipient:
            return self.feed.private_reply_to_post(str(recipient["post_id"]), text, now)
        return self.messenger.send(str(recipient.get("id", "")), text, args, now, offered)
