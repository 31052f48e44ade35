"""Share of voice counts every network with the sources its connector declares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.reports.figures import Period, share_of_voice
from bot.store.database import Store
from bot.store.models import Conversation, Customer, Direction, Message, MessageMatch
from connectors.registry import Registry
from connectors.testing import FakeConnector, mastodon_rules
from connectors.x.rules import MENTIONS_KEY

START = datetime(2026, 3, 2, tzinfo=UTC)
PERIOD = Period(START, START + timedelta(days=7), "this week")


def heard(store: Store, platform: str, kinds: list[str], *, queries: tuple[str, ...] = ()) -> None:
    with store.transaction() as s:
        who = Customer(platform=platform, external_id=f"{platform}-c", handle="c", name="C")
        s.add(who)
        s.flush()
        conv = Conversation(platform=platform, kind=kinds[0], thread_key=f"{platform}-t", customer_id=who.id,
                            channel="C1", first_seen_at=START)
        s.add(conv)
        s.flush()
        for n, kind in enumerate(kinds):
            message = Message(conversation_id=conv.id, platform=platform, external_id=f"{platform}-{n}",
                              direction=Direction.INBOUND, kind=kind, text="hi", author_id=who.external_id,
                              created_at=START + timedelta(hours=n + 1))
            s.add(message)
            s.flush()
            for name in queries:
                s.add(MessageMatch(message_id=message.id, query_name=name))


def test_every_shipped_network_counts_with_its_sources(store: Store) -> None:
    heard(store, "x", ["mention", "mention", "dm"], queries=("acme",))
    heard(store, "facebook", ["comment", "visitor_post", "comment", "messenger"])
    with store.transaction() as s:
        assert share_of_voice(s, PERIOD) == {"acme": 3, MENTIONS_KEY: 2, "Facebook Page": 3}


def test_a_registered_third_network_counts_with_the_sources_it_declares(store: Store) -> None:
    heard(store, "x", ["mention"])
    heard(store, "mastodon", ["mention", "mention", "dm"])
    registry = Registry([FakeConnector(mastodon_rules())])
    with store.transaction() as s:
        assert share_of_voice(s, PERIOD, registry.voice_sources()) == {"Mastodon mentions": 2}
        assert share_of_voice(s, PERIOD) == {MENTIONS_KEY: 1}  # the shipped networks only
