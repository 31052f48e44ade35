"""The one Connector contract and the platform-neutral records it yields and takes.

A connector talks to exactly one network. It never touches Slack or the database: it turns the
network's objects into `InboundMessage` records grouped in `Batch`es (the pipeline in
`bot/inbound/ingest.py` stores them), sends typed actions (`send`), and declares its `Rules`
(connectors/contract.py). Adding a network (Instagram, Mastodon) means adding one package here with
a `Connector` subclass and its `Rules`, and one line in `app.build_registry`.
"""

from __future__ import annotations

import abc
import enum
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.checks import Check
from connectors.contract import (
    Action,
    CannotTell,
    DirectMessage,
    Heard,
    HideComment,
    OpSpec,
    Plan,
    PrivateReply,
    PublicReply,
    Refusal,
    ReplyRequest,
    Rules,
    Window,
)
from connectors.usage import Usage

__all__ = [
    "Action",
    "Author",
    "Batch",
    "CannotTell",
    "Connector",
    "CredentialExpiry",
    "DirectMessage",
    "Health",
    "Heard",
    "HideComment",
    "InboundMessage",
    "Kind",
    "MalformedDelivery",
    "OpSpec",
    "Plan",
    "Platform",
    "PrivateReply",
    "PublicReply",
    "Refusal",
    "ReplyRequest",
    "Rules",
    "SendError",
    "SendResult",
    "Unsupported",
    "Window",
    "delivery_list",
]


class Platform(enum.StrEnum):
    X = "x"
    FACEBOOK = "facebook"


class Kind(enum.StrEnum):
    """Where on the platform a customer message was heard."""

    MENTION = "mention"  # X: a tweet that @-mentions the brand
    SEARCH_HIT = "search_hit"  # X: a tweet matched by a configured keyword/competitor query
    COMMENT = "comment"  # Facebook: a comment (or reply to a comment) on a Page post
    VISITOR_POST = "visitor_post"  # Facebook: a post by someone else on the Page
    DM = "dm"  # X: a direct message event
    MESSENGER = "messenger"  # Facebook: a Messenger message to the Page


@dataclass(frozen=True, slots=True)
class Author:
    """The customer as the platform describes them."""

    external_id: str
    handle: str  # X screen name without '@'; Facebook: the name (pages have no handles)
    name: str
    followers: int | None = None
    verified: bool = False


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One customer message, exactly as heard, in platform-neutral form.

    `external_id` is unique per platform (tweet id, comment id, DM event id, Messenger mid) and is
    what makes re-reading a no-op. `thread_key` groups a customer's follow-ups into the same
    conversation: the X `conversation_id`, the top-level Facebook comment or post id, or the DM /
    Messenger conversation id.
    """

    platform: str  # a registered network id (Platform for the ones shipped)
    kind: Kind
    external_id: str
    thread_key: str
    text: str
    author: Author
    created_at: datetime  # timezone-aware, UTC
    url: str | None = None
    query_names: tuple[str, ...] = ()  # X search queries that matched (share of voice)
    lang_hint: str | None = None  # the platform's own language guess, e.g. tweet `lang`
    in_reply_to: str | None = None  # external id of the message this one answers, if known
    quick_reply: str | None = None  # the payload of the button the customer tapped (Messenger quick reply)


@dataclass(frozen=True, slots=True)
class Batch:
    """Messages to store together, then (only then) the cursor to persist for `stream`.

    `cursor=None` means "store these, leave the cursor as it is": connectors page through a
    backlog in several batches and move the cursor only in the last one, so a crash mid-way
    re-reads instead of skipping.
    """

    stream: str  # e.g. "x:mentions", "x:search:acme", "x:dm", "facebook:feed"
    messages: list[InboundMessage] = field(default_factory=list)
    cursor: str | None = None


@dataclass(slots=True)
class Health:
    """What staff see about a connection (App Home, /healthz, logs)."""

    ok: bool = True
    last_success_at: datetime | None = None
    last_error: str | None = None  # plain words, never a secret
    last_error_at: datetime | None = None
    paused_until: datetime | None = None  # rate-limited (or paced) until this moment
    rate_usage: float | None = None  # share of the network's rate limit used, as its last answer said

    def succeeded(self, now: datetime) -> None:
        self.ok = True
        self.last_success_at = now
        self.last_error = None

    def failed(self, now: datetime, message: str) -> None:
        self.ok = False
        self.last_error = message
        self.last_error_at = now


@dataclass(frozen=True, slots=True)
class CredentialExpiry:
    """When a connector's credentials stop working (`at`, aware UTC; in the past: already expired), what
    they are in words ("the Instagram token (INSTAGRAM_TOKEN)") and how a person renews them."""

    at: datetime
    what: str
    renew: str


class Connector(abc.ABC):
    """One network. Subclasses must implement every abstract member, checked at construction, and
    set `rules` (whose `platform` is the connector's id)."""

    rules: Rules  # usually a class attribute: one network per connector class

    @property
    def platform(self) -> str:
        return self.rules.platform

    def __init__(self) -> None:
        self.health = Health()

    @abc.abstractmethod
    def poll(self, cursors: Mapping[str, str | None], now: datetime) -> Iterator[Batch]:
        """Yield batches of messages newer than `cursors` (stream -> stored cursor value).

        Must not raise for platform trouble (rate limits, outages, expired tokens): record it in
        `self.health` and stop yielding; the next poll tries again. A rate-limited connector
        returns at once until `health.paused_until` instead of sleeping.
        """

    @abc.abstractmethod
    def send(self, action: Action) -> SendResult:
        """Perform one outbound action as the brand (`HideComment`: the result's id is the comment's).
        Raises SendError in plain words; raises Unsupported for an action type the network has no call
        for (the Sender checks `rules.ops` and `rules.hide_kinds` first, so this is a programming
        error, never a customer-facing one)."""

    def find_sent(self, action: Action, since: datetime) -> SendResult | None:
        """After a crash left the outcome of `send(action)` (begun at `since`) unknown: the post it made,
        or None when sending it again cannot post twice (there is none, or the network refuses the
        copy with SendError code "duplicate"). Raises CannotTell (the default) when the network gives
        no way to tell, SendError when asking failed (asked again later)."""
        raise CannotTell(self.platform)

    @property
    def streams(self) -> tuple[str, ...]:
        """Names of the cursor streams this connector reads, for status displays."""
        return ()

    def usage(self, now: datetime) -> str | None:
        """What the network has billed so far (today, this month, against any budget) in words, for
        App Home, /social stats and checks; None for a network that bills nothing."""
        return None

    def billing(self, now: datetime) -> Usage | None:
        """The same spend as numbers, with the budget thresholds reached and what they stopped
        (connectors/usage.py), for the managers' warning, /metrics and `parley check`; None for a
        network that bills nothing."""
        return None

    def credential_expiry(self, now: datetime) -> CredentialExpiry | None:
        """When the credentials Parley holds for this network expire, for the daily warning
        (bot/schedule/expiry.py); None when they never do or the network cannot say. Never raises."""
        return None

    def fetch_name(self, author_id: str) -> str | None:
        """The customer's display name when a webhook named only their id; None if unknown."""
        return None

    def parse_webhook(self, payload: Mapping[str, Any]) -> list[InboundMessage]:
        """The customer messages for this network in a signed webhook delivery (a parsed JSON object),
        pure and fast: it runs before the delivery is answered. [] for a delivery that is not this
        network's; raises MalformedDelivery for one that is but is not shaped as documented. A
        network with no webhooks keeps this default."""
        return []

    def complete(self, message: InboundMessage) -> InboundMessage | None:
        """A webhook record filled in from the network, after the delivery was answered: some deliveries
        carry only ids (Instagram @mentions). None drops it (its object is gone). Default: as heard."""
        return message

    def fallback_link(self) -> str | None:
        """A link that opens a private conversation with the brand, offered when a private send is
        refused with `rules.dm_fallback_code`; None where the network has none."""
        return None

    def watch(self, wake: Callable[[], None], stop: threading.Event) -> None:
        """Block until `stop` is set, calling `wake` whenever the network pushes word of something
        new (IMAP IDLE), so the next poll runs at once. Runs on its own thread; never raises. A
        network without push keeps this default, which returns at once."""
        return

    def doctor(self, now: datetime, *, subscribe: bool = False) -> list[Check]:
        """`parley check` for this network: what works and, for what does not, the fix in plain
        words. `subscribe` lets it make a missing platform subscription. Never raises."""
        return []


class SendError(Exception):
    """A platform refused or failed an outbound message.

    `message` is plain words for staff (shown in the Slack thread); `code` is the platform's own
    error code, kept for the audit log; `retryable` says whether trying again later may work
    (rate limits, outages) or not (user doesn't accept DMs, window closed, deleted post).
    """

    def __init__(self, message: str, *, code: str | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable


class MalformedDelivery(ValueError):
    """A signed webhook delivery not shaped as its network documents it: answered 400, not stored."""


def delivery_list(parent: Mapping[str, Any], key: str) -> list[Any]:
    """A webhook delivery's list field (`entry`, `changes`, `messaging`): [] when absent,
    MalformedDelivery when it is something else."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedDelivery(f"{key} is not a list")
    return value


class Unsupported(TypeError):
    """A connector was handed an action type its network cannot perform."""

    def __init__(self, platform: str, action: object) -> None:
        super().__init__(f"{platform} has no call for {type(action).__name__}")


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the platform gave back for a sent message."""

    external_id: str  # the new tweet / comment / DM event / Messenger message id
    url: str | None = None  # a public link, where there is one
