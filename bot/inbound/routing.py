"""Which Slack channel a new conversation goes to.

Rules come from the `routing:` list of the PARLEY_CONFIG file (YAML or TOML). The first rule whose
conditions all hold wins; with no match the conversation goes to PARLEY_CHANNEL.

```yaml
routing:
  - {channel: C0COMPETE, query: rival}             # X search query named "rival"
  - {channel: C0SPANISH, language: es}
  - {channel: C0BILLING, keywords: [refund, invoice, reembolso]}
  - {channel: C0FACEBOOK, platform: facebook}
```
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.config_file import read_config_file
from connectors.base import InboundMessage, Kind

CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")


class RoutingRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str
    platform: str | None = None  # a registered network id; checked against the registry at start-up
    kind: Kind | None = None  # the kinds connectors declare (connectors.base.Kind)
    query: str | None = None
    language: str | None = None
    keywords: tuple[str, ...] = ()

    @field_validator("channel")
    @classmethod
    def _channel_id(cls, value: str) -> str:
        if not CHANNEL_ID.match(value):
            raise ValueError(f"{value!r} is not a Slack channel ID (like C0123ABCD); names can change, IDs don't")
        return value

    def matches(self, message: InboundMessage, language: str | None) -> bool:
        if self.platform and message.platform != self.platform:
            return False
        if self.kind and message.kind != self.kind:
            return False
        if self.query and self.query not in message.query_names:
            return False
        if self.language and (language or "").lower() != self.language.lower():
            return False
        if self.keywords:
            text = message.text.lower()
            return any(re.search(rf"(?<!\w){re.escape(k.lower())}(?!\w)", text) for k in self.keywords)
        return True


class RoutingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    routing: tuple[RoutingRule, ...] = Field(default=())

    def platforms_named(self) -> list[tuple[str, str]]:
        """(config key, platform) for every rule that names a platform, e.g. ("routing.2.platform", "x"),
        so start-up can refuse a network that is not registered and say where it was named."""
        return [(f"routing.{i}.platform", rule.platform) for i, rule in enumerate(self.routing) if rule.platform]


def load_routing_config(path: Path) -> RoutingConfig:
    """Parse the PARLEY_CONFIG file; errors name the file and the bad entry."""
    data = read_config_file(path)
    try:
        # Other sections (e.g. sla) belong to other modules; routing reads only its own.
        return RoutingConfig(routing=data.get("routing") or ())
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"][1:] if first["loc"][:1] == ("routing",) else first["loc"]
        where = "routing" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ValueError(f"PARLEY_CONFIG: {path}: {where}: {message}") from None


class Router:
    def __init__(self, config: RoutingConfig, default_channel: str | None) -> None:
        self.rules = config.routing
        self.default_channel = default_channel

    def channel_for(self, message: InboundMessage, language: str | None) -> str | None:
        """The channel for a new conversation, or None when nothing routes it (a config error)."""
        for rule in self.rules:
            if rule.matches(message, language):
                return rule.channel
        return self.default_channel
