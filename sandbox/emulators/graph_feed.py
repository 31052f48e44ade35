"""The Graph emulator's Page feed: posts, comments and replies, and private replies to comments.

Facebook keeps two levels of comments (a reply to a reply joins its top-level comment's thread), a
new comment bumps its post's `updated_time`, and a comment gets at most one private reply, only
within 7 days and never to the Page's own comment.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sandbox.emulators import graph_wire as wire
from sandbox.emulators.graph_page import Author, Page
from sandbox.emulators.server import Request, Response

PRIVATE_REPLY_DAYS = 7


@dataclass
class Post:
    id: str
    author_id: str
    text: str
    created: datetime
    updated: datetime
    link: str | None = None  # a link share: the URL the author shared (not the post's own address)


@dataclass
class Comment:
    id: str
    post_id: str
    parent_id: str | None  # the top-level comment a reply belongs to (Facebook keeps two levels)
    author_id: str
    text: str
    created: datetime
    hidden: bool = False


class Feed:
    """The Page's posts and comments; `comment_replies` and `private_replies` record what was sent."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.posts: dict[str, Post] = {}
        self.comments: dict[str, Comment] = {}
        self.comment_replies: list[dict[str, Any]] = []
        self.private_replies: list[dict[str, Any]] = []
        self.hidden: list[str] = []  # comment ids hidden through the API, in order

    # --- seeding ------------------------------------------------------------------------------
    def add_post(self, text: str, by: Author, created: datetime, link: str | None = None) -> str:
        post = Post(f"{self.page.id}_{next(self.page.seq)}", self.page.author(by), text, created, created, link)
        self.posts[post.id] = post
        return post.id

    def add_comment(self, object_id: str, author: Author, text: str, created: datetime) -> str:
        """A comment on a post, or a reply when `object_id` is a comment. `author=None` is the Page."""
        if object_id in self.comments:
            target = self.comments[object_id]
            post_id, parent_id = target.post_id, target.parent_id or target.id
        else:
            post_id, parent_id = self.posts[object_id].id, None
        comment_id = f"{post_id.split('_')[1]}_{next(self.page.seq) + 500_000}"
        self.comments[comment_id] = Comment(comment_id, post_id, parent_id, self.page.author(author), text,
                                            created)
        post = self.posts[post_id]
        post.updated = max(post.updated, created)  # Graph bumps a post's updated_time on new comments
        return comment_id

    # --- rendering ----------------------------------------------------------------------------
    def post_json(self, post: Post) -> dict[str, Any]:
        """A Post as Graph returns it: `permalink_url` is the post's own address, `link` (link shares
        only) the URL that was shared (https://developers.facebook.com/docs/graph-api/reference/post/)."""
        body = {"id": post.id, "message": post.text, "from": self.page.who(post.author_id),
                "created_time": wire.graph_time(post.created), "updated_time": wire.graph_time(post.updated),
                "permalink_url": f"https://www.facebook.com/{self.page.id}/posts/{post.id.split('_')[1]}"}
        if post.link is not None:
            body["link"] = post.link
        return body

    def post_change(self, post_id: str) -> dict[str, Any]:
        """The `feed` change a webhook delivers for a new post: `item` is "link" for a link share, with
        the shared URL in `link`; the change carries no permalink."""
        post = self.posts[post_id]
        value: dict[str, Any] = {"from": self.page.who(post.author_id), "post_id": post.id, "verb": "add",
                                 "item": "link" if post.link else "status", "message": post.text,
                                 "created_time": int(post.created.timestamp()), "published": 1}
        if post.link:
            value["link"] = post.link
        return {"field": "feed", "value": value}

    def comment_json(self, comment: Comment) -> dict[str, Any]:
        post = self.posts[comment.post_id]
        url = self.post_json(post)["permalink_url"] + f"?comment_id={comment.id.split('_')[1]}"
        body = {"id": comment.id, "message": comment.text, "from": self.page.who(comment.author_id),
                "created_time": wire.graph_time(comment.created), "permalink_url": url}
        if comment.parent_id:
            parent = self.comments[comment.parent_id]
            body["parent"] = {"id": parent.id, "message": parent.text, "from": self.page.who(parent.author_id),
                              "created_time": wire.graph_time(parent.created)}
            body["permalink_url"] = url + f"&reply_comment_id={comment.id.split('_')[1]}"
        return body

    # --- endpoints ----------------------------------------------------------------------------
    def feed(self, req: Request) -> Response | dict:
        """GET /{page-id}/feed, newest first, filtered by `since`/`until`."""
        if req.params["id"] not in (self.page.id, "me"):
            return wire.missing(req.params["id"])
        args = req.args()
        since, until = wire.since(args.get("since")), wire.since(args.get("until"))
        posts = sorted(self.posts.values(), key=lambda p: p.created, reverse=True)
        posts = [p for p in posts
                 if (since is None or p.created >= since) and (until is None or p.created <= until)]
        fields = wire.parse_fields(args.get("fields")) or {"message": None, "created_time": None}
        return wire.page(req, [wire.select(self.post_json(p), fields) for p in posts], self.page.base_url())

    def list_comments(self, req: Request) -> Response | dict:
        """GET /{post-id}/comments (top level, or every level with `filter=stream`) or
        /{comment-id}/comments (its replies)."""
        object_id, args = req.params["id"], req.args()
        if object_id in self.posts:
            pool = [c for c in self.comments.values() if c.post_id == object_id]
            if args.get("filter") != "stream":
                pool = [c for c in pool if c.parent_id is None]
        elif object_id in self.comments:
            pool = [c for c in self.comments.values() if c.parent_id == object_id]
        else:
            return wire.missing(object_id)
        since = wire.since(args.get("since"))
        pool = [c for c in pool if since is None or c.created >= since]
        pool.sort(key=lambda c: c.created, reverse=args.get("order") == "reverse_chronological")
        fields = wire.parse_fields(args.get("fields")) or {"created_time": None, "from": None, "message": None}
        return wire.page(req, [wire.select(self.comment_json(c), fields) for c in pool], self.page.base_url())

    def reply_comment(self, req: Request) -> Response | dict:
        """POST /{comment-id}/comments (a reply in its thread) or /{post-id}/comments (a new comment,
        how a Page answers a visitor post)."""
        comment_id, text = req.params["id"], req.args().get("message") or ""
        if comment_id not in self.comments and comment_id not in self.posts:
            return wire.missing(comment_id)
        if not text:
            return wire.graph_error(100, "(#100) Missing message or attachment", type_="GraphMethodException")
        new_id = self.add_comment(comment_id, None, text, self.page.clock())
        self.comment_replies.append({"comment_id": comment_id, "text": text, "id": new_id})
        return {"id": new_id}

    def hide(self, req: Request) -> Response | dict:
        """POST /{comment-id}?is_hidden=true|false (graph-api/changelog/version2.2); the Page's own
        comments cannot be hidden (`can_hide` is false on them)."""
        comment, hidden = self.comments.get(req.params["id"]), req.args().get("is_hidden")
        if comment is None or comment.author_id == self.page.id:
            return wire.unsupported_post(req.params["id"])
        if hidden not in ("true", "false"):
            return wire.graph_error(100, "(#100) The parameter is_hidden is required", type_="GraphMethodException")
        comment.hidden = hidden == "true"
        if comment.hidden:
            self.hidden.append(comment.id)
        return {"success": True}

    def private_reply_to_post(self, post_id: str, text: str, now: datetime) -> Response | dict:
        """A Messenger send addressed to `{"post_id"}`: to a visitor post's author, once, within 7 days
        (https://developers.facebook.com/docs/messenger-platform/discovery/private-replies)."""
        post = self.posts.get(post_id)
        if post is None:
            return wire.missing(post_id)
        if any(r.get("post_id") == post_id for r in self.private_replies):
            return wire.graph_error(10900, "Activity already replied to", type_="OAuthException")
        if now - post.created > timedelta(days=PRIVATE_REPLY_DAYS) or post.author_id == self.page.id:
            return wire.graph_error(10903, "This user can't reply to this activity")
        mid = "m_" + secrets.token_urlsafe(40)
        self.private_replies.append({"post_id": post_id, "comment_id": None, "text": text, "message_id": mid,
                                     "recipient_id": post.author_id})
        return {"recipient_id": post.author_id, "message_id": mid}

    def private_reply(self, comment_id: str, text: str, now: datetime) -> Response | dict:
        """A Messenger send addressed to `{"comment_id"}`: once per comment, within 7 days."""
        comment = self.comments.get(comment_id)
        if comment is None:
            return wire.missing(comment_id)
        if any(r["comment_id"] == comment_id for r in self.private_replies):
            return wire.graph_error(10900, "Activity already replied to", type_="OAuthException")
        if now - comment.created > timedelta(days=PRIVATE_REPLY_DAYS) or comment.author_id == self.page.id:
            return wire.graph_error(10903, "This user can't reply to this activity")
        mid = "m_" + secrets.token_urlsafe(40)
        self.private_replies.append({"comment_id": comment_id, "text": text, "message_id": mid,
                                     "recipient_id": comment.author_id})
        return {"recipient_id": comment.author_id, "message_id": mid}
