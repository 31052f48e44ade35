"""What a staff reply becomes on each platform, and the platform rules checked before anything is sent.

Pure functions of plain data and `now`: `plan_reply` picks the platform call (`Op`) and the customer
message it answers, or raises `ReplyRefused` with words staff can act on. The receipt line echoed in
the Slack thread after a send is worded in `bot/cards/receipts.py`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from twitter_text import parse_tweet

from bot.ops import Op
from connectors.base import Kind, Platform

X_LIMIT = 280  # weighted: links count 23, emoji and CJK 2 (twitter-text)
X_DM_LIMIT = 10_000
MESSENGER_LIMIT = 2_000
COMMENT_LIMIT = 8_000
MESSENGER_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)
DEFAULT_NUDGE = "We've sent you a DM 📩"
RETRY_HINT = " You can try again."  # ends the stored error of a failed send worth trying again
OUTCOME_UNKNOWN = "Outcome unknown:"  # starts the stored error of a send that may have been posted
_TWEETS = (Kind.MENTION, Kind.SEARCH_HIT)


class Mode(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class Refused(Exception):
    """An action staff asked for that Parley will not do; `message` says why and what to do instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReplyRefused(Refused):
    """A reply that must not be sent; nothing reached the platform."""


@dataclass(frozen=True, slots=True)
class Heard:
    """A customer message of the conversation, as far as the rules need it."""

    kind: str
    external_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Plan:
    op: Op
    in_reply_to: str  # the customer message answered (tweet, comment, post, DM event, Messenger mid)
    human_agent_tag: bool = False  # Messenger outside 24 hours
    nudge: bool = False  # X private: a public nudge follows a delivered DM


def x_overflow(text: str) -> int:
    """How many weighted characters `text` is over X's 280 (0 when it fits)."""
    return max(parse_tweet(text).weightedLength - X_LIMIT, 0)


def check_tweet(text: str, what: str = "This reply") -> None:
    result = parse_tweet(text)
    if result.weightedLength > X_LIMIT:
        over = result.weightedLength - X_LIMIT
        raise ReplyRefused(
            f"{what} is {result.weightedLength} characters as X counts them (links count 23, emoji and "
            f"Chinese/Japanese/Korean characters 2): {over} over X's limit of {X_LIMIT}. Shorten it, or take "
            "it private.")
    if not result.valid:
        raise ReplyRefused(f"X would refuse {what.lower()}: it contains characters X does not accept.")


def _check_length(text: str, limit: int, where: str) -> None:
    if len(text) > limit:
        raise ReplyRefused(f"{where} allows {limit:,} characters; this reply has {len(text):,} "
                           f"({len(text) - limit:,} over). Shorten it.")


def _days(age: timedelta) -> str:
    days = age.total_seconds() / 86400
    return f"{days:.0f} days" if days >= 1.5 else f"{age.total_seconds() / 3600:.0f} hours"


def messenger_tag(last_customer_message: datetime, now: datetime) -> bool:
    """Whether a Messenger reply needs the HUMAN_AGENT tag (outside the 24-hour window)."""
    return now - last_customer_message > MESSENGER_WINDOW


def plan_reply(
    *,
    platform: str,
    conversation_kind: str,
    thread_key: str,
    mode: Mode,
    text: str,
    heard: Iterable[Heard],
    private_replied: Iterable[str] = (),
    nudge_text: str = DEFAULT_NUDGE,
    now: datetime,
) -> Plan:
    """The platform call for a reply, or ReplyRefused. `heard` is the customer's messages;
    `private_replied` the comment ids that already have a (not failed) private reply."""
    if not text.strip():
        raise ReplyRefused("There is nothing to send: the reply is empty. Type the text after the command.")
    heard = sorted(heard, key=lambda h: (h.created_at, h.external_id))
    if not heard:
        raise ReplyRefused("This conversation has no customer message to answer yet.")
    latest = heard[-1]
    if platform == Platform.X:
        if conversation_kind == Kind.DM:
            _check_length(text, X_DM_LIMIT, "An X DM")
            return Plan(Op.X_DM, latest.external_id)
        tweets = [h for h in heard if h.kind in _TWEETS]
        if not tweets:
            raise ReplyRefused("There is no customer tweet in this conversation to reply to.")
        if mode == Mode.PUBLIC:
            check_tweet(text)
            return Plan(Op.X_REPLY, tweets[-1].external_id)
        _check_length(text, X_DM_LIMIT, "An X DM")
        check_tweet(nudge_text, "The public DM notice (template)")
        return Plan(Op.X_DM, tweets[-1].external_id, nudge=True)
    if platform != Platform.FACEBOOK:
        raise ReplyRefused(f"Parley cannot send on {platform} yet.")
    if conversation_kind == Kind.MESSENGER:
        _check_length(text, MESSENGER_LIMIT, "Messenger")
        age = now - latest.created_at
        if age > HUMAN_AGENT_WINDOW:
            raise ReplyRefused(
                f"The customer last wrote on Messenger {_days(age)} ago. Facebook allows a reply within 24 hours, "
                "or within 7 days as a human agent; after that only the customer can restart the conversation. "
                "Nothing was sent.")
        return Plan(Op.MESSENGER, latest.external_id, human_agent_tag=messenger_tag(latest.created_at, now))
    if mode == Mode.PUBLIC:
        _check_length(text, COMMENT_LIMIT, "A Facebook comment")
        if conversation_kind == Kind.VISITOR_POST:
            return Plan(Op.FB_COMMENT, thread_key)  # answer on the visitor's post itself
        comments = [h for h in heard if h.kind == Kind.COMMENT]
        return Plan(Op.FB_COMMENT, (comments or heard)[-1].external_id)
    comments = [h for h in heard if h.kind == Kind.COMMENT]
    if not comments:
        raise ReplyRefused("Facebook private replies answer a comment, and this visitor post has no comment from "
                           "the customer. Reply publicly instead.")
    target = comments[-1]
    if target.external_id in set(private_replied):
        raise ReplyRefused("Facebook allows only one private reply per comment, and the customer's latest comment "
                           "already has one. Reply publicly, or wait until they write again.")
    age = now - target.created_at
    if age > PRIVATE_REPLY_WINDOW:
        raise ReplyRefused(f"The customer's comment is {_days(age)} old; Facebook allows a private reply only "
                           "within 7 days. Reply publicly instead.")
    _check_length(text, MESSENGER_LIMIT, "A Facebook private reply")
    return Plan(Op.FB_PRIVATE, target.external_id)


def render_nudge(template: str, *, handle: str, name: str, ref: int | None) -> str:
    """The public DM notice from its template; unknown `{variables}` are left as typed."""
    first = (name or handle).split()[0] if (name or handle) else ""
    values = {"handle": handle, "first_name": first, "name": name, "ref": "" if ref is None else str(ref)}
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


def failure_kind(delivery_status: str, delivery_error: str | None) -> str | None:
    """How a FAILED outbound message failed, from its stored status and error: "retryable" (an outage
    or rate limit: sending again may work), "unknown" (it may have been posted, so a person checks
    before sending again) or "final" (the platform refused it). None when it did not fail."""
    if delivery_status != "failed":
        return None
    error = delivery_error or ""
    if error.startswith(OUTCOME_UNKNOWN):
        return "unknown"
    return "retryable" if error.endswith(RETRY_HINT) else "final"
