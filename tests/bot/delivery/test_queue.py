"""The outbox as a priority queue per channel (bot/delivery/queue.py) and its parallel lanes
(bot/delivery/lanes.py), driven through `OutboxWorker` against the Slack emulator."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime
from itertools import count

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.delivery.worker import OutboxWorker
from bot.store.models import Conversation, Customer, Message, OutboxItem, OutboxKind, OutboxStatus, Priority
from bot.store.outbox import PRIVATE, REACH, ROUTINE, URGENT, enqueue
from sandbox.emulators.server import Request, Response
from sandbox.emulators.slack_api import SlackEmulator
from tests.bot.delivery.test_worker import client_for, conversation, posted_keys, worker_for

CHANNEL, OTHER = "C0SUPPORT1", "C0SALES001"
_ids = count(10_000)


def case(store, channel: str = CHANNEL, *, text: str = "nice dashboard", complaint: bool = False,
         priority: str = Priority.NORMAL, kind: str = "mention") -> int:
    """A conversation with its opening message and its card queued, as ingest does."""
    n = next(_ids)
    with store.transaction() as s:
        customer = Customer(platform="x", external_id=f"u{n}", handle=f"user{n}", name=f"User {n}")
        s.add(customer)
        s.flush()
        conv = Conversation(platform="x", kind=kind, thread_key=f"t{n}", customer_id=customer.id, channel=channel,
                            complaint=complaint, priority=priority)
        s.add(conv)
        s.flush()
        conv.ref = conv.id
        message = Message(conversation_id=conv.id, platform="x", external_id=f"m{n}", direction="inbound",
                          kind=kind, text=f"{text} ({n})", author_id=customer.external_id,
                          created_at=datetime.now(UTC))
        s.add(message)
        s.flush()
        enqueue(s, kind=OutboxKind.POST_CARD, conversation=conv, message=message)
        return conv.id


def follow_up(store, conversation_id: int, text: str, *, complaint: bool | None = None) -> str:
    """A customer's follow-up (which may turn the case into a complaint), queued for the thread."""
    with store.transaction() as s:
        conv = s.get_one(Conversation, conversation_id)
        if complaint is not None:
            conv.complaint = complaint
            s.add(conv)
        message = Message(conversation_id=conversation_id, platform="x", external_id=f"m{next(_ids)}",
                          direction="inbound", kind="mention", text=text, author_id="u", created_at=datetime.now(UTC))
        s.add(message)
        s.flush()
        return enqueue(s, kind=OutboxKind.THREAD_MESSAGE, conversation=conv, message=message).key


def card_key(store, conversation_id: int) -> str:
    with store.transaction() as s:
        return s.exec(select(OutboxItem.key).where(OutboxItem.conversation_id == conversation_id,
                                                   OutboxItem.kind == OutboxKind.POST_CARD)).one()


def keys_in_order(emulator: SlackEmulator) -> list[str]:
    return [p.metadata["event_payload"]["key"] for p in emulator.posts()]


def test_the_class_is_fixed_when_queued(store):
    ids = {name: case(store, **kw) for name, kw in {
        "complaint": {"complaint": True}, "urgent": {"priority": Priority.URGENT},
        "reach": {"priority": Priority.HIGH}, "dm": {"kind": "dm"}, "messenger": {"kind": "messenger"},
        "routine": {},
    }.items()}
    with store.transaction() as s:
        ranks = {row.conversation_id: row.rank for row in s.exec(select(OutboxItem))}
    assert {name: ranks[i] for name, i in ids.items()} == {
        "complaint": URGENT, "urgent": URGENT, "reach": REACH, "dm": PRIVATE, "messenger": PRIVATE,
        "routine": ROUTINE}


def test_a_complaint_after_200_routine_mentions_goes_first_and_its_thread_stays_in_order(store, slack, clock):
    routine = [case(store) for _ in range(200)]
    complaint = case(store, text="charged twice, nobody answers", complaint=True)
    replies = [follow_up(store, complaint, f"still broken {i}") for i in range(2)]
    worker = worker_for(store, slack, clock, min_interval=0)

    assert worker.drain(max_items=3) == 3

    assert keys_in_order(slack) == [card_key(store, complaint), *replies]
    card_ts = conversation(store, complaint).slack_ts
    assert [p.thread_ts for p in slack.posts()] == [None, card_ts, card_ts]
    assert worker.drain() == 200
    assert keys_in_order(slack)[3:] == [card_key(store, c) for c in routine]  # FIFO within a class


def test_a_case_that_becomes_a_complaint_lifts_its_card_but_keeps_its_thread_in_order(store, slack, clock):
    early = case(store)
    for _ in range(20):
        case(store)
    turned = follow_up(store, early, "and now you charged me twice", complaint=True)
    late_routine = case(store)
    worker = worker_for(store, slack, clock, min_interval=0)

    assert worker.drain(max_items=2) == 2

    assert keys_in_order(slack) == [card_key(store, early), turned]
    worker.drain()
    assert keys_in_order(slack)[-1] == card_key(store, late_routine)


def test_private_messages_go_before_routine_mentions_and_after_reach(store, slack, clock):
    mention, dm, big = case(store), case(store, kind="dm"), case(store, priority=Priority.HIGH)

    assert worker_for(store, slack, clock, min_interval=0).drain() == 3

    assert keys_in_order(slack) == [card_key(store, big), card_key(store, dm), card_key(store, mention)]


class Work:
    """What the database did during a delivery: SQL statements, and SQLite virtual-machine steps
    (counted by a progress handler every 100 instructions) — a measure of rows read, not of time."""

    def __init__(self, store) -> None:
        self.statements = 0
        self.steps = 0
        sa.event.listen(store.engine, "before_cursor_execute", self._statement)
        sa.event.listen(store.engine, "connect", self._connect)
        store.engine.dispose()  # reconnect, so every pooled connection has the progress handler

    def _statement(self, *args) -> None:
        self.statements += 1

    def _connect(self, dbapi_connection, _record) -> None:
        dbapi_connection.set_progress_handler(self._step, 100)

    def _step(self) -> int:
        self.steps += 1
        return 0

    def during(self, action) -> tuple[int, int]:
        self.statements = self.steps = 0
        action()
        return self.statements, self.steps


def test_a_delivery_costs_the_same_with_10_or_1000_items_queued(sqlite_store, slack, clock):
    store = sqlite_store
    case(store)
    work = Work(store)
    worker = worker_for(store, slack, clock, min_interval=0)
    worker.drain(max_items=1)  # the first drain also recovers; measure later ones
    for _ in range(10):
        case(store)
    small = work.during(lambda: worker.drain(max_items=1))
    for _ in range(990):
        case(store)
    large = work.during(lambda: worker.drain(max_items=1))

    assert large[0] == small[0], "the number of SQL statements per delivery must not depend on the queue"
    assert large[1] < 2 * small[1], f"rows read per delivery grew with the queue: {small} → {large}"


class SlowChannel(SlackEmulator):
    """Holds every post to `slow` until a post to another channel has arrived (or 10 s passed).
    The hold is outside the workspace lock, as a slow network would be."""

    def __init__(self, slow: str, **kw) -> None:
        super().__init__(**kw)
        self.slow = slow
        self.other_posted = threading.Event()

    def _api(self, request: Request) -> Response:
        posts_to = request.args().get("channel") if request.params["method"] == "chat.postMessage" else None
        if posts_to == self.slow:
            self.other_posted.wait(timeout=10)
        response = super()._api(request)
        if posts_to is not None and posts_to != self.slow:
            self.other_posted.set()
        return response


def test_channels_are_sent_to_in_parallel(store):
    with SlowChannel(CHANNEL) as emulator:
        slow, fast = case(store, CHANNEL), case(store, OTHER)
        worker = OutboxWorker(store, client_for(emulator), min_interval=0, parallel=2)

        assert worker.drain() == 2

        # The slow channel's post was started first and was still waiting when the other one landed.
        assert keys_in_order(emulator) == [card_key(store, fast), card_key(store, slow)]


def test_replicas_on_postgresql_deliver_each_item_once(store):
    if not store.is_postgres:
        pytest.skip("replicas share one PostgreSQL database (SKIP LOCKED); SQLite is single-process")
    with SlackEmulator() as emulator:
        for i in range(30):
            conv = case(store, (CHANNEL, OTHER)[i % 2])
            follow_up(store, conv, "any news?")
        workers = [OutboxWorker(store, client_for(emulator), min_interval=0, parallel=2, recover_on_start=False)
                   for _ in range(2)]
        stop = threading.Event()
        threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in workers]
        for thread in threads:
            thread.start()
        try:
            deadline = time.monotonic() + 60
            while len(emulator.posts()) < 60 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            for w in workers:
                w.wake()
            for thread in threads:
                thread.join(timeout=30)

        assert Counter(posted_keys(emulator).values()) == Counter({1: 60})
        with store.transaction() as s:
            assert {i.status for i in s.exec(select(OutboxItem))} == {OutboxStatus.SENT}


def test_a_drain_starts_nothing_more_once_stopped(store, slack, clock):
    """Stopping the app must not wait for a long queue to drain (3 000 cards take 50 minutes)."""
    for _ in range(5):
        case(store)
    stop = threading.Event()
    worker = worker_for(store, slack, clock, min_interval=1.0)
    real_sleep = clock.sleep

    def stop_while_pacing(seconds: float) -> None:
        stop.set()
        real_sleep(seconds)

    worker._sleep = stop_while_pacing  # the first pacing wait (before the second post) stops the app

    assert worker.drain(stop=stop) == 2  # the one that was waiting for its pace still goes out
    assert len(slack.posts()) == 2


def test_a_thread_queued_under_a_channel_name_moves_to_the_id_slack_answers_with(store, clock):
    with SlackEmulator(clock=clock.epoch) as emulator:
        emulator.add_channel("support", id=CHANNEL)
        conv = case(store, "#support")
        follow_up(store, conv, "hello?")
        worker = worker_for(store, emulator, clock, min_interval=0)

        assert worker.drain(max_items=1) == 1

        with store.transaction() as s:
            queued = s.exec(select(OutboxItem).where(OutboxItem.status == OutboxStatus.PENDING)).one()
        assert queued.channel == CHANNEL  # one Slack channel, one lane: paced once
        assert worker.drain() == 1
        assert [p.channel for p in emulator.posts()] == [CHANNEL, CHANNEL]
