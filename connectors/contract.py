"""What every connector declares and does beyond reading: its rules and its outbound actions.

A network's `Rules` are static facts Parley needs without talking to the network: how it is labelled
on cards, which reply it allows per conversation kind, how long its reply windows stay open, how it
counts length, what "take it private" means there, and which messages count as the brand's share
of voice. Outbound is one typed call, `Connector.send(action)`, with one dataclass per action (a reply, or
`HideComment`, the one moderation step).
Nothing here imports a network's SDK; `connectors/<network>/rules.py` fill these in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

Mode = Literal["public", "private"]


# --- outbound actions -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PublicReply:
    """A public answer to `target` (a tweet, a comment, a post), posted as the brand."""

    target: str
    text: str


@dataclass(frozen=True, slots=True)
class PrivateReply:
    """A private message to the author of the public message `target` (Facebook private reply)."""

    target: str
    text: str


@dataclass(frozen=True, slots=True)
class DirectMessage:
    """A message in the customer's private conversation with the brand (X DM, Messenger).

    `human_agent_tag`: sent outside the network's standard window as a human agent (Messenger).
    `in_reply_to`: the customer message it answers (e-mail threads on it); `key`: the stored reply's
    idempotency key, the same on every attempt (e-mail makes the reply's Message-ID from it)."""

    recipient: str  # the customer's id on the network
    text: str
    human_agent_tag: bool = False
    # Answers offered as buttons, (title, payload) each, where the network has them (Messenger quick
    # replies); a network without them sends the text alone, so the text must ask on its own.
    choices: tuple[tuple[str, str], ...] = ()
    in_reply_to: str | None = None
    key: str = ""


@dataclass(frozen=True, slots=True)
class HideComment:
    """Hide a customer's comment on the brand's own post from everyone but its author and their friends
    (a moderation step, not a reply: nothing is sent to the customer). Only for a conversation kind in
    `Rules.hide_kinds`."""

    target: str  # the comment's id


Action = PublicReply | PrivateReply | DirectMessage | HideComment


class Refusal(Exception):
    """The network's rules forbid a reply; `message` says why in words staff can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- rules ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """One reply deadline: closes `length` after the customer's message."""

    name: str  # in claim keys
    label: str  # "Messenger 24-hour window"
    length: timedelta
    lead: timedelta  # remind when less than this remains
    after: str  # what happens once it has closed (plain words)


@dataclass(frozen=True, slots=True)
class Heard:
    """A customer message of the conversation, as far as the rules need it."""

    kind: str
    external_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Plan:
    """The stored operation (`op`, a key of `Rules.ops`) and the customer message it answers."""

    op: str
    in_reply_to: str
    human_agent_tag: bool = False


@dataclass(frozen=True, slots=True)
class ReplyRequest:
    """Everything a network's planner sees about one staff reply (pure data and `now`)."""

    conversation_kind: str
    thread_key: str
    mode: Mode
    text: str
    heard: list[Heard]  # oldest first, never empty
    private_replied: frozenset[str]  # public messages that already have a private reply
    nudge_text: str
    now: datetime


@dataclass(frozen=True, slots=True)
class OpSpec:
    """One stored outbound operation (the message's `kind`) of a network.

    `action` is what `Connector.send` receives; `nudge` names the op of a public notice queued
    after this one is delivered (X: "We've sent you a DM"); `refused_hint` is added to a refusal
    with the given platform error code (X DM refused: offer a DM link instead)."""

    public: bool
    action: type[PublicReply] | type[PrivateReply] | type[DirectMessage]
    sending: str  # "your DM to {who} on X", for the case view
    nudge: str | None = None
    is_nudge: bool = False
    public_fallback: bool = True  # False: a refused DM may not be offered as a public reply (X's reply gate)
    survey: bool = False  # Parley's own satisfaction question (CSAT), not a staff reply


@dataclass(frozen=True)
class Rules:
    """A network's capabilities and rules, declared once by its connector package."""

    platform: str  # the stored id: "x", "facebook"
    name: str  # "X", "Facebook"
    emoji: str  # for card titles
    plan: Callable[[ReplyRequest], Plan]  # raises Refusal
    ops: Mapping[str, OpSpec]
    explain: Callable[[str, Mode, str], str]  # (conversation kind, mode, who) -> modal wording
    public_reply: bool = True
    private_mode: str = ""  # what "take it private" does here, in one sentence
    handle_prefix: str = ""  # "@" where customers have handles
    kind_names: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # kind -> (emoji, name) override
    private_kinds: tuple[str, ...] = ()  # conversation kinds that are private already (DM, Messenger)
    windows: Mapping[str, tuple[Window, ...]] = field(default_factory=dict)  # conversation kind -> windows
    length: Callable[[str], int] = len  # how the network counts a public reply
    public_limit: int | None = None  # on `length`; None: no live count in the modal
    length_rule: str = ""  # "links count 23, emoji and CJK 2"
    cost_hint: Callable[[str], str] = lambda text: ""  # what this text costs beyond the usual, if anything
    voice: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # share-of-voice key -> inbound kinds
    dm_fallback_code: str | None = None  # a private send refused with this code can be offered as a link
    human_agent_after: timedelta | None = None  # a DM later than this after the customer wrote is tagged
    permalink_hosts: tuple[str, ...] = ()  # the network's own hosts: a card links only there
    # conversation kind -> one line the card shows about what the network will not do there (X: no
    # public reply to a search hit on a self-serve plan), in the network's own words
    card_notices: Mapping[str, str] = field(default_factory=dict)
    hide_kinds: tuple[str, ...] = ()  # conversation kinds whose customer messages `HideComment` can hide

    def can_hide(self, kind: str) -> bool:
        """Whether the card of a `kind` conversation offers "Hide comment"."""
        return kind in self.hide_kinds

    def permalink(self, url: str | None) -> str | None:
        """`url` if it is an https link to one of the network's own hosts (`permalink_hosts`), else
        None: a card's "Open on …" link must never lead to a site a customer chose."""
        if not url or any(ch.isspace() or ch == "\\" for ch in url):
            return None  # browsers read a backslash as "/": "https://evil.example\\@x.com" goes to evil
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:  # "https://[x" or a port that is not a number
            return None
        if parts.scheme != "https" or "@" in parts.netloc or port is not None:
            return None
        return url if (parts.hostname or "") in self.permalink_hosts else None

    def card_notice(self, kind: str) -> str | None:
        """The card's line about what this network will not do for a `kind` conversation, if any."""
        return self.card_notices.get(kind)

    def human_agent_tag(self, last_customer_message: datetime, now: datetime) -> bool:
        """Whether a direct message sent `now` goes as a human agent (decided at send time)."""
        return self.human_agent_after is not None and now - last_customer_message > self.human_agent_after

    def label(self, kind: str | None = None) -> str:
        """"🐦 X", or the kind's own label ("💬 Messenger") where the network names it apart."""
        emoji, name = self.kind_names.get(kind or "", (self.emoji, self.name))
        return f"{emoji} {name}"

    def site(self, kind: str | None = None) -> str:
        """"X", "Facebook", "Messenger": where the conversation happens, in words."""
        return self.kind_names.get(kind or "", (self.emoji, self.name))[1]

    def is_private(self, kind: str) -> bool:
        return kind in self.private_kinds

    def nudge_after(self, op: str, kind: str) -> str | None:
        """The op of the public notice that follows a delivered `op` in a `kind` conversation, if any:
        a private answer to a public message is announced publicly; one in a private chat is not."""
        spec = self.ops.get(op)
        return spec.nudge if spec is not None and not self.is_private(kind) else None

    def announces_private(self, kind: str) -> bool:
        """Whether taking a `kind` conversation private also posts a public notice (X's DM notice)."""
        return not self.is_private(kind) and any(spec.nudge for spec in self.ops.values())

    def windows_for(self, kind: str) -> tuple[Window, ...]:
        return self.windows.get(kind, ())

    def survey_op(self) -> str | None:
        """The op that sends the satisfaction question (an `OpSpec` with `survey`), if the network has one."""
        return next((name for name, spec in self.ops.items() if spec.survey), None)

    def count_hint(self, text: str) -> str:
        """"123/280 characters (links count 23, …)", or "⚠️ 17 over the 280 limit …"."""
        limit, n = self.public_limit or 0, self.length(text)
        if n > limit:
            hint = f"⚠️ {n - limit} over the {limit} limit ({n}/{limit} characters; {self.length_rule})"
        else:
            hint = f"{n}/{limit} characters ({self.length_rule})"
        cost = self.cost_hint(text)
        return f"{hint} · {cost}" if cost else hint

    def handle(self, handle: str) -> str:
        return f"{self.handle_prefix}{handle}"


def check_length(text: str, limit: int, where: str) -> None:
    """Refuse a plain-length text over `limit` characters."""
    if len(text) > limit:
        raise Refusal(f"{where} allows {limit:,} characters; this reply has {len(text):,} "
                      f"({len(text) - limit:,} over). Shorten it.")


def days(age: timedelta) -> str:
    """"8 days" or "30 hours": an age as staff read it in a refusal."""
    n = age.total_seconds() / 86400
    return f"{n:.0f} days" if n >= 1.5 else f"{age.total_seconds() / 3600:.0f} hours"


def latest_of(heard: Iterable[Heard], kinds: tuple[str, ...]) -> Heard | None:
    return next((h for h in reversed(list(heard)) if h.kind in kinds), None)


class CannotTell(Exception):
    """The network offers no way to tell whether an action was performed (`Connector.find_sent`)."""
