"""Presence: a claimer is alive exactly as long as its process (here: until `stop`), on SQLite and on
PostgreSQL (where a session advisory lock stands for the process), and `orphaned` finds the rows of
dead claimers only."""

from __future__ import annotations

from sqlmodel import col, select

from bot.store.models import Conversation, Customer, OutboxItem, OutboxStatus
from bot.store.presence import Presence, orphaned


def _item(store, key: str, claimer: int | None) -> None:
    with store.transaction() as s:
        customer = Customer(platform="x", external_id=key, handle=key, name=key)
        s.add(customer)
        s.flush()
        conversation = Conversation(platform="x", kind="mention", thread_key=key, customer_id=customer.id,
                                    channel="C1")
        s.add(conversation)
        s.flush()
        s.add(OutboxItem(key=key, kind="post_card", conversation_id=conversation.id, status=OutboxStatus.SENDING,
                         channel="C1", claimed_by=claimer))


def test_a_claimer_is_alive_until_its_process_ends(store):
    one, two = Presence(store), Presence(store)
    first, second = one.claimer(), two.claimer()

    assert first != second and one.claimer() == first  # one id per process, kept
    assert one.is_alive(first) and one.is_alive(second)
    two.stop()
    assert one.is_alive(first) and not one.is_alive(second)
    one.stop()


def test_orphaned_selects_the_rows_of_dead_claimers_only(store):
    live, dead = Presence(store), Presence(store)
    _item(store, "live", live.claimer())
    _item(store, "dead", dead.claimer())
    _item(store, "unclaimed", None)
    dead.stop()

    with store.transaction() as s:
        found = s.exec(select(OutboxItem.key).where(orphaned(col(OutboxItem.claimed_by), live.dialect)),
                       params=live.params()).all()

    assert found == ["dead"]
    live.stop()
