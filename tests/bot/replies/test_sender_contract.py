"""The Sender reaches any registered network through the typed contract, and refuses what no
connector can send before the message is marked in progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.replies.rules import ReplyRefused
from bot.replies.sender import Sender
from bot.store.database import Store
from bot.store.models import (
    AuditEntry,
    Conversation,
    Customer,
    DeliveryStatus,
    Direction,
    Message,
    OutboxItem,
)
from connectors.base import DirectMessage, PublicReply
from connectors.registry import Registry
from connectors.testing import FakeConnector, mastodon_rules

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def seed(store: Store, platform: str, kind: str, *, text: str = "help") -> int:
    with store.transaction() as s:
        who = Customer(platform=platform, external_id="cust1", handle="dana", name="Dana")
        s.add(who)
        s.flush()
        conv = Conversation(platform=platform, kind=kind, thread_key="t1", customer_id=who.id, channel="C1",
                            first_seen_at=NOW - timedelta(hours=1), last_customer_message_at=NOW - timedelta(hours=1))
        s.add(conv)
        s.flush()
        conv.ref = conv.id
        s.add(Message(conversation_id=conv.id, platform=platform, external_id="toot-9", direction=Direction.INBOUND,
                      kind=kind, text=text, author_id="cust1", created_at=NOW - timedelta(hours=1)))
        return conv.id


def queue(store: Store, sender: Sender, conv_id: int, text: str, mode: str = "public") -> int:
    with store.transaction() as s:
        return sender.queue_reply(s, s.get(Conversation, conv_id), agent_id="U_ANA", text=text, mode=mode,
                                  idempotency_key=f"V-{mode}").id


@pytest.fixture
def fake() -> FakeConnector:
    return FakeConnector(mastodon_rules())


@pytest.fixture
def sender(store: Store, fake: FakeConnector) -> Sender:
    return Sender(store, Registry([fake]), clock=lambda: NOW)


def test_a_reply_on_a_third_network_goes_through_its_connector_with_a_typed_action(store, sender, fake) -> None:
    conv = seed(store, "mastodon", "mention")
    public = sender.deliver(queue(store, sender, conv, "Sorry about that!"))
    private = sender.deliver(queue(store, sender, conv, "Your order number?", mode="private"))
    # A direct message names the message it answers and its stored key (e-mail threads and dedupes on them).
    assert fake.sent == [PublicReply("toot-9", "Sorry about that!"),
                         DirectMessage("cust1", "Your order number?", in_reply_to="toot-9", key="V-private")]
    assert public.status == DeliveryStatus.SENT and public.external_id == "mastodon-1"
    assert private.status == DeliveryStatus.SENT and private.followup is None  # Mastodon declares no notice
    with store.transaction() as s:
        actions = [a.action for a in s.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]
        receipts = s.exec(select(OutboxItem)).all()
    assert actions == ["reply_public", "reply_private"] and len(receipts) == 4  # receipt + card update each


def test_the_third_networks_own_rules_refuse_before_anything_is_stored(store, sender, fake) -> None:
    conv = seed(store, "mastodon", "mention")
    with pytest.raises(ReplyRefused, match="A toot allows 500 characters"):
        queue(store, sender, conv, "x" * 501)
    assert fake.sent == []


def test_a_conversation_on_a_network_that_is_not_registered_is_refused_when_queued(store, sender, fake) -> None:
    conv = seed(store, "facebook", "comment")
    with pytest.raises(ReplyRefused, match="Parley cannot send on facebook: it is not a configured network"):
        queue(store, sender, conv, "Hello")


def test_an_operation_the_connector_has_no_call_for_fails_before_it_is_marked_in_progress(store, sender,
                                                                                          fake) -> None:
    conv = seed(store, "mastodon", "mention")
    message_id = queue(store, sender, conv, "Hello")
    with store.transaction() as s:
        s.get(Message, message_id).kind = "toot_boost"  # e.g. written by a newer version, then rolled back
    outcome = sender.deliver(message_id)
    assert outcome.status == DeliveryStatus.FAILED and "Mastodon has no 'toot_boost' operation" in outcome.error
    assert sender.deliver(message_id).status == DeliveryStatus.FAILED  # settled once
    with store.transaction() as s:
        message = s.get(Message, message_id)
        audits = s.exec(select(AuditEntry).where(AuditEntry.outcome == "failed")).all()
    assert message.send_started_at is None and fake.sent == [] and len(audits) == 1


def test_a_stored_reply_whose_network_was_switched_off_fails_before_it_is_marked_in_progress(store, fake) -> None:
    conv = seed(store, "mastodon", "mention")
    message_id = queue(store, Sender(store, Registry([fake]), clock=lambda: NOW), conv, "Hello")
    outcome = Sender(store, Registry(), clock=lambda: NOW).deliver(message_id)
    assert outcome.status == DeliveryStatus.FAILED and "'mastodon' is not a configured network" in outcome.error
    with store.transaction() as s:
        assert s.get(Message, message_id).send_started_at is None
