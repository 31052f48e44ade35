"""What the Graph emulator's Instagram accepts from Parley, with Graph's refusals: public replies
under comments and @mentions, hiding comments, and the Page's Instagram conversations and sends.

Replies (reference/ig-comment/replies): only to top-level comments — a reply to a reply is filed
under its top-level comment — and never to a hidden one. Private replies (instagram-messaging
features/private-replies): "a single message", "within 7 days of when the comment was created".
DMs (instagram-messaging overview): 24 hours after the customer's last message, or 7 days with the
HUMAN_AGENT tag; the error codes are the Messenger Platform's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.emulators import graph_wire as wire
from sandbox.emulators.graph_instagram import (
    HUMAN_AGENT_WINDOW,
    PRIVATE_REPLY_WINDOW,
    STANDARD_WINDOW,
    Instagram,
    Thread,
)
from sandbox.emulators.server import Request, Response


class InstagramWrites:
    """The write endpoints over one `Instagram` account (its lists record every accepted call)."""

    def __init__(self, ig: Instagram) -> None:
        self.ig = ig

    def reply(self, req: Request, now: datetime) -> Response | dict:
        """`POST /{ig-comment-id}/replies?message=…`."""
        comment, text = self.ig.comments.get(req.params["id"]), req.args().get("message")
        if comment is None:
            return wire.missing(req.params["id"])
        if not text:
            return wire.graph_error(100, "(#100) The parameter message is required")
        if comment.hidden:
            return wire.graph_error(100, "(#100) Cannot reply to a hidden comment")
        refused = self.ig.refused("instagram_manage_comments")
        if refused is not None:
            return refused
        new_id = self.ig.add_comment(comment.id, None, text, now)
        self.ig.comment_replies.append({"comment_id": comment.parent_id or comment.id, "text": text, "id": new_id})
        return {"id": new_id}

    def hide(self, req: Request) -> Response | dict:
        """`POST /{ig-comment-id}?hide=true|false`."""
        comment, hide = self.ig.comments.get(req.params["id"]), req.args().get("hide")
        if comment is None:
            return wire.missing(req.params["id"])
        if not self.ig.media[comment.media_id].own:
            # Only comments on the account's own media can be moderated (reference/ig-comment#updating):
            # one on someone else's post that @mentions us is answered like any object we may not touch.
            return wire.unsupported_post(comment.id)
        if hide not in ("true", "false"):
            return wire.graph_error(100, "(#100) The parameter hide is required")
        refused = self.ig.refused("instagram_manage_comments")
        if refused is not None:
            return refused
        comment.hidden = hide == "true"
        if comment.hidden:
            self.ig.hidden.append(comment.id)
        return {"success": True}

    def mention_reply(self, req: Request, now: datetime) -> Response | dict:
        """`POST /{ig-user-id}/mentions?media_id=…[&comment_id=…]&message=…` on media that @mentions us."""
        args = req.args()
        media_id, comment_id, text = args.get("media_id"), args.get("comment_id"), args.get("message")
        media = self.ig.media.get(str(media_id))
        if media is None or media.own:
            return wire.graph_error(100, f"(#100) media_id {media_id} is not a media the account is mentioned in")
        if comment_id and (comment_id not in self.ig.comments or self.ig.comments[comment_id].media_id != media.id):
            return wire.missing(str(comment_id))
        if not text:
            return wire.graph_error(100, "(#100) The parameter message is required")
        refused = self.ig.refused("instagram_manage_comments")
        if refused is not None:
            return refused
        new_id = self.ig.add_comment(comment_id or media.id, None, text, now)
        self.ig.mention_replies.append({"media_id": media.id, "comment_id": comment_id, "text": text, "id": new_id})
        return {"id": new_id}

    # --- the Page's Instagram conversations ---------------------------------------------------
    def list_conversations(self, req: Request) -> Response | dict:
        """`GET /{page-id}/conversations?platform=instagram`, most recently active first."""
        refused = self.ig.refused("instagram_manage_messages")
        if refused is not None:
            return refused
        threads = sorted(self.ig.threads.values(), key=lambda t: t.messages[-1].created, reverse=True)
        items = [{"id": t.id, "updated_time": wire.graph_time(t.messages[-1].created)} for t in threads]
        return wire.page(req, items, self.ig.page.base_url())

    def list_messages(self, req: Request, thread: Thread) -> Response | dict:
        """`GET /{conversation-id}/messages`, newest first."""
        fields = wire.parse_fields(req.args().get("fields")) or {"created_time": None}
        items = [wire.select(self.ig.dm_json(m), fields) for m in reversed(thread.messages)]
        return wire.page(req, items, self.ig.page.base_url())

    def private_reply(self, comment_id: str, text: str, now: datetime) -> Response | dict:
        comment = self.ig.comments[comment_id]
        refused = self.ig.refused("instagram_manage_messages")
        if refused is not None:
            return refused
        if any(r["comment_id"] == comment_id for r in self.ig.private_replies):
            return wire.graph_error(10900, "Activity already replied to")
        if now - comment.created > PRIVATE_REPLY_WINDOW or comment.from_id == self.ig.id \
                or not self.ig.media[comment.media_id].own:
            return wire.graph_error(10903, "This user can't reply to this activity")
        mid = self.ig.add_dm(comment.username, text, now, from_account=True)
        self.ig.private_replies.append({"comment_id": comment_id, "text": text, "message_id": mid,
                                        "recipient_id": comment.from_id})
        return {"recipient_id": comment.from_id, "message_id": mid}

    def direct(self, igsid: str, text: str, args: dict[str, Any], now: datetime,
               quick_replies: tuple[dict[str, Any], ...] = ()) -> Response | dict:
        thread = self.ig.threads[igsid]
        refused = self.ig.refused("instagram_manage_messages")
        if refused is not None:
            return refused
        messaging_type, tag = args.get("messaging_type"), args.get("tag")
        if messaging_type in ("RESPONSE", "UPDATE"):
            window = STANDARD_WINDOW
        elif messaging_type == "MESSAGE_TAG" and tag == "HUMAN_AGENT":
            window = HUMAN_AGENT_WINDOW
        elif messaging_type == "MESSAGE_TAG":
            return wire.graph_error(100, f"(#100) Invalid tag: {tag}", subcode=2018102)
        else:
            return wire.graph_error(100, "(#100) The parameter messaging_type is required")
        last_in = max((m.created for m in thread.messages if m.from_id == igsid), default=None)
        if last_in is None or now - last_in > window:
            return wire.graph_error(10, "(#10) This message is sent outside of allowed window.", subcode=2018278)
        mid = self.ig.add_dm(self.ig.users[igsid], text, now, from_account=True)
        sent = {"igsid": igsid, "text": text, "messaging_type": messaging_type, "tag": tag, "message_id": mid}
        self.ig.sent_messages.append(sent | ({"quick_replies": list(quick_replies)} if quick_replies else {}))
        return {"recipient_id": igsid, "message_id": mid}
