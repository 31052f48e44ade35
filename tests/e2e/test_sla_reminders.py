"""Issue 4's acceptance for reminders, through the real app against the emulators.

With PARLEY_SLA_FIRST_RESPONSE=90s, PARLEY_REMINDER_INTERVAL=5s and PARLEY_MANAGERS=U0BOSS, an
unanswered X mention gets a warning, a breach notice and a manager DM, each exactly once; an answered
one gets none. Time is driven by calling the app's own reminder job with a `now` we advance by the
reminder interval (no waiting 90 real seconds); the outbox is drained after every tick.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.runtime import Parley
from bot.schedule.reminders import HERE, ReminderTick
from bot.store.models import Conversation, DeliveryStatus
from sandbox.emulators.stack import EmulatorStack
from tests.e2e.conftest import CHANNEL
from tests.e2e.slack_requests import mirror_x_mention

pytestmark = pytest.mark.e2e
WARNING, BREACH, ESCALATION = "close to its SLA target", "is overdue", "long past its SLA"
ENV = {"PARLEY_SLA_FIRST_RESPONSE": "90s", "PARLEY_REMINDER_INTERVAL": "5s", "PARLEY_MANAGERS": "U0BOSS"}


def reminder_job(parley: Parley) -> tuple[float, ReminderTick]:
    interval, job = parley.jobs["reminders"]
    assert isinstance(job, ReminderTick)
    return interval, job


def answer(parley: Parley, conversation_id: int) -> None:
    """A public reply from staff, stored and sent to X the way the reply modal does it."""
    with parley.store.transaction() as session:
        conversation = session.get(Conversation, conversation_id)
        message = parley.sender.queue_reply(session, conversation, agent_id="U0AGENT", text="Sorry! On it now.",
                                            mode="public", idempotency_key=f"e2e-answer-{conversation_id}")
        session.flush()
        message_id = message.id
    assert parley.sender.deliver(message_id).status == DeliveryStatus.SENT


def texts(stack: EmulatorStack, channel: str, ts: str) -> list[str]:
    return [m.text for m in stack.slack.thread(channel, ts)[1:]]


def test_an_unanswered_mention_is_warned_breached_and_escalated_once_and_an_answered_one_never(
        stack, make_parley):
    stack.slack.add_user("U0BOSS", "boss", real_name="The Boss")
    parley = make_parley(**ENV)
    interval, tick = reminder_job(parley)
    assert interval == 5.0

    # Plain questions: normal priority, whose first-response target PARLEY_SLA_FIRST_RESPONSE sets.
    waiting = mirror_x_mention(stack, parley, "@acme do you ship to Canada?", username="dana",
                               age=timedelta(seconds=1))
    answered = mirror_x_mention(stack, parley, "@acme what are your opening hours?", username="fox",
                                age=timedelta(seconds=1))
    assert (waiting.priority, answered.priority) == ("normal", "normal")
    answer(parley, answered.id)
    start = waiting.waiting_since
    assert start is not None

    # Six minutes of ticks every 5 s: warning at 67.5 s, breach at 90 s, escalation at 180 s.
    fired_at: dict[str, list[int]] = {}
    for step in range(72):
        report = tick.run(start + step * timedelta(seconds=interval))
        for what in report.fired:
            fired_at.setdefault(what, []).append(step * 5)
        parley.outbox.drain()
    assert fired_at == {"warning": [70], "breach": [90], "escalation": [180]}

    # A restarted process (same database) does not repeat any of them.
    _, restarted = reminder_job(make_parley(**ENV))
    assert restarted.run(start + timedelta(minutes=7)).fired == {}
    parley.outbox.drain()

    thread = texts(stack, CHANNEL, waiting.slack_ts)
    assert sum(WARNING in t for t in thread) == 1
    assert sum(BREACH in t for t in thread) == 1
    assert all(HERE in t for t in thread if WARNING in t or BREACH in t)  # unassigned, no PARLEY_ON_DUTY
    breach = next(m for m in stack.slack.thread(CHANNEL, waiting.slack_ts) if BREACH in m.text)
    assert breach.broadcast  # shown in the channel from the thread: one message, not two copies
    assert not any(ESCALATION in t for t in thread)  # escalations go to the managers

    dm = next(c.id for c in stack.slack.channels.values() if c.is_im and c.user == "U0BOSS")
    dms = stack.slack.posts(dm)
    assert len(dms) == 1 and ESCALATION in dms[0].text and f"#{waiting.ref}" in dms[0].text

    # The answered mention: its receipt and nothing else, in its thread, the channel or a DM.
    answered_thread = texts(stack, CHANNEL, answered.slack_ts)
    assert not any(p in t for t in answered_thread for p in (WARNING, BREACH, ESCALATION))
    assert f"#{answered.ref}" not in dms[0].text
    channel_posts = [p.text for p in stack.slack.posts(CHANNEL) if p.thread_ts is None]
    assert not any(p in t for t in channel_posts for p in (WARNING, BREACH, ESCALATION))
