"""A loopback emulator of the slice of the Facebook Graph API that Parley uses.

One Page, its feed (the Page's own posts and visitor posts), comments and replies, Messenger
conversations, and the send endpoints with the rules Graph enforces: one private reply per comment,
no private reply to a comment older than 7 days, Messenger's 24-hour window, and the HUMAN_AGENT
tag's 7 days. Objects, paging and errors have Graph's shapes, so the real facebook-sdk client
works against it unchanged (pointed here through the base-URL setting).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sandbox.emulators.server import Emulator, Handler, Request, Response

V = r"/v\d+\.\d+"
ID = r"(?P<id>[^/]+)"
RATE_LIMIT_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
}
PRIVATE_REPLY_DAYS = 7
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


def graph_time(moment: datetime) -> str:
    """Graph's timestamp format: `2024-05-01T12:34:56+0000`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def sign_webhook(body: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` header Facebook sends with a webhook delivery of `body`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def graph_error(
    code: int, message: str, *, subcode: int | None = None, status: int = 400, type_: str = "OAuthException"
) -> Response:
    error: dict[str, Any] = {"message": message, "type": type_, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(15)
    return Response(status, {"error": error}, {"www-authenticate": f'OAuth "Facebook Platform" "{type_}"'})


def _parse_fields(spec: str | None) -> dict[str, str | None] | None:
    """`id,messages.limit(5){id,message}` -> {"id": None, "messages.limit(5)": "id,message"}."""
    if not spec:
        return None
    parts, depth, token = [], 0, ""
    for char in spec:
        depth += char in "{("
        depth -= char in "})"
        if char == "," and depth == 0:
            parts.append(token)
            token = ""
        else:
            token += char
    parts.append(token)
    fields: dict[str, str | None] = {}
    for part in filter(None, (p.strip() for p in parts)):
        name, _, nested = part.partition("{")
        fields[name] = nested[:-1] if nested else None
    return fields


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    if value.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    return datetime.fromisoformat(value)


@dataclass
class _Post:
    id: str
    author_id: str
    text: str
    created: datetime
    updated: datetime


@dataclass
class _Comment:
    id: str
    post_id: str
    parent_id: str | None  # the top-level comment a reply belongs to (Facebook keeps two levels)
    author_id: str
    text: str
    created: datetime


@dataclass
class _Message:
    id: str
    from_id: str
    to_id: str
    text: str
    created: datetime


@dataclass
class _Conversation:
    id: str
    psid: str
    messages: list[_Message]


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
        clock: Callable[[], datetime] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self.page_id, self.page_name, self.page_token = page_id, page_name, page_token
        self.clock = clock or (lambda: datetime.now(UTC))
        self.names: dict[str, str] = {page_id: page_name}
        self.posts: dict[str, _Post] = {}
        self.comments: dict[str, _Comment] = {}
        self.conversations: dict[str, _Conversation] = {}  # by PSID
        self.comment_replies: list[dict[str, Any]] = []
        self.private_replies: list[dict[str, Any]] = []
        self.sent_messages: list[dict[str, Any]] = []
        self._seq = itertools.count(1)
        self._user_ids = itertools.count(7_310_000_000_000_001)
        self._by_name: dict[str, str] = {}
        for method, path, handler in (
            ("GET", f"{V}/{ID}/feed", self._feed),
            ("GET", f"{V}/{ID}/comments", self._comments),
            ("POST", f"{V}/{ID}/comments", self._reply_comment),
            ("GET", f"{V}/{ID}/conversations", self._conversations),
            ("GET", f"{V}/{ID}/messages", self._messages),
            ("POST", f"{V}/{ID}/messages", self._send),
            ("GET", f"{V}/{ID}", self._object),
        ):
            self.route(method, path, self._authed(handler))

    # --- seeding ------------------------------------------------------------------------------
    def user(self, name: str) -> str:
        """The stable user id for a visitor name (created on first use)."""
        if name not in self._by_name:
            self._by_name[name] = str(next(self._user_ids))
            self.names[self._by_name[name]] = name
        return self._by_name[name]

    def _author(self, author: str | tuple[str, str] | None) -> str:
        if author is None:
            return self.page_id
        if isinstance(author, tuple):
            self.names[author[0]] = author[1]
            return author[0]
        return self.user(author)

    def add_post(self, text: str, *, by: str | tuple[str, str] | None = None,
                 created_at: datetime | None = None) -> str:
        """A post on the Page: by the Page (`by=None`) or a visitor (name or (id, name))."""
        with self._lock:
            created = created_at or self.clock()
            post = _Post(f"{self.page_id}_{next(self._seq)}", self._author(by), text, created, created)
            self.posts[post.id] = post
            return post.id

    def add_comment(self, object_id: str, author: str | tuple[str, str] | None, text: str, *,
                    created_at: datetime | None = None) -> str:
        """A comment on a post, or a reply when `object_id` is a comment. `author=None` is the Page."""
        with self._lock:
            created = created_at or self.clock()
            if object_id in self.comments:
                target = self.comments[object_id]
                post_id, parent_id = target.post_id, target.parent_id or target.id
            else:
                post_id, parent_id = self.posts[object_id].id, None
            comment_id = f"{post_id.split('_')[1]}_{next(self._seq) + 500_000}"
            self.comments[comment_id] = _Comment(comment_id, post_id, parent_id, self._author(author), text,
                                                 created)
            post = self.posts[post_id]
            post.updated = max(post.updated, created)  # Graph bumps a post's updated_time on new comments
            return comment_id

    def add_messenger_message(self, psid: str, name: str, text: str, *,
                              created_at: datetime | None = None) -> str:
        """A message from a customer (PSID) to the Page; returns its mid."""
        with self._lock:
            self.names[psid] = name
            return self._append_message(psid, psid, self.page_id, text, created_at or self.clock())

    def add_page_message(self, psid: str, text: str, *, created_at: datetime | None = None) -> str:
        """A message the Page sent to a customer (PSID) outside Parley, e.g. from the Inbox app."""
        with self._lock:
            return self._append_message(psid, self.page_id, psid, text, created_at or self.clock())

    def fail_with_graph_error(self, path_regex: str, code: int, times: int = 1, subcode: int | None = None,
                              *, regain_minutes: int | None = None) -> None:
        """Answer the next `times` matching requests with a Graph rate-limit (4, 17, 32, 613) or
        token (190) error, with the usage headers Graph sends alongside."""
        if code == 190:
            response = graph_error(190, "Error validating access token: Session has expired.",
                                   subcode=subcode if subcode is not None else 463)
        else:
            response = graph_error(code, RATE_LIMIT_MESSAGES.get(code, f"(#{code}) Error"), subcode=subcode)
            usage: dict[str, Any] = {"call_count": 100, "total_cputime": 100, "total_time": 100}
            if code in (4, 17):
                response.headers["x-app-usage"] = json.dumps(usage)
            else:
                if regain_minutes is not None:
                    usage["estimated_time_to_regain_access"] = regain_minutes
                response.headers["x-business-use-case-usage"] = json.dumps(
                    {self.page_id: [{"type": "pages", **usage}]})
        self.fail_next(path_regex, response.status, times=times, headers=response.headers, body=response.body)

    # --- rendering ----------------------------------------------------------------------------
    def _who(self, user_id: str) -> dict[str, str]:
        return {"name": self.names.get(user_id, "Facebook User"), "id": user_id}

    def _post_json(self, post: _Post) -> dict[str, Any]:
        return {"id": post.id, "message": post.text, "from": self._who(post.author_id),
                "created_time": graph_time(post.created), "updated_time": graph_time(post.updated),
                "permalink_url": f"https://www.facebook.com/{self.page_id}/posts/{post.id.split('_')[1]}"}

    def _comment_json(self, comment: _Comment) -> dict[str, Any]:
        post = self.posts[comment.post_id]
        url = self._post_json(post)["permalink_url"] + f"?comment_id={comment.id.split('_')[1]}"
        body = {"id": comment.id, "message": comment.text, "from": self._who(comment.author_id),
                "created_time": graph_time(comment.created), "permalink_url": url}
        if comment.parent_id:
            parent = self.comments[comment.parent_id]
            body["parent"] = {"id": parent.id, "message": parent.text, "from": self._who(parent.author_id),
                              "created_time": graph_time(parent.created)}
            body["permalink_url"] = url + f"&reply_comment_id={comment.id.split('_')[1]}"
        return body

    def _message_json(self, message: _Message) -> dict[str, Any]:
        def who(uid: str) -> dict[str, str]:
            return {**self._who(uid), "email": f"{uid}@facebook.com"}
        return {"id": message.id, "message": message.text, "from": who(message.from_id),
                "to": {"data": [who(message.to_id)]}, "created_time": graph_time(message.created)}

    def _conversation_json(self, conv: _Conversation, req: Request,
                           fields: dict[str, str | None]) -> dict[str, Any]:
        body: dict[str, Any] = {"id": conv.id, "updated_time": graph_time(conv.messages[-1].created)}
        if "participants" in fields:
            body["participants"] = {"data": [{**self._who(uid), "email": f"{uid}@facebook.com"}
                                             for uid in (conv.psid, self.page_id)]}
        for name, nested in fields.items():
            if name.split(".")[0] == "messages":
                limit = name.partition(".limit(")[2].rstrip(")") or "25"
                items = [self._message_json(m) for m in reversed(conv.messages)]
                page = self._page(req, [_select(m, _parse_fields(nested)) for m in items], limit=int(limit),
                                  nested=True)
                body["messages"] = page
        return body

    def _page(self, req: Request, items: list[dict[str, Any]], *, limit: int | None = None,
              nested: bool = False) -> dict[str, Any]:
        """Graph's cursor paging: `data`, `paging.cursors.before/after` and (top level) `paging.next`."""
        args = req.args()
        limit = min(limit or int(args.get("limit") or 25), 100)
        after = None if nested else args.get("after")
        start = int(base64.b64decode(after).decode()) if after else 0
        chunk = items[start:start + limit]
        body: dict[str, Any] = {"data": chunk}
        if chunk:
            def enc(n: int) -> str:
                return base64.b64encode(str(n).encode()).decode()
            paging: dict[str, Any] = {"cursors": {"before": enc(start), "after": enc(start + len(chunk))}}
            if start + len(chunk) < len(items) and not nested:
                query = {k: v for k, v in req.query.items() if k != "before"}
                query["after"] = enc(start + len(chunk))
                paging["next"] = f"{self.base_url}{req.path}?{urlencode(query)}"
            body["paging"] = paging
        return body

    # --- handlers -----------------------------------------------------------------------------
    def _authed(self, handler: Handler) -> Handler:
        def checked(req: Request) -> Response | dict | list:
            token = req.args().get("access_token")
            if token is None:
                auth = req.headers.get("authorization", "")
                token = auth.partition(" ")[2] if auth.split(" ")[0] in ("OAuth", "Bearer") else None
            if token is None:
                return graph_error(2500, "An active access token must be used to query information about "
                                         "the current user.")
            if not hmac.compare_digest(str(token), self.page_token):
                return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
            with self._lock:
                return handler(req)
        return checked

    def _missing(self, object_id: str) -> Response:
        return graph_error(100, f"Unsupported get request. Object with ID '{object_id}' does not exist, "
                                "cannot be loaded due to missing permissions, or does not support this "
                                "operation.", subcode=33, type_="GraphMethodException")

    def _feed(self, req: Request) -> Response | dict:
        if req.params["id"] not in (self.page_id, "me"):
            return self._missing(req.params["id"])
        args = req.args()
        since, until = _since(args.get("since")), _since(args.get("until"))
        posts = sorted(self.posts.values(), key=lambda p: p.created, reverse=True)
        posts = [p for p in posts
                 if (since is None or p.created >= since) and (until is None or p.created <= until)]
        fields = _parse_fields(args.get("fields")) or {"message": None, "created_time": None}
        return self._page(req, [_select(self._post_json(p), fields) for p in posts])

    def _comments(self, req: Request) -> Response | dict:
        object_id, args = req.params["id"], req.args()
        if object_id in self.posts:
            pool = [c for c in self.comments.values() if c.post_id == object_id]
            if args.get("filter") != "stream":
                pool = [c for c in pool if c.parent_id is None]
        elif object_id in self.comments:
            pool = [c for c in self.comments.values() if c.parent_id == object_id]
        else:
            return self._missing(object_id)
        since = _since(args.get("since"))
        pool = [c for c in pool if since is None or c.created >= since]
        pool.sort(key=lambda c: c.created, reverse=args.get("order") == "reverse_chronological")
        fields = _parse_fields(args.get("fields")) or {"created_time": None, "from": None, "message": None}
        return self._page(req, [_select(self._comment_json(c), fields) for c in pool])

    def _conversations(self, req: Request) -> Response | dict:
        if req.params["id"] not in (self.page_id, "me"):
            return self._missing(req.params["id"])
        if req.args().get("platform", "messenger") != "messenger":
            return {"data": []}  # Instagram conversations are not emulated
        fields = _parse_fields(req.args().get("fields")) or {"updated_time": None}
        convs = sorted(self.conversations.values(), key=lambda c: c.messages[-1].created, reverse=True)
        return self._page(req, [self._conversation_json(c, req, fields) for c in convs])

    def _messages(self, req: Request) -> Response | dict:
        conv = next((c for c in self.conversations.values() if c.id == req.params["id"]), None)
        if conv is None:
            return self._missing(req.params["id"])
        fields = _parse_fields(req.args().get("fields")) or {"created_time": None}
        return self._page(req, [_select(self._message_json(m), fields) for m in reversed(conv.messages)])

    def _object(self, req: Request) -> Response | dict:
        object_id = req.params["id"]
        fields = _parse_fields(req.args().get("fields"))
        if object_id in self.posts:
            return _select(self._post_json(self.posts[object_id]), fields)
        if object_id in self.comments:
            return _select(self._comment_json(self.comments[object_id]), fields)
        if object_id in self.names:
            return _select({"id": object_id, "name": self.names[object_id]}, fields or {"name": None})
        return self._missing(object_id)

    def _reply_comment(self, req: Request) -> Response | dict:
        """POST /{comment-id}/comments (a reply in its thread) or /{post-id}/comments (a new comment,
        how a Page answers a visitor post)."""
        comment_id, text = req.params["id"], req.args().get("message") or ""
        if comment_id not in self.comments and comment_id not in self.posts:
            return self._missing(comment_id)
        if not text:
            return graph_error(100, "(#100) Missing message or attachment", type_="GraphMethodException")
        new_id = self.add_comment(comment_id, None, text, created_at=self.clock())
        self.comment_replies.append({"comment_id": comment_id, "text": text, "id": new_id})
        return {"id": new_id}

    def _send(self, req: Request) -> Response | dict:
        if req.params["id"] not in (self.page_id, "me"):
            return self._missing(req.params["id"])
        args = req.args()
        recipient, message = _json_arg(args.get("recipient")), _json_arg(args.get("message"))
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(recipient, dict) or not text:
            return graph_error(100, "(#100) Param recipient and message[text] are required")
        now = self.clock()
        if "comment_id" in recipient:
            return self._private_reply(str(recipient["comment_id"]), text, now)
        psid = str(recipient.get("id", ""))
        conv = self.conversations.get(psid)
        if conv is None:
            return graph_error(100, "(#100) No matching user found", subcode=2018001)
        messaging_type, tag = args.get("messaging_type"), args.get("tag")
        last_in = max(m.created for m in conv.messages if m.from_id == psid)
        if messaging_type in ("RESPONSE", "UPDATE"):
            window = STANDARD_WINDOW
        elif messaging_type == "MESSAGE_TAG" and tag == "HUMAN_AGENT":
            window = HUMAN_AGENT_WINDOW
        elif messaging_type == "MESSAGE_TAG":
            return graph_error(100, f"(#100) Invalid tag: {tag}", subcode=2018102)
        else:
            return graph_error(100, "(#100) The parameter messaging_type is required")
        if now - last_in > window:
            return graph_error(10, "(#10) This message is sent outside of allowed window.", subcode=2018278,
                               status=400)
        mid = self._append_message(psid, self.page_id, psid, text, now)
        self.sent_messages.append({"psid": psid, "text": text, "messaging_type": messaging_type, "tag": tag,
                                   "message_id": mid})
        return {"recipient_id": psid, "message_id": mid}

    def _private_reply(self, comment_id: str, text: str, now: datetime) -> Response | dict:
        comment = self.comments.get(comment_id)
        if comment is None:
            return self._missing(comment_id)
        if any(r["comment_id"] == comment_id for r in self.private_replies):
            return graph_error(10900, "Activity already replied to", type_="OAuthException")
        if now - comment.created > timedelta(days=PRIVATE_REPLY_DAYS) or comment.author_id == self.page_id:
            return graph_error(10903, "This user can't reply to this activity")
        mid = "m_" + secrets.token_urlsafe(40)
        self.private_replies.append({"comment_id": comment_id, "text": text, "message_id": mid,
                                     "recipient_id": comment.author_id})
        return {"recipient_id": comment.author_id, "message_id": mid}

    def _append_message(self, psid: str, from_id: str, to_id: str, text: str, created: datetime) -> str:
        conv = self.conversations.setdefault(psid, _Conversation(f"t_{next(self._seq) + 10**15}", psid, []))
        message = _Message("m_" + secrets.token_urlsafe(40), from_id, to_id, text, created)
        conv.messages.append(message)
        conv.messages.sort(key=lambda m: m.created)
        return message.id


def _json_arg(value: Any) -> Any:
    """facebook-sdk form-encodes parameters, so nested values arrive as JSON strings."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _select(obj: dict[str, Any], fields: dict[str, str | None] | None) -> dict[str, Any]:
    """Keep `id` plus the requested fields that the object has, like Graph's `fields=`."""
    if fields is None:
        return obj
    wanted = {name.split(".")[0] for name in fields} | {"id"}
    return {k: v for k, v in obj.items() if k in wanted}
