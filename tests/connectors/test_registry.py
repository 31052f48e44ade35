"""The registry: platform id -> connector and rules; an unknown or unconfigured network is refused
at start-up with a message naming the config key, never half-way through a send."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import app
from bot.settings import ConfigError, load_settings
from connectors.base import Author, Batch, Connector, InboundMessage, Kind, PublicReply
from connectors.email.rules import RULES as EMAIL
from connectors.facebook.rules import RULES as FACEBOOK
from connectors.instagram.rules import RULES as INSTAGRAM
from connectors.registry import SHIPPED, Registry, UnknownPlatform, shipped_card_notice
from connectors.testing import FakeConnector, mastodon_rules
from connectors.x.rules import RULES as X
from connectors.x.rules import rules_for

X_CREDENTIALS = {"x_consumer_key": "ck", "x_consumer_secret": "cs", "x_access_token": "at",
                 "x_access_token_secret": "ats"}
ENV = ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "PARLEY_CHANNEL", "PARLEY_CONFIG",
       "X_CONSUMER_KEY", "X_CONSUMER_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET", "X_BEARER_TOKEN",
       "FACEBOOK_PAGE_ID", "FACEBOOK_PAGE_TOKEN", "DATABASE_URL"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def settings_with_routing(tmp_path: Path, routing: str, **extra: object):
    config = tmp_path / "parley.yaml"
    config.write_text(routing)
    return load_settings(slack_bot_token="xoxb-1", slack_signing_secret="s", parley_channel="C0GENERAL",
                         parley_config=config, database_url=f"sqlite:///{tmp_path}/p.db", **extra)


def test_a_registered_connector_is_found_with_its_rules_and_an_unknown_one_is_named() -> None:
    fake = FakeConnector(mastodon_rules())
    registry = Registry([fake])
    assert registry.connector("mastodon") is fake and registry.rules("mastodon").name == "Mastodon"
    assert "mastodon" in registry and list(registry) == [fake]
    with pytest.raises(UnknownPlatform, match="'bluesky' is not a configured network; configured: mastodon"):
        registry.connector("bluesky")
    with pytest.raises(ValueError, match="two connectors"):
        registry.register(FakeConnector(mastodon_rules()))


def test_shipped_rules_answer_for_a_network_switched_off_but_its_connector_does_not() -> None:
    registry = Registry()
    assert registry.rules("facebook") is FACEBOOK and SHIPPED == {"x": X, "facebook": FACEBOOK, "instagram": INSTAGRAM,
                                                                "email": EMAIL}
    with pytest.raises(UnknownPlatform):
        registry.connector("facebook")


def test_the_contract_is_checked_at_construction() -> None:
    class Incomplete(Connector):  # no send(): refused when built, not when a reply goes out
        rules = mastodon_rules()

        def poll(self, cursors, now):  # type: ignore[no-untyped-def]
            return iter(())

    with pytest.raises(TypeError, match="send"):
        Incomplete()  # type: ignore[abstract]


def test_routing_that_names_an_unconfigured_network_fails_at_start_up_naming_the_key(tmp_path: Path) -> None:
    settings = settings_with_routing(tmp_path, "routing:\n  - {channel: C0FB, platform: facebook}\n",
                                     **X_CREDENTIALS)
    with pytest.raises(ConfigError, match=r"'facebook' \(PARLEY_CONFIG routing\.0\.platform\) is not a configured "
                                          r"network; configured: x"):
        app.build(settings, migrate=False)


def test_routing_that_names_a_network_nobody_ships_fails_at_start_up(tmp_path: Path) -> None:
    settings = settings_with_routing(
        tmp_path, "routing:\n  - {channel: C0X, platform: x}\n  - {channel: C0M, platform: mastodon}\n",
        **X_CREDENTIALS)
    with pytest.raises(ConfigError, match=r"routing\.1\.platform"):
        app.check_platforms(settings, app.build_registry(settings))


def test_a_registered_third_network_passes_the_start_up_check(tmp_path: Path) -> None:
    settings = settings_with_routing(tmp_path, "routing:\n  - {channel: C0M, platform: mastodon}\n")
    registry = Registry([FakeConnector(mastodon_rules())])
    app.check_platforms(settings, registry)  # no error
    assert registry.voice_sources() == {"Mastodon mentions": ("mastodon", ("mention",))}


def test_the_fake_connector_records_typed_actions() -> None:
    fake = FakeConnector(mastodon_rules())
    result = fake.send(PublicReply("109", "Thanks!"))
    assert fake.sent == [PublicReply("109", "Thanks!")] and result.external_id == "mastodon-1"


def test_a_webhook_delivery_is_parsed_by_every_registered_network() -> None:
    class Hooked(FakeConnector):
        def parse_webhook(self, payload):  # type: ignore[no-untyped-def]
            return [message for b in self.batches.get("hook", []) for message in b.messages] \
                if payload.get("object") == "mastodon" else []

    silent = FakeConnector(X)  # a network without webhooks keeps the contract's default: nothing
    record = InboundMessage(platform="mastodon", kind=Kind.MENTION, external_id="1", thread_key="1", text="hi",
                            author=Author("a", "a", "A"), created_at=datetime(2026, 1, 1, tzinfo=UTC))
    hooked = Hooked(mastodon_rules(), {"hook": [Batch("hook", [record])]})
    registry = Registry([silent, hooked])
    assert registry.parse_webhook({"object": "mastodon"}) == [record]
    assert registry.parse_webhook({"object": "page"}) == []
    assert silent.complete(record) is record


def test_card_notices_come_from_the_networks_rules_as_configured():
    self_serve, enterprise = rules_for(enterprise=False), rules_for(enterprise=True)
    assert "self-serve API plan" in (self_serve.card_notice("search_hit") or "")
    assert self_serve.card_notice("mention") is None and self_serve.card_notice("dm") is None
    assert enterprise.card_notice("search_hit") is None
    assert shipped_card_notice("x", "search_hit") == self_serve.card_notice("search_hit")
    assert shipped_card_notice("mastodon", "search_hit") is None
    registry = Registry([FakeConnector(enterprise)])
    assert registry.card_notice("x", "search_hit") is None
    assert registry.card_notice("facebook", "comment") is None  # shipped, not configured: its own rules
    assert registry.card_notice("mastodon", "toot") is None
