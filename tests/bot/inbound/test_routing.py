from datetime import UTC, datetime

from bot.inbound.routing import Router, RoutingConfig, RoutingRule
from connectors.base import Author, InboundMessage, Kind, Platform


def _msg(text="hello", platform=Platform.X, kind=Kind.MENTION, queries=()):
    return InboundMessage(platform=platform, kind=kind, external_id="1", thread_key="1", text=text,
                          author=Author("9", "ana", "Ana"), created_at=datetime(2026, 1, 1, tzinfo=UTC),
                          query_names=queries)


ROUTER = Router(RoutingConfig(routing=(
    RoutingRule(channel="C0RIVAL", query="rival"),
    RoutingRule(channel="C0ES", language="es"),
    RoutingRule(channel="C0BILL", keywords=("refund", "reembolso")),
    RoutingRule(channel="C0FB", platform="facebook"),
)), "C0DEFAULT")


def test_first_matching_rule_wins():
    assert ROUTER.channel_for(_msg(queries=("rival",)), "es") == "C0RIVAL"
    assert ROUTER.channel_for(_msg(), "es") == "C0ES"
    assert ROUTER.channel_for(_msg("I want a REFUND now"), "en") == "C0BILL"
    assert ROUTER.channel_for(_msg(platform=Platform.FACEBOOK, kind=Kind.COMMENT), "en") == "C0FB"


def test_keywords_match_whole_words_only():
    assert ROUTER.channel_for(_msg("refundable fares?"), "en") == "C0DEFAULT"


def test_no_rule_and_no_default_is_none():
    assert Router(RoutingConfig(), None).channel_for(_msg(), "en") is None
