"""The Slack outbox end to end: rows in the `store` (SQLite and PostgreSQL), the real slack_sdk
WebClient, a started SlackEmulator, and a fake clock whose `sleep` only moves time forward."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import count, pairwise

import pytest
from slack_sdk import WebClient
from sqlmodel import select

from bot.delivery.worker import OutboxWorker
from bot.store import outbox
from bot.store.models import (
    Conversation,
    Customer,
    Message,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Status,
)
from bot.store.outbox import enqueue
from sandbox.emulators.server import Response
from sandbox.emulators.slack_api import SlackEmulator

CHANNEL, OTHER = "C0SUPPORT1", "C0SALES001"
RATE_LIMITED = {"ok": False, "error": "ratelimited"}
_ids = count(1)


class FakeClock:
    """Starts at the real time (so Slack ts and row timestamps agree); moves only when told."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def client_for(emulator: SlackEmulator) -> WebClient:
    return WebClient(token=SlackEmulator.TOKEN, base_url=emulator.base_url + "/api/", retry_handlers=[])


def worker_for(store, emulator: SlackEmulator, clock: FakeClock, **kw) -> OutboxWorker:
    return OutboxWorker(store, client_for(emulator), clock=clock, sleep=clock.sleep, **kw)


def new_conversation(store, channel: str = CHANNEL, text: str = "My order never arrived") -> int:
    """A customer, a conversation and its opening message, with the card queued (as ingest does)."""
    n = next(_ids)
    with store.transaction() as s:
        customer = Customer(platform="x", external_id=f"u{n}", handle=f"user{n}", name=f"User {n}", followers=10)
        s.add(customer)
        s.flush()
        conversation = Conversation(platform="x", kind="mention", thread_key=f"t{n}", customer_id=customer.id,
                                    channel=channel)
        s.add(conversation)
        s.flush()
        conversation.ref = conversation.id
        message = Message(conversation_id=conversation.id, platform="x", external_id=f"m{n}", direction="inbound",
                          kind="mention", text=f"{text} ({n})", author_id=customer.external_id,
                          created_at=datetime.now(UTC))
        s.add(message)
        s.flush()
        enqueue(s, kind=OutboxKind.POST_CARD, conversation=conversation, message=message)
        return conversation.id


def follow_up(store, conversation_id: int, text: str) -> str:
    with store.transaction() as s:
        conversation = s.get(Conversation, conversation_id)
        message = Message(conversation_id=conversation_id, platform="x", external_id=f"m{next(_ids)}",
                          direction="inbound", kind="mention", text=text, author_id="u",
                          created_at=datetime.now(UTC))
        s.add(message)
        s.flush()
        return enqueue(s, kind=OutboxKind.THREAD_MESSAGE, conversation=conversation, message=message).key


def items(store) -> list[OutboxItem]:
    with store.transaction() as s:
        return list(s.exec(select(OutboxItem).order_by(OutboxItem.id)).all())


def conversation(store, conversation_id: int) -> Conversation:
    with store.transaction() as s:
        return s.get(Conversation, conversation_id)


def posted_keys(emulator: SlackEmulator) -> Counter:
    return Counter(p.metadata["event_payload"]["key"] for p in emulator.posts())


def drain_until_done(worker: OutboxWorker, store, clock: FakeClock, rounds: int = 300) -> None:
    for _ in range(rounds):
        worker.drain()
        if all(i.status in (OutboxStatus.SENT, OutboxStatus.DEAD) for i in items(store)):
            return
        clock.advance(1)
    pytest.fail(f"outbox not drained: {[(i.key, i.status, i.last_error) for i in items(store)]}")


def test_card_first_then_replies_threaded_in_order(store, slack, clock):
    conv_id = new_conversation(store)
    keys = [follow_up(store, conv_id, f"follow-up {i}") for i in range(3)]
    with store.transaction() as s:
        notice_key = enqueue(s, kind=OutboxKind.THREAD_MESSAGE, conversation=s.get(Conversation, conv_id),
                             text="Assigned to <@U0STAFF1>").key

    assert worker_for(store, slack, clock).drain() == 5

    card_ts = conversation(store, conv_id).slack_ts
    thread = slack.thread(CHANNEL, card_ts)
    assert [m.text.split(": ", 1)[-1] for m in thread[1:4]] == ["follow-up 0", "follow-up 1", "follow-up 2"]
    assert thread[4].text == "Assigned to <@U0STAFF1>"
    assert "My order never arrived" in thread[0].text
    assert [m.metadata["event_payload"]["key"] for m in thread[1:]] == [*keys, notice_key]
    assert all(i.status == OutboxStatus.SENT and i.channel == CHANNEL and i.slack_ts for i in items(store))
    assert [p.thread_ts for p in slack.posts()] == [None, card_ts, card_ts, card_ts, card_ts]


def test_enqueue_with_an_existing_key_is_a_no_op(store):
    conv_id = new_conversation(store)
    with store.transaction() as s:
        conv = s.get(Conversation, conv_id)
        opening = s.exec(select(Message).where(Message.conversation_id == conv_id)).one()
        again = enqueue(s, kind=OutboxKind.POST_CARD, conversation=conv, message=opening)
        assert again.key == f"post_card:{conv_id}:{opening.id}"
    assert len(items(store)) == 1


def test_card_updates_collapse_into_one_call_showing_the_latest_state(store, slack, clock):
    conv_id = new_conversation(store)
    worker = worker_for(store, slack, clock)
    worker.drain()
    for status in (Status.PENDING, Status.SNOOZED, Status.RESOLVED):
        with store.transaction() as s:
            conv = s.get(Conversation, conv_id)
            conv.status = status
            s.add(conv)
            enqueue(s, kind=OutboxKind.UPDATE_CARD, conversation=conv)

    assert worker.drain() == 3

    assert len(slack.calls_to(r"chat\.update$")) == 1
    card = slack.thread(CHANNEL, conversation(store, conv_id).slack_ts)[0]
    assert "Resolved" in card.blocks[0]["text"]["text"]
    assert card.metadata["event_payload"]["key"].startswith("post_card:")  # the update kept the card's key
    assert [i.status for i in items(store)] == [OutboxStatus.SENT] * 4


def test_a_change_committed_while_updates_are_claimed_is_shown_or_stays_queued(store, slack, clock, monkeypatch):
    """Another thread commits a new status with its card update between the claim's first read and
    its read of the updates to collapse: the chat.update either shows it or leaves it queued."""
    from bot.delivery import claiming  # noqa: PLC0415 (the module whose step is interleaved)

    conv_id = new_conversation(store)
    worker = worker_for(store, slack, clock)
    worker.drain()
    set_status(store, conv_id, Status.PENDING)
    original, writers = claiming._pending_updates, []

    def commit_meanwhile(*args, **kwargs):
        if not writers:
            # SQLite: the claim holds the write lock, so this waits for it; PostgreSQL: commits now.
            writers.append(threading.Thread(target=set_status, args=(store, conv_id, Status.RESOLVED)))
            writers[0].start()
            writers[0].join(timeout=1.0)
        return original(*args, **kwargs)

    monkeypatch.setattr(claiming, "_pending_updates", commit_meanwhile)
    worker.drain()
    monkeypatch.setattr(claiming, "_pending_updates", original)
    writers[0].join()
    worker.drain()  # whatever was left queued

    card = slack.thread(CHANNEL, conversation(store, conv_id).slack_ts)[0]
    assert "Resolved" in card.blocks[0]["text"]["text"]
    assert all(i.status == OutboxStatus.SENT for i in items(store))


def set_status(store, conv_id: int, status: Status) -> None:
    with store.transaction() as s:
        conv = s.get(Conversation, conv_id)
        conv.status = status
        s.add(conv)
        enqueue(s, kind=OutboxKind.UPDATE_CARD, conversation=conv)


def test_thread_messages_and_updates_wait_for_their_card(store, slack, clock):
    conv_id = new_conversation(store)
    follow_up(store, conv_id, "hello?")
    slack.fail_next(r"chat\.postMessage", 429, headers={"Retry-After": "5"}, body=RATE_LIMITED)
    worker = worker_for(store, slack, clock)

    assert worker.drain() == 0
    assert slack.posts() == []
    clock.advance(5)
    assert worker.drain() == 2
    card_ts = conversation(store, conv_id).slack_ts
    assert [p.thread_ts for p in slack.posts()] == [None, card_ts]


def test_429_storm_delivers_everything_exactly_once_in_order(store, slack, clock):
    convs = [new_conversation(store, channel=ch) for ch in (CHANNEL, OTHER, CHANNEL)]
    for conv_id in convs:
        for i in range(3):
            follow_up(store, conv_id, f"follow-up {i}")
    slack.fail_next(r"chat\.postMessage", 429, times=10, headers={"Retry-After": "3"}, body=RATE_LIMITED)

    drain_until_done(worker_for(store, slack, clock), store, clock)

    assert len(slack.calls_to(r"chat\.postMessage$")) == 12 + 10
    assert set(posted_keys(slack).values()) == {1}
    assert sorted(posted_keys(slack)) == sorted(i.key for i in items(store))
    assert all(i.status == OutboxStatus.SENT for i in items(store))
    for conv_id in convs:
        c = conversation(store, conv_id)
        assert [m.text.rsplit(": ", 1)[-1] for m in slack.thread(c.channel, c.slack_ts)[1:]] == [
            "follow-up 0", "follow-up 1", "follow-up 2"]


def test_a_429_pauses_only_its_channel(store, slack, clock):
    busy, calm = new_conversation(store, channel=CHANNEL), new_conversation(store, channel=OTHER)
    slack.fail_next(r"chat\.postMessage", 429, headers={"Retry-After": "30"}, body=RATE_LIMITED)
    worker = worker_for(store, slack, clock)

    assert worker.drain() == 1
    assert conversation(store, calm).slack_ts is not None and conversation(store, busy).slack_ts is None
    clock.advance(29)
    assert worker.drain() == 0
    clock.advance(1)
    assert worker.drain() == 1
    assert conversation(store, busy).slack_ts is not None


class PostsThenFails(SlackEmulator):
    """Posts the message, then answers 500 the first `times` times: the client cannot tell."""

    def __init__(self, times: int, **kw) -> None:
        super().__init__(**kw)
        self.remaining = times

    def m_chat_postMessage(self, args: dict):
        result = self.chat_methods.m_chat_postMessage(args)
        if self.remaining > 0 and not isinstance(result, Response):
            self.remaining -= 1
            return Response(500, {"ok": False, "error": "internal_error"})
        return result


@pytest.mark.parametrize("posted_before_failing", [False, True], ids=["lost", "posted"])
def test_server_errors_are_retried_without_duplicates(store, clock, posted_before_failing):
    emulator = PostsThenFails(3 if posted_before_failing else 0, clock=clock.epoch)
    with emulator:
        if not posted_before_failing:
            emulator.fail_next(r"chat\.postMessage", 503, times=3)
        first, second = new_conversation(store), new_conversation(store, channel=OTHER)
        follow_up(store, first, "still waiting")
        follow_up(store, second, "hello")
        worker = worker_for(store, emulator, clock)

        drain_until_done(worker, store, clock)

        assert set(posted_keys(emulator).values()) == {1}
        assert len(posted_keys(emulator)) == 4
        c = conversation(store, first)
        assert [m.text for m in emulator.thread(c.channel, c.slack_ts)][1].endswith("still waiting")
        looked_up = emulator.calls_to(r"conversations\.(history|replies)$")
        assert looked_up, "an uncertain post must be looked up before it is sent again"


def test_a_failing_card_holds_back_its_thread_but_not_other_conversations(store, slack, clock):
    stuck, free = new_conversation(store), new_conversation(store, channel=OTHER)
    follow_up(store, stuck, "anyone?")
    follow_up(store, free, "thanks")
    slack.fail_next(r"chat\.postMessage", 500, times=1)
    worker = worker_for(store, slack, clock)

    assert worker.drain() == 2
    assert {p.channel for p in slack.posts()} == {OTHER}
    by_conv = {i.conversation_id: i for i in items(store) if i.kind == OutboxKind.POST_CARD}
    assert by_conv[stuck].status == OutboxStatus.SENDING and by_conv[stuck].last_error.startswith("http_500")
    clock.advance(outbox.backoff(1))
    assert worker.drain() == 2
    assert set(posted_keys(slack).values()) == {1}


@pytest.mark.parametrize("crash_on", [OutboxKind.POST_CARD, OutboxKind.THREAD_MESSAGE])
def test_crash_after_slack_answered_is_found_by_metadata_not_reposted(store, slack, clock, monkeypatch, crash_on):
    conv_id = new_conversation(store)
    reply_key = follow_up(store, conv_id, "are you there?")
    worker = worker_for(store, slack, clock)
    real_mark_sent = OutboxWorker._mark_sent

    def crash_once(self, claim, channel, ts):
        if claim.item.kind == crash_on:
            monkeypatch.setattr(OutboxWorker, "_mark_sent", real_mark_sent)
            raise RuntimeError("killed before the ts was stored")
        return real_mark_sent(self, claim, channel, ts)

    monkeypatch.setattr(OutboxWorker, "_mark_sent", crash_once)
    with pytest.raises(RuntimeError):
        worker.drain()
    assert OutboxStatus.SENDING in {i.status for i in items(store)}
    worker.presence.stop()  # the process died: on PostgreSQL its session (and presence lock) ended

    restarted = worker_for(store, slack, clock)
    restarted.drain()

    assert set(posted_keys(slack).values()) == {1} and len(slack.posts()) == 2
    card_ts = conversation(store, conv_id).slack_ts
    assert card_ts == slack.posts()[0].ts
    assert {i.key: i.slack_ts for i in items(store)}[reply_key] == slack.posts()[1].ts
    assert all(i.status == OutboxStatus.SENT for i in items(store))
    lookup = "conversations.history" if crash_on == OutboxKind.POST_CARD else "conversations.replies"
    assert slack.calls_to(lookup.replace(".", r"\.") + "$")


def test_a_sending_item_of_a_live_worker_is_left_alone_until_its_lease_expires(store, slack, clock):
    new_conversation(store)
    with store.transaction() as s:
        item = s.exec(select(OutboxItem)).one()
        item.status, item.next_attempt_at = OutboxStatus.SENDING, clock() + timedelta(seconds=120)
        s.add(item)
    worker = worker_for(store, slack, clock, recover_on_start=False)

    assert worker.drain() == 0
    assert slack.calls == []
    clock.advance(120)
    assert worker.drain() == 1
    assert len(slack.posts()) == 1 and slack.calls_to(r"conversations\.history$")


def _claimed_mid_post(store, clock, claimer: int) -> None:
    with store.transaction() as s:  # committed SENDING, its lease running: the claimer is posting it
        item = s.exec(select(OutboxItem)).one()
        item.status, item.next_attempt_at = OutboxStatus.SENDING, clock() + timedelta(seconds=120)
        item.claimed_by = claimer
        s.add(item)


def test_a_restarted_replica_leaves_a_live_replicas_sending_item_alone(store, slack, clock):
    """Regression (bench/kill_drill.py, PostgreSQL, 3 replicas): a replica restarted after kill -9 took
    over every SENDING item at once, also those a live replica was posting, and posted them again."""
    if not store.is_postgres:
        pytest.skip("replicas share one PostgreSQL database; SQLite is one process per file")
    new_conversation(store)
    live = worker_for(store, slack, clock)
    _claimed_mid_post(store, clock, live.presence.claimer())
    restarted = worker_for(store, slack, clock)  # recover_on_start, as `parley run` builds it

    assert restarted.drain() == 0 and slack.calls == []
    live.presence.stop()  # now the live one dies too
    assert restarted.drain() == 1  # taken over at once, no lease to wait out
    assert len(slack.posts()) == 1 and slack.calls_to(r"conversations\.history$")


def test_an_item_a_dead_process_left_sending_is_looked_up_and_sent_once_at_once(store, slack, clock):
    new_conversation(store)
    dead = worker_for(store, slack, clock)
    _claimed_mid_post(store, clock, dead.presence.claimer())
    dead.presence.stop()
    survivor = worker_for(store, slack, clock, recover_on_start=False)  # long running: not recovering

    assert survivor.drain() == 1
    assert len(slack.posts()) == 1 and slack.calls_to(r"conversations\.history$")
    assert {(i.status, i.claimed_by) for i in items(store)} == {(OutboxStatus.SENT, None)}


def test_a_burst_of_60_stays_under_one_post_per_second_per_channel(store, clock):
    emulator = SlackEmulator(clock=clock.epoch, channel_rate_limit=(1, 1.0))
    with emulator:
        for _ in range(20):
            conv_id = new_conversation(store)
            follow_up(store, conv_id, "one")
            follow_up(store, conv_id, "two")
        worker = worker_for(store, emulator, clock, min_interval=1.0)

        assert worker.drain() == 60

        times = [p.at for p in emulator.posts(CHANNEL)]
        assert len(times) == 60 and len(emulator.calls_to(r"chat\.postMessage$")) == 60  # no 429 at all
        assert min(b - a for a, b in pairwise(times)) >= 1.0 - 1e-6
        assert set(posted_keys(emulator).values()) == {1}


def test_channel_not_found_waits_for_an_invite_and_others_are_delivered(store, clock):
    """A channel Parley cannot see (private and not invited, or a wrong ID) is a person's to fix:
    its items wait with the fix in `last_error`, nothing is dead, other channels carry on."""
    emulator = SlackEmulator(clock=clock.epoch, strict_channels=True)
    emulator.add_channel("support", id=CHANNEL)
    with emulator:
        lost, fine = new_conversation(store, channel="C0MISSING1"), new_conversation(store)
        follow_up(store, lost, "hello?")
        follow_up(store, fine, "hi")

        assert worker_for(store, emulator, clock).drain() == 2

        states = {(i.conversation_id, i.kind): (i.status, i.last_error) for i in items(store)}
        status, error = states[(lost, OutboxKind.POST_CARD)]
        assert status == OutboxStatus.PENDING and "/invite @Parley" in error and "C0MISSING1" in error
        assert states[(lost, OutboxKind.THREAD_MESSAGE)] == (OutboxStatus.PENDING, None)  # waits for its card
        assert states[(fine, OutboxKind.THREAD_MESSAGE)][0] == OutboxStatus.SENT
        assert len(emulator.posts(CHANNEL)) == 2


def test_refusals_are_retried_with_backoff_then_given_up(store, slack, clock):
    new_conversation(store)
    slack.fail_next(r"chat\.postMessage", 200, times=10, body={"ok": False, "error": "invalid_auth"})
    worker = worker_for(store, slack, clock, max_attempts=3)

    for _ in range(3):
        worker.drain()
        clock.advance(60)

    [item] = items(store)
    assert (item.status, item.attempts) == (OutboxStatus.DEAD, 3)
    assert item.last_error == "gave up after 3 attempts: invalid_auth"
    assert len(slack.calls_to(r"chat\.postMessage$")) == 3 and slack.posts() == []


def test_pacing_waits_only_when_every_due_channel_is_busy(store, slack, clock):
    for channel in (CHANNEL, OTHER, CHANNEL, OTHER, CHANNEL, OTHER):
        new_conversation(store, channel=channel)

    assert worker_for(store, slack, clock, min_interval=1.0).drain() == 6

    assert sum(clock.sleeps) == pytest.approx(2.0)  # three rounds of two channels, not six seconds
    for channel in (CHANNEL, OTHER):
        times = [p.at for p in slack.posts(channel)]
        assert min(b - a for a, b in pairwise(times)) >= 1.0 - 1e-6


def test_run_delivers_after_wake_and_stops(store, slack):
    worker = OutboxWorker(store, client_for(slack), min_interval=0.0)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        new_conversation(store)
        worker.wake()
        deadline = time.monotonic() + 10
        while not slack.posts() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        worker.wake()
        thread.join(timeout=10)
    assert len(slack.posts()) == 1 and not thread.is_alive()
