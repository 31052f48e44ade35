"""A test double that implements the whole connector contract in memory (like errbot's test
backend): it reads the batches a test hands it and records every action it is asked to send.

`mastodon_rules()` declares a network Parley does not ship, so tests can prove that a new network
needs a connector and its rules, and no change in `bot/`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta

from connectors.base import Action, Batch, Connector, SendError, SendResult
from connectors.contract import (
    DirectMessage,
    Mode,
    OpSpec,
    Plan,
    PublicReply,
    Refusal,
    ReplyRequest,
    Rules,
    Window,
    check_length,
)

TOOT_LIMIT = 500
REPLY, DIRECT = "toot_reply", "toot_direct"


def _plan(request: ReplyRequest) -> Plan:
    latest = request.heard[-1]
    if request.conversation_kind == "dm" or request.mode == "private":
        check_length(request.text, TOOT_LIMIT, "A Mastodon direct message")
        return Plan(DIRECT, latest.external_id)
    if len(request.text) > TOOT_LIMIT:
        raise Refusal(f"A toot allows {TOOT_LIMIT} characters. Shorten it.")
    return Plan(REPLY, latest.external_id)


def _explain(kind: str, mode: Mode, who: str) -> str:
    if kind == "dm" or mode == "private":
        return f"🔒 Sends a direct (mentioned-only) toot to {who} on Mastodon."
    return f"🌐 Toots a public reply to {who} on Mastodon."


def mastodon_rules() -> Rules:
    """The rules of a pretend Mastodon: public replies, direct toots, 500 characters, a 3-day window."""
    return Rules(
        platform="mastodon", name="Mastodon", emoji="🐘", plan=_plan, explain=_explain,
        ops={REPLY: OpSpec(public=True, action=PublicReply, sending="your public toot to {who}"),
             DIRECT: OpSpec(public=False, action=DirectMessage, sending="your direct toot to {who}")},
        private_mode="sends a direct toot that only the customer can see",
        private_kinds=("dm",), handle_prefix="@", public_limit=TOOT_LIMIT, length_rule="plain characters",
        windows={"mention": (Window("toot_3d", "Mastodon 3-day window", timedelta(days=3), timedelta(hours=6),
                                    "the instance hides the toot from the brand's notifications"),)},
        voice={"Mastodon mentions": ("mention",)},
    )


class FakeConnector(Connector):
    """Implements the contract in memory. `batches` are yielded by the next poll; `sent` records
    every action; `refuse` makes the next send raise that SendError."""

    def __init__(self, rules: Rules, batches: Mapping[str, list[Batch]] | None = None) -> None:
        super().__init__()
        self.rules = rules  # per instance: one class serves any pretend network
        self.batches = {k: list(v) for k, v in (batches or {}).items()}
        self.sent: list[Action] = []
        self.refuse: SendError | None = None

    def poll(self, cursors: Mapping[str, str | None], now: datetime) -> Iterator[Batch]:
        for stream in list(self.batches):
            yield from self.batches.pop(stream)
        self.health.succeeded(now)

    def send(self, action: Action) -> SendResult:
        if self.refuse is not None:
            error, self.refuse = self.refuse, None
            raise error
        self.sent.append(action)
        return SendResult(external_id=f"{self.platform}-{len(self.sent)}",
                          url=f"https://{self.platform}.example/@brand/{len(self.sent)}")

