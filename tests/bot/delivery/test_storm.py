"""Storm mode in the outbox: the decision, roll-ups as outbox items (exactly once, crash-safe, never
losing a case), the alert, and cases leaving a roll-up for their own card. The store (SQLite and
PostgreSQL), the real WebClient and a SlackEmulator, with a fake clock."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlmodel import select

from bot import ids
from bot.delivery.storm import StormMonitor, StormPolicy, decide
from bot.delivery.worker import OutboxWorker
from bot.store import outbox
from bot.store.models import Conversation, Customer, Message, OutboxItem, OutboxKind, OutboxStatus
from bot.store.outbox import enqueue
from sandbox.emulators.slack_api import SlackEmulator
from tests.bot.delivery.test_worker import CHANNEL, FakeClock, client_for, items

MIN_INTERVAL = timedelta(milliseconds=100)
POLICY = StormPolicy(window=timedelta(seconds=2), update_every=timedelta(seconds=1))  # capacity 20
_n = count(1)


# --- the decision ---------------------------------------------------------------------------------
def test_capacity_is_what_the_pace_posts_in_a_window() -> None:
    assert StormPolicy().capacity(timedelta(seconds=1)) == 60
    assert POLICY.capacity(MIN_INTERVAL) == 20
    assert StormPolicy(window=timedelta(seconds=1)).capacity(timedelta(seconds=5)) == 1


@pytest.mark.parametrize(("storming", "backlog", "inflow", "expected"), [
    (False, 60, 0, False),  # exactly what the pace clears: no storm
    (False, 61, 0, True),  # more queued than a minute of posting
    (False, 0, 61, True),  # more arriving than a minute of posting, even if nothing waits
    (True, 31, 0, True),  # hysteresis: stays on above half the threshold
    (True, 0, 31, True),
    (True, 30, 30, False),  # both at half: back to cards
    (False, 45, 45, False),  # between the two thresholds, a calm channel stays calm
])
def test_decide_switches_on_above_capacity_and_off_below_half(storming, backlog, inflow, expected) -> None:
    assert decide(storming, backlog=backlog, inflow=inflow, capacity=60) is expected


# --- helpers --------------------------------------------------------------------------------------
def case(store, *, complaint: bool = False, text: str = "nice dashboard", kind: str = "mention") -> int:
    n = next(_n)
    with store.transaction() as s:
        customer = Customer(platform="x", external_id=f"s{n}", handle=f"fan{n}", name=f"Fan {n}", followers=n)
        s.add(customer)
        s.flush()
        conversation = Conversation(platform="x", kind=kind, thread_key=f"st{n}", customer_id=customer.id,
                                    channel=CHANNEL, complaint=complaint, url=f"https://x.com/fan{n}/status/{n}")
        s.add(conversation)
        s.flush()
        conversation.ref = conversation.id
        message = Message(conversation_id=conversation.id, platform="x", external_id=f"sm{n}", direction="inbound",
                          kind=kind, text=f"{text} ({n})", author_id=customer.external_id, created_at=datetime.now(UTC))
        s.add(message)
        s.flush()
        enqueue(s, kind=OutboxKind.POST_CARD, conversation=conversation, message=message)
        return conversation.id


def worker(store, emulator: SlackEmulator, clock: FakeClock, **kw) -> OutboxWorker:
    policy = kw.pop("storm", StormPolicy(window=POLICY.window, update_every=POLICY.update_every,
                                         alert_channels=("C0MANAGERS",)))
    return OutboxWorker(store, client_for(emulator), clock=clock, sleep=clock.sleep,
                        min_interval=MIN_INTERVAL.total_seconds(), storm=policy, **kw)


def rollup_members(emulator: SlackEmulator) -> list[int]:
    return [int(b["accessory"]["value"]) for p in emulator.posts(CHANNEL) for b in p.blocks
            if b.get("accessory", {}).get("action_id") == ids.ACTION_OPEN_AS_CARD]


def card_keys(emulator: SlackEmulator) -> Counter[str]:
    return Counter(p.metadata["event_payload"]["key"] for p in emulator.posts(CHANNEL) if p.metadata)


# --- the monitor ----------------------------------------------------------------------------------
def test_the_monitor_starts_a_storm_past_the_backlog_and_ends_it_when_it_falls(store, clock) -> None:
    policy = StormPolicy(window=POLICY.window, update_every=POLICY.update_every, check_every=timedelta(0))
    monitor = StormMonitor(store, policy, min_interval=MIN_INTERVAL)
    assert monitor.check(CHANNEL, clock()) is None  # a quiet channel
    for _ in range(20):
        case(store)
    case(store, complaint=True)  # complaints never count
    clock.advance(1)
    assert monitor.check(CHANNEL, clock()) is None  # 20 queued and arrived: what the pace clears in the window
    case(store)
    clock.advance(0.5)
    assert monitor.check(CHANNEL, clock()) == "start" and monitor.storming(CHANNEL)
    with store.transaction() as s:  # the backlog is posted (or rolled up)
        for item in s.exec(select(OutboxItem)).all():
            item.status = OutboxStatus.SENT
            s.add(item)
    clock.advance(0.5)
    assert monitor.check(CHANNEL, clock()) == "update"  # nothing queued, but 21 arrived within the window
    clock.advance(3)
    assert monitor.check(CHANNEL, clock()) == "end"
    monitor.ended(CHANNEL)
    assert not monitor.storming(CHANNEL) and monitor.channels() == []


# --- the worker in a storm ------------------------------------------------------------------------
def test_in_a_storm_complaints_and_dms_get_cards_first_and_the_rest_one_rollup(store, slack, clock) -> None:
    slack.add_channel("managers", id="C0MANAGERS")
    routine = [case(store) for _ in range(30)]
    complaints = [case(store, complaint=True) for _ in range(3)]
    dm = case(store, kind="dm")
    w = worker(store, slack, clock)

    w.drain()

    posts = slack.posts(CHANNEL)
    assert ids.BLOCK_SPIKE_ALERT in {b["block_id"] for b in posts[0].blocks}  # the alert says so first
    cards = [p.metadata["event_payload"]["key"] for p in posts[1:5]]
    assert [int(k.split(":")[1]) for k in cards] == [*complaints, dm]
    assert sorted(rollup_members(slack)) == routine and len(posts) == 1 + 4 + 1  # alert, 4 cards, 1 roll-up
    by_conv = {i.conversation_id: i for i in items(store) if i.kind == OutboxKind.POST_CARD}
    rollup = next(i for i in items(store) if i.kind == OutboxKind.ROLLUP)
    assert rollup.status == OutboxStatus.SENT and json.loads(rollup.payload)["members"] == [
        by_conv[c].id for c in routine]
    assert all(by_conv[c].status == OutboxStatus.ROLLED_UP and by_conv[c].slack_ts == rollup.slack_ts
               for c in routine)
    assert len(slack.posts("C0MANAGERS")) == 1  # the managers' channel has the alert too


def test_a_rollup_posted_before_a_crash_is_found_by_its_key_not_posted_again(store, slack, clock,
                                                                              monkeypatch) -> None:
    routine = [case(store) for _ in range(25)]
    real_mark_sent = OutboxWorker._mark_sent

    def crash_once(self, claim, channel, ts):
        if claim.item.kind == OutboxKind.ROLLUP:
            monkeypatch.setattr(OutboxWorker, "_mark_sent", real_mark_sent)
            raise RuntimeError("killed before the ts was stored")
        return real_mark_sent(self, claim, channel, ts)

    monkeypatch.setattr(OutboxWorker, "_mark_sent", crash_once)
    killed = worker(store, slack, clock)
    with pytest.raises(RuntimeError):
        killed.drain()
    killed.presence.stop()  # the process died: on PostgreSQL its session (and presence lock) ended
    worker(store, slack, clock, storm=StormPolicy(enabled=False)).drain()  # restarted, storm or not

    assert sorted(rollup_members(slack)) == routine  # shown once, in the one roll-up
    assert not [k for k in card_keys(slack) if k.startswith("post_card:")]
    assert {i.status for i in items(store)} == {OutboxStatus.SENT, OutboxStatus.ROLLED_UP}


def test_a_rollup_slack_refuses_for_good_gives_its_cases_back_to_the_queue(store, slack, clock) -> None:
    routine = [case(store) for _ in range(25)]
    slack.fail_next(r"chat\.postMessage$", 200, body={"ok": False, "error": "invalid_blocks"})
    w = worker(store, slack, clock, storm=StormPolicy(window=POLICY.window, update_every=timedelta(hours=1)))
    w.storms.check(CHANNEL, clock())  # the storm begins (its alert is refused: an alert is only a display)
    w.drain()
    rolled = next(i for i in items(store) if i.kind == OutboxKind.ROLLUP)
    assert rolled.status == OutboxStatus.SENT  # the alert took the injected failure, the roll-up went out
    slack.fail_next(r"chat\.postMessage$", 200, body={"ok": False, "error": "invalid_blocks"})
    more = [case(store) for _ in range(5)]
    w.drain()

    dead = [i for i in items(store) if i.kind == OutboxKind.ROLLUP and i.status == OutboxStatus.DEAD]
    assert len(dead) == 1
    shown = Counter(rollup_members(slack)) + Counter(
        int(k.split(":")[1]) for k in card_keys(slack) if k.startswith("post_card:"))
    assert set(shown) == set(routine + more) and set(shown.values()) == {1}  # nothing lost, nothing twice


# --- leaving a roll-up --------------------------------------------------------------------------------
def test_a_follow_up_or_open_as_card_gives_a_rolled_up_case_its_own_card_once(store, slack, clock) -> None:
    routine = [case(store) for _ in range(25)]
    w = worker(store, slack, clock)
    w.drain()
    first, second = routine[0], routine[1]
    with store.transaction() as s:
        conversation = s.get_one(Conversation, first)
        message = Message(conversation_id=first, platform="x", external_id="later", direction="inbound",
                          kind="mention", text="and another thing", author_id="s", created_at=datetime.now(UTC))
        s.add(message)
        s.flush()
        enqueue(s, kind=OutboxKind.THREAD_MESSAGE, conversation=conversation, message=message)
        enqueue(s, kind=OutboxKind.UPDATE_CARD, conversation=conversation)  # a second item: no second card
        assert outbox.open_card(s, s.get_one(Conversation, second), rank=outbox.URGENT) is not None
        assert outbox.open_card(s, s.get_one(Conversation, second), rank=outbox.URGENT) is None  # a double click
    w.drain()

    keys = card_keys(slack)
    assert keys[f"post_card:{first}:own"] == 1 and keys[f"post_card:{second}:own"] == 1
    with store.transaction() as s:
        card_ts = s.get_one(Conversation, first).slack_ts
        assert outbox.open_card(s, s.get_one(Conversation, first)) is None  # it has its card now
    assert card_ts and len(slack.workspace.thread(CHANNEL, card_ts)) == 2
