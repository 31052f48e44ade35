"""The reminder tick on SQLite and PostgreSQL (`store`), driven with a shifted `now` (no sleeping).

Cases are built directly in the database; assertions are on the claims and queued outbox rows, and
where it matters on what the Slack emulator received after the real outbox worker drained them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from slack_sdk import WebClient
from sqlmodel import func, select

from bot.delivery.worker import OutboxWorker
from bot.reports.service_level import ServiceLevel
from bot.schedule.due import sla_due, sla_key, window_due
from bot.schedule.reminders import HERE, ReminderTick
from bot.sla import SlaState, SlaStatus
from bot.sla.policy import parse_sla_config
from bot.store import outbox
from bot.store.keys import row_id
from bot.store.models import AuditEntry, Claim, Conversation, Customer, Message, OutboxItem, OutboxKind, OutboxStatus
from connectors.facebook.rules import MESSENGER_24H
from sandbox.emulators.slack_api import SlackEmulator

C1, C2 = "C0SUPPORT1", "C0SUPPORT2"
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a Wednesday
HOUR = timedelta(hours=1)
_n = count(1)
# 1h first response: warning at 45m, breach at 60m, escalation at 120m.
ONE_HOUR = {"sla": {"first_response": {"normal": "1h"}}}
OFFICE = {"business_hours": {"timezone": "UTC", "schedule": {d: ["09:00-17:00"] for d in
                                                             ("mon", "tue", "wed", "thu", "fri")}}}


def service(data: dict = ONE_HOUR) -> ServiceLevel:
    return ServiceLevel.of(parse_sla_config(data))


def case(store, *, waiting_since: datetime | None = T0, channel: str = C1, platform: str = "x",
         kind: str = "mention", assignee: str | None = None, status: str = "open", card: bool = True,
         **fields: object) -> int:
    """A customer, a conversation waiting since `waiting_since` and its opening message."""
    with store.transaction() as s:
        return add_case(s, waiting_since=waiting_since, channel=channel, platform=platform, kind=kind,
                        assignee=assignee, status=status, card=card, **fields)


def add_case(s, *, waiting_since: datetime | None, channel: str, platform: str, kind: str, assignee: str | None,
             status: str, card: bool, **fields: object) -> int:
    """`case` inside the caller's transaction (many cases at once)."""
    n = next(_n)
    wrote = waiting_since or T0
    customer = Customer(platform=platform, external_id=f"u{n}", handle=f"user{n}", name=f"User {n}")
    s.add(customer)
    s.flush()
    conversation = Conversation(platform=platform, kind=kind, thread_key=f"t{n}", customer_id=customer.id,
                                channel=channel, assignee=assignee, status=status, first_seen_at=wrote,
                                waiting_since=waiting_since, last_customer_message_at=wrote,
                                slack_ts=f"1700000000.{n:06d}" if card else None, **fields)
    s.add(conversation)
    s.flush()
    conversation.ref = conversation.id
    s.add(Message(conversation_id=conversation.id, platform=platform, external_id=f"m{n}", direction="inbound",
                  kind=kind, text=f"where is my order {n}?", author_id=customer.external_id, created_at=wrote))
    return conversation.id


def reminders(store) -> list[dict]:
    """Queued reminder messages: kind, channel, conversation, text, broadcast."""
    with store.transaction() as s:
        rows = s.exec(select(OutboxItem).where(OutboxItem.payload.is_not(None)).order_by(OutboxItem.id)).all()
    out = []
    for row in rows:
        payload = json.loads(row.payload)
        out.append({"kind": row.kind, "channel": row.channel, "conversation": row.conversation_id,
                    "text": payload["text"], "broadcast": payload["reply_broadcast"], "key": row.key})
    return out


def card_updates(store) -> int:
    with store.transaction() as s:
        return s.exec(select(func.count()).select_from(OutboxItem)
                      .where(OutboxItem.kind == OutboxKind.UPDATE_CARD)).one()


def claims(store) -> set[str]:
    with store.transaction() as s:
        return set(s.exec(select(Claim.key)).all())


def ticks(tick: ReminderTick, start: datetime, end: datetime, step: timedelta) -> dict[timedelta, dict]:
    """Run the tick from `start` to `end`; return what fired at which offset from T0."""
    fired, now = {}, start
    while now <= end:
        report = tick.run(now)
        if report.fired:
            fired[now - T0] = dict(report.fired)
        now += step
    return fired


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        emulator.add_channel("support-1", id=C1)
        emulator.add_channel("support-2", id=C2)
        yield emulator  # type: ignore[misc]


def client(emulator: SlackEmulator) -> WebClient:
    return WebClient(token=SlackEmulator.TOKEN, base_url=emulator.base_url + "/api/", retry_handlers=[])


def drain(store, emulator: SlackEmulator, sla: ServiceLevel, now: datetime, *, cards_posted: bool = True) -> None:
    """Send the queued items with the real outbox worker (its clock at `now`). Without posted cards,
    card updates and thread replies wait; everything else must have gone."""
    worker = OutboxWorker(store, client(emulator), min_interval=0, clock=lambda: now, sleep=lambda _: None,
                          sla_badge=sla.badge)
    worker.drain()
    waiting = () if cards_posted else (OutboxKind.UPDATE_CARD, OutboxKind.THREAD_MESSAGE)
    with store.transaction() as s:
        stuck = s.exec(select(OutboxItem).where(OutboxItem.status != OutboxStatus.SENT,
                                                OutboxItem.kind.not_in(waiting))).all()
    assert not stuck, [(i.key, i.status, i.last_error) for i in stuck]


def post_cards(store, emulator: SlackEmulator, sla: ServiceLevel, now: datetime) -> None:
    """Post every conversation's card through the real outbox, so thread replies have a parent."""
    with store.transaction() as s:
        for conversation in s.exec(select(Conversation)).all():
            outbox.enqueue(s, kind=OutboxKind.POST_CARD, conversation=conversation)
    drain(store, emulator, sla, now)


# --- the plan (pure) ------------------------------------------------------------------------------
def test_only_the_highest_crossed_threshold_is_due_and_the_lower_ones_are_claimed_silently():
    status = SlaStatus(at=T0, state=SlaState.ESCALATED, period="first_response:1")
    due = sla_due(7, C1, status)
    assert (due.what, due.key) == ("escalation", "sla:7:escalation:first_response:1")
    assert due.silent == ("sla:7:warning:first_response:1", "sla:7:breach:first_response:1")
    assert sla_due(7, C1, SlaStatus(at=T0, state=SlaState.OK, period="p")) is None
    assert sla_due(7, C1, SlaStatus(at=T0, state=SlaState.PAUSED, period="p")) is None


def test_a_window_is_due_inside_its_lead_time_and_never_after_it_closed():
    wrote = T0
    assert window_due(1, C1, "facebook", "messenger", wrote, T0 + 21 * HOUR) is None
    due = window_due(1, C1, "facebook", "messenger", wrote, T0 + 22.5 * HOUR)
    assert due.window is MESSENGER_24H and due.closes_at == T0 + 24 * HOUR
    assert window_due(1, C1, "facebook", "messenger", wrote, T0 + 30 * HOUR) is None
    assert window_due(1, C1, "facebook", "messenger", wrote, T0 + 6.5 * 24 * HOUR).what == "messenger_human_agent"
    assert window_due(1, C1, "facebook", "messenger", wrote, T0 + 8 * 24 * HOUR) is None
    assert window_due(1, C1, "x", "mention", wrote, T0 + 23 * HOUR) is None
    assert window_due(1, C1, "facebook", "messenger", wrote, T0 + 23 * HOUR,
                      {"messenger_24h": timedelta(minutes=30)}) is None  # a shorter lead


# --- the SLA sequence ---------------------------------------------------------------------------
def test_warning_breach_and_escalation_each_fire_exactly_once_over_many_ticks(store):
    conversation = case(store, assignee="U0AGENT")
    tick = ReminderTick(store, service())

    fired = ticks(tick, T0, T0 + 6 * HOUR, timedelta(minutes=5))

    assert fired == {45 * timedelta(minutes=1): {"warning": 1}, HOUR: {"breach": 1}, 2 * HOUR: {"escalation": 1}}
    sent = reminders(store)
    assert [(r["kind"], r["broadcast"]) for r in sent] == [("thread_message", False), ("thread_message", True),
                                                           ("thread_message", True)]
    assert all(r["conversation"] == conversation for r in sent)
    assert "<@U0AGENT>" in sent[0]["text"] and "close to its SLA target" in sent[0]["text"]
    assert "<@U0AGENT>" in sent[1]["text"] and "overdue" in sent[1]["text"]
    assert f"#{conversation}" in sent[2]["text"] and "long past its SLA" in sent[2]["text"]
    assert card_updates(store) == 2  # the card turned red at breach and changed again at escalation
    period = f"first_response:{int(T0.timestamp())}"
    assert claims(store) == {sla_key(conversation, t, period) for t in ("warning", "breach", "escalation")}


def test_an_answered_or_resolved_conversation_gets_nothing(store):
    case(store, waiting_since=None, status="pending", first_response_at=T0 + timedelta(minutes=10))
    case(store, waiting_since=None, status="resolved", resolved_at=T0)
    case(store, status="resolved", resolved_at=T0)  # stale waiting_since on a resolved case
    tick = ReminderTick(store, service())
    assert ticks(tick, T0, T0 + 8 * HOUR, timedelta(minutes=10)) == {}
    assert reminders(store) == [] and claims(store) == set()


def test_a_restarted_tick_does_not_repeat_what_fired_before(store):
    case(store)
    assert ReminderTick(store, service()).run(T0 + 50 * timedelta(minutes=1)).fired == {"warning": 1}
    restarted = ReminderTick(store, service())
    assert restarted.run(T0 + 50 * timedelta(minutes=1)).fired == {}
    assert restarted.run(T0 + 55 * timedelta(minutes=1)).fired == {}
    assert ReminderTick(store, service()).run(T0 + 61 * timedelta(minutes=1)).fired == {"breach": 1}
    assert ReminderTick(store, service()).run(T0 + 62 * timedelta(minutes=1)).fired == {}
    assert len(reminders(store)) == 2


def test_after_downtime_past_every_threshold_only_the_escalation_fires(store):
    conversation = case(store)
    tick = ReminderTick(store, service())
    assert tick.run(T0 + 5 * HOUR).fired == {"escalation": 1}
    assert tick.run(T0 + 6 * HOUR).fired == {}
    assert len(reminders(store)) == 1 and "long past its SLA" in reminders(store)[0]["text"]
    period = f"first_response:{int(T0.timestamp())}"
    assert sla_key(conversation, "warning", period) in claims(store)
    assert sla_key(conversation, "breach", period) in claims(store)


class CountingServiceLevel(ServiceLevel):
    """Counts the clocks evaluated (a frozen dataclass: the count lives in a shared list)."""

    def __init__(self, base: ServiceLevel, calls: list[int]) -> None:
        object.__setattr__(self, "config", base.config)
        object.__setattr__(self, "hours", base.hours)
        object.__setattr__(self, "calls", calls)

    def status(self, conversation, now):  # type: ignore[no-untyped-def]
        self.calls.append(row_id(conversation))
        return super().status(conversation, now)


def test_a_case_escalated_in_its_current_wait_is_not_evaluated_again(store):
    escalated, fresh = case(store), case(store, waiting_since=T0 + 4 * HOUR)
    calls: list[int] = []
    tick = ReminderTick(store, CountingServiceLevel(service(), calls))
    assert tick.run(T0 + 3 * HOUR).fired == {"escalation": 1}
    calls.clear()
    assert tick.run(T0 + 4 * HOUR + timedelta(minutes=50)).fired == {"warning": 1}  # only the fresh case
    assert escalated not in calls and fresh in calls


def test_an_escalated_case_is_still_reminded_of_its_closing_window(store):
    # Escalated cases are read as columns only (the tick's cheap path), yet their windows still count.
    messenger = case(store, platform="facebook", kind="messenger")
    tick = ReminderTick(store, service())
    assert tick.run(T0 + 3 * HOUR).fired == {"escalation": 1}
    assert tick.run(T0 + 22 * HOUR).fired == {"messenger_24h": 1}
    assert f"#{messenger}" in reminders(store)[-1]["text"]


def test_a_new_customer_message_after_an_answer_starts_a_new_period(store):
    conversation = case(store)
    tick = ReminderTick(store, service())
    assert tick.run(T0 + 50 * timedelta(minutes=1)).fired == {"warning": 1}
    with store.transaction() as s:  # answered at 55m, the customer writes again at 3h
        row = s.get(Conversation, conversation)
        row.first_response_at = row.last_response_at = T0 + 55 * timedelta(minutes=1)
        row.waiting_since, row.status = None, "pending"
        s.add(row)
    assert tick.run(T0 + 2 * HOUR).fired == {}
    with store.transaction() as s:
        row = s.get(Conversation, conversation)
        row.waiting_since, row.status = T0 + 3 * HOUR, "open"
        s.add(row)
    assert tick.run(T0 + 3 * HOUR + 50 * timedelta(minutes=1)).fired == {"warning": 1}
    assert len(reminders(store)) == 2


# --- pauses, business hours, quiet hours --------------------------------------------------------
def test_a_snooze_pauses_the_clock_and_it_resumes_after_the_tick_wakes_the_case(store):
    conversation = case(store, status="snoozed", snoozed_until=T0 + 3 * HOUR,
                        sla_paused_since=T0 + 10 * timedelta(minutes=1))
    tick = ReminderTick(store, service())

    assert ticks(tick, T0, T0 + 3 * HOUR - timedelta(minutes=1), timedelta(minutes=5)) == {}
    report = tick.run(T0 + 3 * HOUR)
    assert report.woken == 1 and report.fired == {}
    with store.transaction() as s:
        row = s.get(Conversation, conversation)
        assert (row.status, row.snoozed_until, row.sla_paused_since) == ("open", None, None)
        assert row.sla_paused_seconds == pytest.approx(170 * 60)
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "wake")).one().conversation_id == conversation
    # 10 minutes waited before the snooze; the warning (45m) is due 35 minutes after waking.
    assert tick.run(T0 + 3 * HOUR + 34 * timedelta(minutes=1)).fired == {}
    assert tick.run(T0 + 3 * HOUR + 36 * timedelta(minutes=1)).fired == {"warning": 1}


def test_a_case_arriving_friday_evening_is_not_warned_over_the_weekend(store):
    friday_evening = datetime(2026, 11, 27, 16, 50, tzinfo=UTC)
    case(store, waiting_since=friday_evening)
    tick = ReminderTick(store, service({**ONE_HOUR, **OFFICE}))
    monday_open = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

    assert ticks(tick, friday_evening, monday_open, timedelta(minutes=30)) == {}
    # 10 business minutes on Friday + 35 on Monday = the 45-minute warning.
    assert tick.run(monday_open + 34 * timedelta(minutes=1)).fired == {}
    assert tick.run(monday_open + 35 * timedelta(minutes=1)).fired == {"warning": 1}


@pytest.mark.parametrize("quiet", [True, False])
def test_quiet_hours_hold_pings_until_business_hours_open(store, quiet):
    case(store, waiting_since=datetime(2026, 11, 27, 16, 14, tzinfo=UTC))  # warning due Friday 16:59
    tick = ReminderTick(store, service({"sla": {**ONE_HOUR["sla"], "quiet_hours": quiet}, **OFFICE}))

    friday_after_close = tick.run(datetime(2026, 11, 27, 17, 5, tzinfo=UTC))
    if not quiet:
        assert friday_after_close.fired == {"warning": 1}
        return
    assert friday_after_close.quiet and friday_after_close.fired == {}
    assert tick.run(datetime(2026, 11, 28, 12, 0, tzinfo=UTC)).fired == {}
    assert claims(store) == set()  # nothing claimed while quiet: it is still owed
    assert tick.run(datetime(2026, 11, 30, 9, 1, tzinfo=UTC)).fired == {"warning": 1}


# --- grouping and who is pinged -----------------------------------------------------------------
def test_200_conversations_breaching_together_make_one_message_per_channel(store, slack):
    sla = service()
    with store.transaction() as s:
        for i in range(200):  # most cards not posted yet
            add_case(s, waiting_since=T0, channel=C1 if i < 120 else C2, platform="x", kind="mention",
                     assignee=None, status="open", card=i in (1, 121))
    tick = ReminderTick(store, sla, slack=client(slack))

    assert tick.run(T0 + 50 * timedelta(minutes=1)).fired == {"warning": 200}
    assert tick.run(T0 + 70 * timedelta(minutes=1)).fired == {"breach": 200}
    assert tick.run(T0 + 80 * timedelta(minutes=1)).fired == {}

    sent = reminders(store)
    assert sorted((r["kind"], r["channel"]) for r in sent) == [
        ("channel_message", C1), ("channel_message", C1), ("channel_message", C2), ("channel_message", C2)]
    assert card_updates(store) == 200
    assert HERE in sent[0]["text"]  # unassigned and no PARLEY_ON_DUTY: @here

    # Card updates wait for cards (the emulator has none of these); the grouped messages do not.
    drain(store, slack, sla, T0 + 71 * timedelta(minutes=1), cards_posted=False)
    for channel, n in ((C1, 120), (C2, 80)):
        posts = slack.posts(channel)
        assert len(posts) == 2, [p.text[:80] for p in posts]
        assert f"{n} conversations are close to their SLA target" in posts[0].text
        assert f"{n} conversations are overdue" in posts[1].text
        assert "/archives/" in json.dumps(posts[1].blocks)  # each #N links to its thread


def test_warnings_ping_the_assignees_or_the_on_duty_people(store):
    case(store, assignee="U0ANA")
    case(store, assignee="U0BEN")
    case(store)
    case(store, channel=C2)
    tick = ReminderTick(store, service(), on_duty=["S0DUTY", "U0LEAD"])
    assert tick.run(T0 + 50 * timedelta(minutes=1)).fired == {"warning": 4}
    by_channel = {r["channel"]: r for r in reminders(store)}
    assert by_channel[C1]["kind"] == "channel_message"
    assert by_channel[C1]["text"].startswith("⚠️ <@U0ANA> <@U0BEN> <!subteam^S0DUTY> <@U0LEAD> 3 conversations")
    assert by_channel[C2]["kind"] == "thread_message"
    assert "<!subteam^S0DUTY> <@U0LEAD>" in by_channel[C2]["text"]


def test_each_manager_gets_one_dm_naming_every_escalated_case(store, slack):
    sla = service()
    slack.add_user("U0BOSS", "boss")
    slack.add_user("U0DEPUTY", "deputy")
    slack.add_usergroup("S0LEADS", ["U0BOSS", "U0DEPUTY"])
    refs = [case(store, channel=C1 if i < 2 else C2, card=False) for i in range(3)]
    post_cards(store, slack, sla, T0)
    tick = ReminderTick(store, sla, slack=client(slack), managers=["S0LEADS", "U0BOSS"])

    assert tick.run(T0 + 3 * HOUR).fired == {"escalation": 3}
    assert tick.run(T0 + 4 * HOUR).fired == {}
    drain(store, slack, sla, T0 + 3 * HOUR)

    for manager in ("U0BOSS", "U0DEPUTY"):
        dm = next(c.id for c in slack.channels.values() if c.is_im and c.user == manager)
        posts = slack.posts(dm)
        assert len(posts) == 1
        assert all(f"#{ref}" in posts[0].text for ref in refs)
        assert "waiting 3h" in json.dumps(posts[0].blocks)
    # Escalations went to managers only: nothing new in the channels; the cards turned red.
    assert [p for ch in (C1, C2) for p in slack.posts(ch) if p.thread_ts is not None] == []
    cards_now = [m for ch in (C1, C2) for m in slack.messages[ch] if m.thread_ts is None]
    assert len(cards_now) == 3 and all(m.versions and m.text.startswith("🔴 overdue") for m in cards_now)


def test_escalations_wait_when_no_manager_can_be_reached(store, slack):
    case(store)
    tick = ReminderTick(store, service(), slack=client(slack), managers=["U0GHOST"])  # not in the workspace
    report = tick.run(T0 + 3 * HOUR)
    assert report.deferred == 1 and report.fired == {}
    assert claims(store) == set()
    slack.add_user("U0GHOST", "ghost")
    assert tick.run(T0 + 3 * HOUR + timedelta(minutes=1)).fired == {"escalation": 1}


# --- platform windows ---------------------------------------------------------------------------
def test_messenger_and_facebook_comment_windows_are_reminded_once_each(store):
    long_sla = {"sla": {"first_response": {"normal": "30d"}, "escalate_after": "30d"}}
    messenger = case(store, platform="facebook", kind="messenger")
    comment = case(store, platform="facebook", kind="comment", channel=C2)
    tick = ReminderTick(store, service(long_sla))

    fired = ticks(tick, T0, T0 + 8 * 24 * HOUR, HOUR)

    assert fired == {22 * HOUR: {"messenger_24h": 1}, 6 * 24 * HOUR: {"messenger_human_agent": 1,
                                                                        "fb_private_reply": 1}}
    by_key = {r["key"]: r for r in reminders(store)}
    texts = [r["text"] for r in by_key.values()]
    assert len(texts) == 3
    assert any("Messenger 24-hour window" in t and "HUMAN_AGENT" in t and f"#{messenger}" in t for t in texts)
    assert any("no reply at all" in t for t in texts)
    assert any("private-reply window" in t and "public reply" in t and f"#{comment}" in t for t in texts)


def test_windows_closing_together_in_one_channel_make_one_message(store):
    long_sla = {"sla": {"first_response": {"normal": "30d"}, "escalate_after": "30d"}}
    for _ in range(3):
        case(store, platform="facebook", kind="messenger")
    tick = ReminderTick(store, service(long_sla))
    assert tick.run(T0 + 23 * HOUR).fired == {"messenger_24h": 3}
    sent = reminders(store)
    assert len(sent) == 1 and sent[0]["kind"] == "channel_message"
    assert "3 unanswered conversations" in sent[0]["text"]
