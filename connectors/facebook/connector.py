"""Facebook Page + Messenger via facebook-sdk: polling the feed and inbox, and sending replies.

Streams: "facebook:feed" (comments, replies and visitor posts on the Page) and "facebook:messenger";
webhook deliveries are parsed by `parse_webhook` (webhook.py). Each stream's cursor is the newest
created/updated time seen (ISO 8601), never later than the poll's start (something written while we page
may not be listed yet); a poll re-reads a few minutes before it (the store ignores ids it has) and
follows Graph's `after` cursors through every page. A stream with no cursor persists its starting point
first (now minus the backfill, backfill.py) and reports what lay before it. The Page's own writing is skipped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import requests

from connectors import backfill
from connectors.base import (
    Action,
    Batch,
    CannotTell,
    Connector,
    CredentialExpiry,
    DirectMessage,
    HideComment,
    InboundMessage,
    Kind,
    Platform,
    PrivateReply,
    PublicReply,
    SendError,
    SendResult,
    Unsupported,
)
from connectors.checks import Check
from connectors.facebook.doctor import NEW_TOKEN, check_facebook, token_expiry
from connectors.facebook.graph import (
    TOKEN_ERROR,
    GraphError,
    PageGraph,
    parse_time,
    send_error,
)
from connectors.facebook.polling import edge_pages, guarded_poll
from connectors.facebook.records import ANONYMOUS, author_of, messenger_record, sender
from connectors.facebook.rules import RULES
from connectors.facebook.send_args import messenger_args
from connectors.facebook.webhook import parse_delivery

log = logging.getLogger(__name__)

FEED, MESSENGER = "facebook:feed", "facebook:messenger"
OVERLAP = timedelta(minutes=5)  # re-read a little: Graph's lists are not instantly consistent
POST_FIELDS = "id,message,from,created_time,updated_time,permalink_url"
COMMENT_FIELDS = "id,message,from,created_time,parent,permalink_url"
MESSAGE_FIELDS = "id,message,from,created_time"


class FacebookConnector(Connector):
    """One Facebook Page: its feed and its Messenger inbox, read by polling the Graph API."""

    rules = RULES

    def __init__(self, *, page_id: str, page_token: str, graph_url: str = "https://graph.facebook.com/",
                 graph_version: str = "v25.0", page_size: int = 50,
                 lookback: timedelta = timedelta(days=7), backfill: timedelta = backfill.DEFAULT_BACKFILL,
                 webhooks: bool = False) -> None:
        super().__init__()
        # lookback: how old a post may be and still be watched for new comments; backfill: how far back
        # a stream with no cursor reads; webhooks: configured, so `doctor` checks the Page subscription.
        self.webhooks = webhooks
        self.page_id, self.page_size, self.lookback, self.backfill = page_id, page_size, lookback, backfill
        self.graph = PageGraph(page_token, graph_url, graph_version)

    @property
    def streams(self) -> tuple[str, ...]:
        return (FEED, MESSENGER)

    def doctor(self, now: datetime, *, subscribe: bool = False) -> list[Check]:
        return check_facebook(self.graph, self.page_id, now, webhooks=self.webhooks, subscribe=subscribe)

    def credential_expiry(self, now: datetime) -> CredentialExpiry | None:
        return token_expiry(self.graph, now, "the Facebook Page token (FACEBOOK_PAGE_TOKEN)", NEW_TOKEN)

    # --- polling ------------------------------------------------------------------------------
    def poll(self, cursors: Mapping[str, str | None], now: datetime) -> Iterator[Batch]:
        """Feed, then Messenger. Platform trouble ends the poll quietly and is recorded in `health`:
        a rate limit pauses the connector (until the usage headers' estimate, else 5 minutes); an
        invalid token says so in plain words. The cursor of a stream is only in its last batch."""
        def read() -> Iterator[Batch]:
            yield from self._poll_feed(cursors.get(FEED), now)
            yield from self._poll_messenger(cursors.get(MESSENGER), now)
        yield from guarded_poll("Facebook", self.graph, self.health, now, read, token_error=TOKEN_ERROR)

    def _starting_point(self, now: datetime) -> str:
        """Where a stream with no cursor starts; persisted (its own batch) before anything is read."""
        return (now - self.backfill).replace(microsecond=0).isoformat()

    @staticmethod
    def _end(stream: str, newest: datetime, now: datetime) -> Batch:
        return Batch(stream, [], cursor=min(newest, now).isoformat())

    def _pages(self, object_id: str, edge: str, **args: Any) -> Iterator[list[dict[str, Any]]]:
        return edge_pages(self.graph, self.page_size, object_id, edge, **args)

    def _poll_feed(self, cursor: str | None, now: datetime) -> Iterator[Batch]:
        first = cursor is None
        if cursor is None:
            cursor = self._starting_point(now)
            yield Batch(FEED, [], cursor=cursor)
        newest = datetime.fromisoformat(cursor)
        since = newest - OVERLAP
        # Old posts still gather comments, so list every post of the lookback period and keep
        # those whose updated_time (bumped by each new comment) is recent.
        listed_since = min(since, now - self.lookback)
        active: list[dict[str, Any]] = []
        older = 0  # visitor posts before a new stream's start (comments before it are not even fetched)
        for posts in self._pages(self.page_id, "feed", fields=POST_FIELDS, since=int(listed_since.timestamp())):
            batch = []
            for post in posts:
                updated = parse_time(post.get("updated_time") or post["created_time"])
                if first and sender(post)["id"] != self.page_id and parse_time(post["created_time"]) < since:
                    older += 1
                if updated < since:
                    continue
                active.append(post)
                newest = max(newest, updated)
                if sender(post)["id"] != self.page_id and parse_time(post["created_time"]) >= since:
                    batch.append(self._visitor_post(post))
            if batch:
                yield Batch(FEED, batch)
        for post in active:
            for comments in self._pages(post["id"], "comments", fields=COMMENT_FIELDS, filter="stream",
                                        order="chronological", since=int(since.timestamp())):
                batch = [self._comment(c, post) for c in comments if sender(c)["id"] != self.page_id]
                for comment in comments:
                    newest = max(newest, parse_time(comment["created_time"]))
                if batch:
                    yield Batch(FEED, batch)
        if first:
            yield from backfill.report(FEED, older, more=False, before=since, now=now)
        yield self._end(FEED, newest, now)

    def _visitor_post(self, post: dict[str, Any]) -> InboundMessage:
        return InboundMessage(
            platform=Platform.FACEBOOK, kind=Kind.VISITOR_POST, external_id=post["id"], thread_key=post["id"],
            text=post.get("message", ""), author=author_of(sender(post)), created_at=parse_time(post["created_time"]),
            url=post.get("permalink_url"),
        )

    def _comment(self, comment: dict[str, Any], post: dict[str, Any]) -> InboundMessage:
        parent = (comment.get("parent") or {}).get("id")
        if parent:
            thread_key = parent
        elif sender(post)["id"] == sender(comment)["id"] not in (self.page_id, ANONYMOUS["id"]):
            thread_key = post["id"]  # a visitor following up under their own post
        else:
            thread_key = comment["id"]
        return InboundMessage(
            platform=Platform.FACEBOOK, kind=Kind.COMMENT, external_id=comment["id"], thread_key=thread_key,
            text=comment.get("message", ""), author=author_of(sender(comment)),
            created_at=parse_time(comment["created_time"]), url=comment.get("permalink_url"),
            in_reply_to=parent or (post["id"] if thread_key == post["id"] else None),
        )

    def _poll_messenger(self, cursor: str | None, now: datetime) -> Iterator[Batch]:
        first = cursor is None
        if cursor is None:
            cursor = self._starting_point(now)
            yield Batch(MESSENGER, [], cursor=cursor)
        newest = datetime.fromisoformat(cursor)
        since = newest - OVERLAP
        active: list[str] = []
        older = 0  # conversations last active before a new stream's start (on the page we stopped at)
        for conversations in self._pages(self.page_id, "conversations", platform="messenger",
                                         fields="id,updated_time"):
            recent = [c for c in conversations if parse_time(c["updated_time"]) >= since]
            active += [c["id"] for c in recent]
            for conv in recent:
                newest = max(newest, parse_time(conv["updated_time"]))
            if len(recent) < len(conversations):  # listed newest first: the rest are older still
                older = len(conversations) - len(recent)
                break
        for conversation_id in active:
            for messages in self._pages(conversation_id, "messages", fields=MESSAGE_FIELDS):
                recent = [m for m in messages if parse_time(m["created_time"]) >= since]
                batch = [messenger_record(m) for m in recent if sender(m)["id"] != self.page_id]
                if batch:
                    yield Batch(MESSENGER, batch)
                if len(recent) < len(messages):
                    break
        if first:
            yield from backfill.report(MESSENGER, older, more=older > 0, before=since, now=now)
        yield self._end(MESSENGER, newest, now)

    # --- lookups and outbound -----------------------------------------------------------------
    def fetch_name(self, psid: str) -> str | None:
        """The Messenger user's name, or None if Graph won't say (webhooks carry only the PSID)."""
        try:
            return self.graph.get_object(psid, fields="name").get("name")
        except GraphError as exc:
            log.warning("Facebook name lookup failed (code %s)", exc.code)
        except requests.RequestException as exc:
            log.warning("Facebook name lookup failed (%s)", type(exc).__name__)
        return None

    def parse_webhook(self, payload: Mapping[str, Any]) -> list[InboundMessage]:
        return parse_delivery(payload, self.page_id)

    def send(self, action: Action) -> SendResult:
        """A public comment reply, one private reply to a comment, a Messenger message, or hiding a comment
        (`POST /{comment-id}?is_hidden=true`: developers.facebook.com/docs/graph-api/changelog/version2.2)."""
        if isinstance(action, PublicReply):
            return self.reply_comment(action.target, action.text)
        if isinstance(action, PrivateReply):
            return self.private_reply(action.target, action.text)
        if isinstance(action, DirectMessage):
            return self.send_messenger(action.recipient, action.text, human_agent_tag=action.human_agent_tag,
                                       choices=action.choices)
        if isinstance(action, HideComment):
            path = f"{self.graph.version}/{action.target}"
            self._send(lambda: self.graph.request(path, post_args={"is_hidden": "true"}))
            return SendResult(external_id=action.target)
        raise Unsupported(self.platform, action)

    def find_sent(self, action: Action, since: datetime) -> SendResult | None:
        """A public reply is looked up among the replies under its comment (the Page's own, with the same
        text, written since `since`); other actions cannot be told. Graph's comment edge:
        https://developers.facebook.com/docs/graph-api/reference/object/comments/"""
        if not isinstance(action, PublicReply):
            raise CannotTell(self.platform)
        since_unix = int((since - OVERLAP).timestamp())  # the platform's clock may differ from ours
        pages = self._send(lambda: {"pages": list(edge_pages(self.graph, self.page_size, action.target, "comments",
                                                             fields="id,from,message", since=since_unix))})
        for page in pages["pages"]:
            for comment in page:
                if sender(comment)["id"] == self.page_id and comment.get("message") == action.text:
                    return SendResult(external_id=comment["id"])
        return None

    def reply_comment(self, comment_id: str, text: str) -> SendResult:
        """A public reply under the comment, as the Page."""
        answer = self._send(lambda: self.graph.put_object(comment_id, "comments", message=text))
        return SendResult(external_id=answer["id"])

    def private_reply(self, object_id: str, text: str) -> SendResult:
        """A Messenger message to the author of a comment or of a visitor post (a Page post's id is
        `{page-id}_…`): one each, within 7 days."""
        key = "post_id" if object_id.startswith(f"{self.page_id}_") else "comment_id"
        answer = self._send(lambda: self.graph.put_object(
            self.page_id, "messages", recipient=json.dumps({key: object_id}),
            message=json.dumps({"text": text})))
        return SendResult(external_id=answer["message_id"])

    def send_messenger(self, psid: str, text: str, *, human_agent_tag: bool = False,
                       choices: tuple[tuple[str, str], ...] = ()) -> SendResult:
        """A Messenger reply: within 24 hours of the customer's last message, or with the HUMAN_AGENT
        tag within 7 days. `choices` go as text quick replies (up to 13, each a title and a payload
        that comes back in the webhook's `message.quick_reply.payload`;
        https://developers.facebook.com/docs/messenger-platform/send-messages/quick-replies/)."""
        args = messenger_args({"id": psid}, text, human_agent_tag=human_agent_tag, choices=choices)
        answer = self._send(lambda: self.graph.put_object(self.page_id, "messages", **args))
        return SendResult(external_id=answer["message_id"])

    def _send(self, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return call()
        except GraphError as exc:
            raise send_error(exc) from None
        except requests.RequestException as exc:
            # `from None`: the chained exception's text can carry the request URL and the token.
            log.warning("Facebook send failed (%s)", type(exc).__name__)
            raise SendError("Couldn't reach Facebook; will try again.", retryable=True) from None
