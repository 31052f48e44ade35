"""Claiming in batches (bot/delivery/claiming.py): a pace's worth of items per transaction, each
claimed once, handed back untried when the batch is cut short, and one at a time at Slack's pace."""

from __future__ import annotations

import sqlalchemy as sa

from bot.store.models import OutboxStatus
from tests.bot.delivery.test_queue import CHANNEL, card_key, case
from tests.bot.delivery.test_worker import items, posted_keys, worker_for


def commits_during(store, action) -> int:
    seen = []

    def committed(_connection) -> None:
        seen.append(1)

    sa.event.listen(store.engine, "commit", committed)
    try:
        action()
    finally:
        sa.event.remove(store.engine, "commit", committed)
    return len(seen)


def test_a_drain_commits_as_often_for_40_items_as_for_4(store, slack, clock):
    worker = worker_for(store, slack, clock, min_interval=0)
    worker.drain()  # the first drain also recovers; measure later ones
    for _ in range(4):
        case(store)
    few = commits_during(store, worker.drain)
    for _ in range(40):
        case(store)
    many = commits_during(store, worker.drain)

    assert many <= few, "claims and sent marks are written per batch, not per item"
    assert len(slack.posts()) == 44 and set(posted_keys(slack).values()) == {1}
    assert all(i.status == OutboxStatus.SENT and i.attempts == 1 for i in items(store))


def test_a_failure_hands_the_rest_of_the_batch_back_untried(store, slack, clock):
    cases = [case(store) for _ in range(5)]
    slack.fail_next(r"chat\.postMessage", 500, times=1)
    worker = worker_for(store, slack, clock, min_interval=0)

    assert worker.drain() == 4  # the first failed; the others were handed back, then sent
    first, *rest = (next(i for i in items(store) if i.key == card_key(store, c)) for c in cases)
    assert first.status == OutboxStatus.SENDING and first.attempts == 1  # maybe posted: looked up later
    assert all(i.status == OutboxStatus.SENT and i.attempts == 1 for i in rest)
    clock.advance(60)
    worker.drain()
    assert set(posted_keys(slack).values()) == {1} and len(slack.posts()) == 5


def test_at_slacks_pace_a_complaint_queued_meanwhile_waits_for_one_post_at_most(store, slack, clock):
    routine = [case(store) for _ in range(3)]
    complaint: list[int] = []

    def sleep(seconds: float) -> None:  # the worker waits for the channel's pace: a complaint arrives
        clock.sleep(seconds)
        if not complaint:
            complaint.append(case(store, complaint=True, text="you charged me twice"))

    worker = worker_for(store, slack, clock, min_interval=1.0)
    worker._sleep = sleep  # the pacing wait, as `worker_for` wires the clock's
    worker.drain()

    # The item after the first was claimed before the pause (one at a time at this pace); the
    # complaint goes right after it, before the rest of the routine cards.
    order = [p.metadata["event_payload"]["key"] for p in slack.posts(CHANNEL)]
    assert order == [card_key(store, c) for c in (routine[0], routine[1], complaint[0], routine[2])]
