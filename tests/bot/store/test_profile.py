"""One customer account's profile (bot/store/profile.py) on SQLite and PostgreSQL: earlier cases,
open cases elsewhere, the tone of the latest messages across cases, followers; never another account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.store.models import Conversation, Customer, Direction, Message, Status
from bot.store.profile import customer_profile

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def account(session, n: int, followers: int | None = None) -> Customer:
    customer = Customer(platform="x", external_id=f"u{n}", handle=f"user{n}", name="Same Name", followers=followers)
    session.add(customer)
    session.flush()
    return customer


def case(session, customer: Customer, n: int, status: Status, tones: tuple[str | None, ...]) -> Conversation:
    conversation = Conversation(platform="x", kind="mention", thread_key=f"t{n}", customer_id=customer.id,
                                channel="C1", status=status)
    session.add(conversation)
    session.flush()
    conversation.ref = conversation.id
    for i, tone in enumerate(tones):
        session.add(Message(conversation_id=conversation.id, platform="x", external_id=f"m{n}.{i}",
                            direction=Direction.INBOUND, kind="mention", text="…", author_id=customer.external_id,
                            created_at=T0 + timedelta(hours=n, minutes=i), tone=tone))
    session.add(Message(conversation_id=conversation.id, platform="x", external_id=f"r{n}", kind="reply",
                        direction=Direction.OUTBOUND, text="…", author_id="U1", created_at=T0 + timedelta(hours=n),
                        tone="positive"))  # staff replies never count in the customer's tone
    session.flush()
    return conversation


def test_a_profile_counts_this_accounts_cases_only(store):
    with store.transaction() as s:
        dana, namesake = account(s, 1, followers=1234), account(s, 2)
        old = case(s, dana, 1, Status.RESOLVED, ("negative", "neutral"))
        pending = case(s, dana, 2, Status.PENDING, ("negative", None))
        snoozed = case(s, dana, 3, Status.SNOOZED, ())
        current = case(s, dana, 4, Status.OPEN, ("positive", "positive", "unknown"))
        case(s, namesake, 5, Status.OPEN, ("negative",))  # same display name: not the same account
        profile = customer_profile(s, dana, current)
        whole = customer_profile(s, dana)
    assert (profile.cases, profile.earlier_cases, profile.followers) == (4, 3, 1234)
    assert profile.open_elsewhere == (snoozed.ref, pending.ref)  # newest first; the resolved one is not open
    assert old.ref not in profile.open_elsewhere
    assert profile.tone_trend == ("neutral", "negative", "positive", "positive", "unknown")  # last 5, oldest first
    assert (whole.earlier_cases, whole.open_elsewhere) == (4, (current.ref, snoozed.ref, pending.ref))


def test_the_tone_trend_reaches_past_the_newest_cases_when_they_are_quiet(store):
    # Seven cases: the newest five hold two tones, so the older ones are read too; a heavy writer's
    # trend is otherwise read from its newest cases only (bot/store/profile.py `_latest_tones`).
    with store.transaction() as s:
        dana, busy = account(s, 1), account(s, 2)
        for n, tones in enumerate([("negative",), ("neutral", "negative"), (), (), (), ("positive",), (None,)]):
            c = case(s, dana, 10 + n, Status.RESOLVED, tones)
            c.first_seen_at = c.last_customer_message_at = T0 + timedelta(hours=10 + n, minutes=5)
        for n in range(8):
            c = case(s, busy, 30 + n, Status.RESOLVED, ("negative" if n < 3 else "positive",))
            c.first_seen_at = c.last_customer_message_at = T0 + timedelta(hours=30 + n, minutes=5)
        s.flush()
        quiet, heavy = customer_profile(s, dana), customer_profile(s, busy)
    assert quiet.tone_trend == ("negative", "neutral", "negative", "positive")
    assert heavy.tone_trend == ("positive",) * 5
