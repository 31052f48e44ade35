"""An Instagram professional account linked to the Facebook Page, via facebook-sdk's Graph client.

Ears: comments and replies on the account's media, media that tags it and captions/comments that
@mention it, and Instagram DMs — by polling (`streams.py`) and by the signed `instagram` webhook
(`webhook.py`, parsed by `parse_webhook`, @mentions completed by `complete`). Mouth: a public reply
under a comment (`POST /{ig-comment-id}/replies`) or an @mention (`POST /{ig-user-id}/mentions`), one
private reply per comment and DMs (`POST /{page-id}/messages`, recipient `{comment_id}` or `{id}`,
RESPONSE within 24 hours, MESSAGE_TAG HUMAN_AGENT within 7 days — docs/instagram-messaging), and
hiding a comment (`POST /{ig-comment-id}?hide=true`, guides/comment-moderation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import requests

from connectors import backfill
from connectors.base import (
    Action,
    Batch,
    Connector,
    CredentialExpiry,
    DirectMessage,
    HideComment,
    InboundMessage,
    PrivateReply,
    PublicReply,
    SendError,
    SendResult,
    Unsupported,
)
from connectors.checks import Check
from connectors.facebook.doctor import token_expiry
from connectors.facebook.graph import GraphError, PageGraph
from connectors.facebook.polling import edge_pages, guarded_poll
from connectors.facebook.send_args import messenger_args
from connectors.instagram import doctor, records, streams, webhook
from connectors.instagram.errors import TOKEN_ERROR, send_error
from connectors.instagram.rules import MENTION_TARGET, RULES

log = logging.getLogger(__name__)



class InstagramConnector(Connector):
    """One Instagram professional account; `page_id` is its linked Page ("me" with a Page token)."""

    rules = RULES

    def __init__(self, *, account_id: str, token: str, page_id: str = "me",
                 graph_url: str = "https://graph.facebook.com/", graph_version: str = "v25.0",
                 page_size: int = 50, lookback: timedelta = timedelta(days=7),
                 backfill: timedelta = backfill.DEFAULT_BACKFILL, webhooks: bool = False) -> None:
        super().__init__()
        # lookback: how old a media may be and still be watched for new comments (IG media has no
        # updated_time); backfill: how far back a stream with no cursor reads.
        self.account_id, self.page_id, self.page_size = account_id, page_id, page_size
        self.lookback, self.backfill, self.webhooks = lookback, backfill, webhooks
        self.graph = PageGraph(token, graph_url, graph_version)

    @property
    def streams(self) -> tuple[str, ...]:
        return (streams.COMMENTS, streams.TAGS, streams.DIRECT)

    def doctor(self, now: datetime, *, subscribe: bool = False) -> list[Check]:
        """The token (valid, permissions, expiry), the account and, with webhooks, the Page subscription
        (connectors/instagram/doctor.py)."""
        return doctor.check_instagram(self.graph, self.account_id, now, page_id=self.page_id, webhooks=self.webhooks)

    def credential_expiry(self, now: datetime) -> CredentialExpiry | None:
        return token_expiry(self.graph, now, "the Instagram token (INSTAGRAM_TOKEN, else FACEBOOK_PAGE_TOKEN)",
                            doctor.NEW_TOKEN)

    # --- polling ------------------------------------------------------------------------------
    def poll(self, cursors: Mapping[str, str | None], now: datetime) -> Iterator[Batch]:
        """Comments, tags, then DMs. Platform trouble ends the poll quietly and is recorded in
        `health` (a rate limit pauses until the usage headers' estimate, else 5 minutes)."""
        def read() -> Iterator[Batch]:
            yield from streams.comments(self._pages, self.account_id, cursors.get(streams.COMMENTS), now,
                                        lookback=self.lookback, backfill_for=self.backfill)
            yield from streams.tags(self._pages, self.account_id, cursors.get(streams.TAGS), now,
                                    backfill_for=self.backfill)
            yield from streams.direct(self._pages, self.page_id, self.account_id, cursors.get(streams.DIRECT),
                                      now, backfill_for=self.backfill)
        yield from guarded_poll("Instagram", self.graph, self.health, now, read, token_error=TOKEN_ERROR,
                                permission_hint="the token needs instagram_basic, instagram_manage_comments "
                                                "and instagram_manage_messages")

    def _pages(self, object_id: str, edge: str, **args: Any) -> Iterator[list[dict[str, Any]]]:
        return edge_pages(self.graph, self.page_size, object_id, edge, **args)

    # --- webhooks -----------------------------------------------------------------------------
    def parse_webhook(self, payload: Mapping[str, Any]) -> list[InboundMessage]:
        return webhook.parse(payload, self.account_id)

    def complete(self, message: InboundMessage) -> InboundMessage | None:
        """An @mention heard by webhook carries only ids: its caption or comment is looked up now
        (`mentioned_media` / `mentioned_comment` on the account). None when Graph no longer has it;
        a lookup that fails for now keeps the bare record out too — the webhook is a fast path only."""
        if message.kind != "mention" or message.text != webhook.PENDING:
            return message
        media_id, comment_id = message.thread_key, message.external_id
        try:
            if comment_id == media_id:
                found = self.graph.get_object(
                    self.account_id, fields=f"mentioned_media.media_id({media_id}){{{streams.TAG_FIELDS}}}")
                return records.mention_media(found["mentioned_media"])
            found = self.graph.get_object(
                self.account_id, fields=f"mentioned_comment.comment_id({comment_id}){{id,text,timestamp,username}}")
            return records.mention_comment(found["mentioned_comment"], media_id)
        except (GraphError, KeyError, requests.RequestException) as exc:
            log.warning("Instagram @mention %s could not be looked up (%s)", comment_id, type(exc).__name__)
            return None

    def fetch_name(self, igsid: str) -> str | None:
        """The DM sender's username (webhooks carry only the IGSID), or None if Graph won't say."""
        try:
            return self.graph.get_object(igsid, fields="username").get("username")
        except (GraphError, requests.RequestException) as exc:
            log.warning("Instagram name lookup failed (%s)", type(exc).__name__)
        return None

    # --- outbound -----------------------------------------------------------------------------
    def send(self, action: Action) -> SendResult:
        """A public reply (comment or @mention), one private reply to a comment, a DM, or hiding a comment."""
        if isinstance(action, PublicReply):
            return self._public(action.target, action.text)
        if isinstance(action, PrivateReply):
            return self._message({"comment_id": action.target}, action.text, human_agent_tag=False)
        if isinstance(action, DirectMessage):
            return self._message({"id": action.recipient}, action.text, human_agent_tag=action.human_agent_tag,
                                 choices=action.choices)
        if isinstance(action, HideComment):
            self.hide_comment(action.target)
            return SendResult(action.target)
        raise Unsupported(self.platform, action)

    def _public(self, target: str, text: str) -> SendResult:
        """Under a comment on the account's media, or under an @mention (`mention:{media}[:{comment}]`)."""
        if not target.startswith(MENTION_TARGET):
            return SendResult(self._send(lambda: self.graph.put_object(target, "replies", message=text))["id"])
        media_id, _, comment_id = target.removeprefix(MENTION_TARGET).partition(":")
        args = {"media_id": media_id, "message": text} | ({"comment_id": comment_id} if comment_id else {})
        return SendResult(self._send(lambda: self.graph.put_object(self.account_id, "mentions", **args))["id"])

    def _message(self, recipient: dict[str, str], text: str, *, human_agent_tag: bool,
                 choices: tuple[tuple[str, str], ...] = ()) -> SendResult:
        args = messenger_args(recipient, text, human_agent_tag=human_agent_tag, choices=choices)
        return SendResult(self._send(lambda: self.graph.put_object(self.page_id, "messages", **args))["message_id"])

    def hide_comment(self, comment_id: str, hide: bool = True) -> None:
        """Hide (or show again) a comment on the account's own media (`POST /{ig-comment-id}?hide=true`,
        instagram_manage_comments: developers.facebook.com/docs/instagram-platform/instagram-graph-api/
        reference/ig-comment#updating); a comment elsewhere is refused by Graph."""
        path, hidden = f"{self.graph.version}/{comment_id}", "true" if hide else "false"
        self._send(lambda: self.graph.request(path, post_args={"hide": hidden}))

    def _send(self, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return call()
        except GraphError as exc:
            raise send_error(exc) from None
        except requests.RequestException as exc:
            log.warning("Instagram send failed (%s)", type(exc).__name__)
            raise SendError("Couldn't reach Instagram; will try again.", retryable=True) from None
