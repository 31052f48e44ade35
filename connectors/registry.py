"""Which networks this process talks to: platform id -> connector and its rules.

`app.build_registry` registers one connector per configured network. Everything outside
`connectors/` asks the registry (or a network's `Rules`) instead of naming a platform. Asking for a
platform that is not registered raises `UnknownPlatform` with words that name it, so a wrong
routing rule stops the process at start-up rather than a send half-way.

`SHIPPED` lists the rules of every network Parley ships, configured or not: cards still label a
stored Facebook conversation while Facebook is switched off.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from connectors.base import Connector, InboundMessage
from connectors.contract import OpSpec, Rules
from connectors.email.rules import RULES as EMAIL
from connectors.facebook.rules import RULES as FACEBOOK
from connectors.instagram.rules import RULES as INSTAGRAM
from connectors.x.rules import RULES as X

SHIPPED: Mapping[str, Rules] = {r.platform: r for r in (X, FACEBOOK, INSTAGRAM, EMAIL)}


class UnknownPlatform(LookupError):
    """A platform id with no registered connector; the message names it and what is registered."""

    def __init__(self, platform: str, known: Iterable[str], where: str = "") -> None:
        names = ", ".join(sorted(known)) or "none"
        place = f" ({where})" if where else ""
        super().__init__(f"Platform {platform!r}{place} is not a configured network; configured: {names}.")
        self.platform = platform


def shipped_rules(platform: str) -> Rules | None:
    """The rules of a network Parley ships, or None (labels fall back to the raw id)."""
    return SHIPPED.get(platform)


def shipped_card_notice(platform: str, kind: str) -> str | None:
    """A shipped network's card line for a `kind` conversation under its default rules, or None."""
    rules = SHIPPED.get(platform)
    return rules.card_notice(kind) if rules is not None else None


def shipped_op(op: str) -> OpSpec:
    """The spec of a stored outbound op (a message's kind) of a shipped network; ValueError if none."""
    for rules in SHIPPED.values():
        if op in rules.ops:
            return rules.ops[op]
    raise ValueError(f"{op!r} is not an outbound operation of any shipped network")


class Registry:
    """Connectors by platform id, in registration order. Registering a platform twice raises."""

    def __init__(self, connectors: Iterable[Connector] = ()) -> None:
        self._connectors: dict[str, Connector] = {}
        for connector in connectors:
            self.register(connector)

    def register(self, connector: Connector) -> None:
        platform = connector.rules.platform
        if platform in self._connectors:
            raise ValueError(f"two connectors for {platform!r}")
        self._connectors[platform] = connector

    def connector(self, platform: str) -> Connector:
        """The connector for `platform`, or UnknownPlatform."""
        try:
            return self._connectors[platform]
        except KeyError:
            raise UnknownPlatform(platform, self._connectors) from None

    def rules(self, platform: str) -> Rules:
        """A registered network's rules; a shipped but unconfigured one's (stored conversations of a
        network switched off still show and refuse properly); else UnknownPlatform."""
        if platform in self._connectors:
            return self._connectors[platform].rules
        if platform in SHIPPED:
            return SHIPPED[platform]
        raise UnknownPlatform(platform, self._connectors)

    def card_notice(self, platform: str, kind: str) -> str | None:
        """The card line of the network as configured here (X_ENTERPRISE lifts X's), or None."""
        try:
            return self.rules(platform).card_notice(kind)
        except UnknownPlatform:
            return None

    def op(self, op: str) -> OpSpec:
        """The spec of a stored outbound op of a registered or shipped network; ValueError if none."""
        for connector in self:
            if op in connector.rules.ops:
                return connector.rules.ops[op]
        return shipped_op(op)

    def require(self, platform: str, where: str) -> None:
        """Raise UnknownPlatform naming `where` (a config key) unless `platform` is registered."""
        if platform not in self._connectors:
            raise UnknownPlatform(platform, self._connectors, where)

    def __contains__(self, platform: object) -> bool:
        return platform in self._connectors

    def __iter__(self) -> Iterator[Connector]:
        return iter(self._connectors.values())

    def __len__(self) -> int:
        return len(self._connectors)

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(self._connectors)

    def parse_webhook(self, payload: Mapping[str, Any]) -> list[InboundMessage]:
        """Every registered network's messages in one webhook delivery (each ignores other objects)."""
        return [message for connector in self for message in connector.parse_webhook(payload)]

    def voice_sources(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Share-of-voice key -> (platform, inbound kinds), over every registered network."""
        return {key: (c.platform, kinds) for c in self for key, kinds in c.rules.voice.items()}


def shipped_voice_sources() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Share-of-voice sources of every shipped network (reports when no registry is at hand)."""
    return {key: (r.platform, kinds) for r in SHIPPED.values() for key, kinds in r.voice.items()}
