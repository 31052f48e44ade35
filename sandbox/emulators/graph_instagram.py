"""The Graph emulator's Instagram: a professional account linked to the Page, as Graph serves it.

Media and their comments (two levels: a reply to a reply is filed under the top-level comment), media
that tag or @mention the account, Instagram DMs in the Page's `platform=instagram` conversations, and
the calls Parley makes, with Graph's rules and error codes:
- `POST /{ig-comment-id}/replies` (never to a hidden comment), `POST /{ig-comment-id}?hide=…`,
  `POST /{ig-user-id}/mentions` (media_id [+ comment_id] of a mention) — reference/ig-comment/replies,
  guides/comment-moderation, reference/ig-user/mentions;
- `POST /{page-id}/messages`: `recipient: {comment_id}` once per comment within 7 days (10900, 10903),
  `recipient: {id}` with RESPONSE within 24 h of the customer's last message or MESSAGE_TAG HUMAN_AGENT
  within 7 days (10/2018278) — instagram-messaging features/private-replies and overview;
- a token without the permission an endpoint needs gets (#10)/(#200) — instagram_basic to read,
  instagram_manage_comments for comments and mentions, instagram_manage_messages for DMs.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.emulators import graph_wire as wire
from sandbox.emulators.graph_page import Page
from sandbox.emulators.server import Request, Response

PRIVATE_REPLY_WINDOW, STANDARD_WINDOW, HUMAN_AGENT_WINDOW = timedelta(days=7), timedelta(hours=24), timedelta(days=7)
PERMISSIONS = frozenset({"instagram_basic", "instagram_manage_comments", "instagram_manage_messages",
                         "pages_show_list", "pages_read_engagement", "pages_manage_metadata"})


@dataclass
class Media:
    id: str
    owner: str  # username
    caption: str
    created: datetime
    own: bool  # the account's own media (else someone else's that tags or @mentions it)


@dataclass
class IgComment:
    id: str
    media_id: str
    parent_id: str | None
    from_id: str
    username: str
    text: str
    created: datetime
    hidden: bool = False


@dataclass
class Dm:
    id: str
    from_id: str
    text: str
    created: datetime


@dataclass
class Thread:
    id: str
    igsid: str
    messages: list[Dm] = field(default_factory=list)


class Instagram:
    """One account. Seed it with `add_media`, `add_comment`, `add_dm`; read what Parley sent from
    `comment_replies`, `mention_replies`, `private_replies`, `sent_messages` and `hidden`."""

    def __init__(self, page: Page, account_id: str, username: str) -> None:
        self.page, self.id, self.username = page, account_id, username
        self.media: dict[str, Media] = {}
        self.comments: dict[str, IgComment] = {}
        self.threads: dict[str, Thread] = {}  # by IGSID
        self.users: dict[str, str] = {}  # IGSID -> username
        self.permissions = set(PERMISSIONS)
        self.comment_replies: list[dict[str, Any]] = []
        self.mention_replies: list[dict[str, Any]] = []
        self.private_replies: list[dict[str, Any]] = []
        self.sent_messages: list[dict[str, Any]] = []
        self.hidden: list[str] = []

    def _id(self) -> str:
        return str(17_900_000_000_000_000 + next(self.page.seq))

    # --- seeding ------------------------------------------------------------------------------
    def user(self, username: str) -> str:
        """The stable IGSID of a username (created on first use)."""
        for igsid, name in self.users.items():
            if name == username:
                return igsid
        igsid = str(6_100_000_000_000_000 + len(self.users) + 1)
        self.users[igsid] = username
        return igsid

    def add_media(self, caption: str, created: datetime, *, by: str | None = None) -> str:
        """The account's own post (`by=None`), or someone else's that tags or @mentions the account."""
        media = Media(self._id(), by or self.username, caption, created, own=by is None)
        self.media[media.id] = media
        return media.id

    def add_comment(self, object_id: str, username: str | None, text: str, created: datetime) -> str:
        """A comment on media, or a reply when `object_id` is a comment (filed under the top level)."""
        parent = self.comments.get(object_id)
        top = (parent.parent_id or parent.id) if parent else None
        media_id = parent.media_id if parent else object_id
        if media_id not in self.media:
            raise KeyError(object_id)
        from_id = self.id if username is None else self.user(username)
        comment = IgComment(self._id(), media_id, top, from_id, username or self.username, text, created)
        self.comments[comment.id] = comment
        return comment.id

    def add_dm(self, username: str, text: str, created: datetime, *, from_account: bool = False) -> str:
        igsid = self.user(username)
        thread = self.threads.setdefault(igsid, Thread(f"aWdf{next(self.page.seq)}", igsid))
        dm = Dm("aWdfbWlk" + secrets.token_urlsafe(24), self.id if from_account else igsid, text, created)
        thread.messages.append(dm)
        thread.messages.sort(key=lambda m: m.created)
        return dm.id

    # --- rendering ----------------------------------------------------------------------------
    def media_json(self, media: Media) -> dict[str, Any]:
        return {"id": media.id, "caption": media.caption, "timestamp": wire.graph_time(media.created),
                "username": media.owner, "permalink": f"https://www.instagram.com/p/{media.id}/"}

    def comment_json(self, c: IgComment, nested: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"id": c.id, "text": c.text, "timestamp": wire.graph_time(c.created),
                                "username": c.username, "from": {"id": c.from_id, "username": c.username},
                                "media": {"id": c.media_id}, "hidden": c.hidden}
        if c.parent_id:
            body["parent_id"] = c.parent_id
        replies = [r for r in self.comments.values() if r.parent_id == c.id]
        body["replies"] = {"data": [wire.select(self.comment_json(r), wire.parse_fields(nested)) for r in replies]}
        return body

    def dm_json(self, dm: Dm) -> dict[str, Any]:
        who = {"id": dm.from_id, "username": self.username if dm.from_id == self.id else self.users[dm.from_id]}
        return {"id": dm.id, "message": dm.text, "from": who, "created_time": wire.graph_time(dm.created)}

    def owns(self, object_id: str) -> bool:
        return object_id == self.id or object_id in self.media or object_id in self.comments \
            or any(t.id == object_id for t in self.threads.values()) or object_id in self.users

    def refused(self, permission: str) -> Response | None:
        """Graph's permission error when the token lacks `permission`, else None."""
        if permission in self.permissions:
            return None
        return wire.graph_error(10, f"(#10) Application does not have permission for this action "
                                    f"(requires {permission})")

    # --- reads --------------------------------------------------------------------------------
    def list_media(self, req: Request) -> Response | dict:
        own = sorted((m for m in self.media.values() if m.own), key=lambda m: m.created, reverse=True)
        fields = wire.parse_fields(req.args().get("fields"))
        return self.refused("instagram_basic") or wire.page(
            req, [wire.select(self.media_json(m), fields) for m in own], self.page.base_url())

    def list_tags(self, req: Request) -> Response | dict:
        """Media that tags the account, newest first (`GET /{ig-user-id}/tags`)."""
        others = sorted((m for m in self.media.values() if not m.own), key=lambda m: m.created, reverse=True)
        fields = wire.parse_fields(req.args().get("fields"))
        return self.refused("instagram_basic") or wire.page(
            req, [wire.select(self.media_json(m), fields) for m in others], self.page.base_url())

    def list_comments(self, req: Request) -> Response | dict:
        """Top-level comments on media, newest first; each reply through `replies{…}` (or `/replies`)."""
        object_id, fields = req.params["id"], wire.parse_fields(req.args().get("fields"))
        nested = (fields or {}).get("replies")
        top = [c for c in self.comments.values()
               if (c.media_id == object_id and c.parent_id is None) or c.parent_id == object_id]
        top.sort(key=lambda c: c.created, reverse=object_id in self.media)
        return self.refused("instagram_manage_comments") or wire.page(
            req, [wire.select(self.comment_json(c, nested), fields) for c in top], self.page.base_url())

    def account(self, req: Request) -> Response | dict:
        """`GET /{ig-user-id}`, with `mentioned_media.media_id(…)` / `mentioned_comment.comment_id(…)`."""
        spec = req.args().get("fields") or "id,username"
        found = re.match(r"mentioned_(media|comment)\.(?:media|comment)_id\((\w+)\)\{?([^}]*)\}?", spec)
        if found is None:
            return {"id": self.id, "username": self.username}
        kind, object_id, nested = found.groups()
        fields = wire.parse_fields(nested)
        if kind == "media" and object_id in self.media and not self.media[object_id].own:
            return {"id": self.id, "mentioned_media": wire.select(self.media_json(self.media[object_id]), fields)}
        comment = self.comments.get(object_id)
        if kind == "comment" and comment is not None and f"@{self.username}" in comment.text:
            return {"id": self.id, "mentioned_comment": wire.select(self.comment_json(comment), fields)}
        return wire.missing(object_id)

    def lookup(self, object_id: str, fields: wire.Fields | None) -> dict[str, Any] | None:
        if object_id in self.comments:
            return wire.select(self.comment_json(self.comments[object_id]), fields)
        if object_id in self.media:
            return wire.select(self.media_json(self.media[object_id]), fields)
        if object_id in self.users:
            return wire.select({"id": object_id, "username": self.users[object_id]}, fields)
        return None


# --- webhook deliveries (object: instagram), as Meta sends them to the Page's callback URL ----------
def webhook(account_id: str, sent: datetime, *, changes: list[dict[str, Any]] | None = None,
            messaging: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": account_id, "time": int(sent.timestamp())}
    if changes is not None:
        entry["changes"] = changes
    if messaging is not None:
        entry["messaging"] = messaging
    return {"object": "instagram", "entry": [entry]}


def comment_change(ig: Instagram, comment_id: str) -> dict[str, Any]:
    """The `comments` field for a seeded comment (docs/graph-api/webhooks/reference/instagram)."""
    c = ig.comments[comment_id]
    value: dict[str, Any] = {"id": c.id, "text": c.text, "from": {"id": c.from_id, "username": c.username},
                             "media": {"id": c.media_id, "media_product_type": "FEED"}}
    if c.parent_id:
        value["parent_id"] = c.parent_id
    return {"field": "comments", "value": value}


def mention_change(media_id: str, comment_id: str | None = None) -> dict[str, Any]:
    """The `mentions` field: ids only (the text is read through mentioned_media / mentioned_comment)."""
    return {"field": "mentions", "value": {"media_id": media_id, **({"comment_id": comment_id} if comment_id else {})}}


def dm_event(ig: Instagram, igsid: str, mid: str) -> dict[str, Any]:
    """A `messages` event for a seeded DM."""
    dm = next(m for m in ig.threads[igsid].messages if m.id == mid)
    return {"sender": {"id": igsid}, "recipient": {"id": ig.id}, "timestamp": int(dm.created.timestamp() * 1000),
            "message": {"mid": dm.id, "text": dm.text}}
