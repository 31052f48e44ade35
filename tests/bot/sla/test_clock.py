from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.sla.clock import (
    ClockInput,
    SlaState,
    evaluate,
    first_response_time,
    format_duration,
    pause_ended,
    sla_label,
)
from bot.sla.hours import BusinessHours
from bot.sla.policy import PriorityTargets, SlaConfig
from bot.store.models import Conversation

M, H = timedelta(minutes=1), timedelta(hours=1)
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday
ALWAYS = BusinessHours.always_open()
CONFIG = SlaConfig()  # normal: 4h first response; warn at 75%; escalate at 200%
MADRID = ZoneInfo("Europe/Madrid")
OFFICE = BusinessHours.weekly("Europe/Madrid", {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")})


def waiting(**changes) -> ClockInput:
    base = ClockInput(status="open", priority="normal", platform="x", channel="C1", first_seen_at=T0,
                      waiting_since=T0)
    return replace(base, **changes)


def test_states_advance_ok_warning_breached_escalated():
    inp = waiting()
    seen = [(evaluate(inp, CONFIG, ALWAYS, T0 + dt).state, dt) for dt in (0 * H, 2 * H, 3 * H, 4 * H, 7 * H, 8 * H)]
    assert [s for s, _ in seen] == [SlaState.OK, SlaState.OK, SlaState.WARNING, SlaState.BREACHED,
                                    SlaState.BREACHED, SlaState.ESCALATED]


def test_running_clock_reports_its_thresholds():
    status = evaluate(waiting(), CONFIG, ALWAYS, T0 + H)
    assert status.kind == "first_response"
    assert status.target == 4 * H
    assert status.started_at == T0
    assert status.elapsed == H
    assert status.remaining == 3 * H
    assert (status.warn_at, status.due_at, status.escalate_at) == (T0 + 3 * H, T0 + 4 * H, T0 + 8 * H)
    assert status.period == f"first_response:{int(T0.timestamp())}"
    assert status.running and not status.overdue
    assert sla_label(status, T0 + H) == "3h 00m left"


def test_overdue_remaining_is_negative():
    status = evaluate(waiting(), CONFIG, ALWAYS, T0 + 5 * H + 5 * M)
    assert status.remaining == -(H + 5 * M)
    assert status.overdue
    assert sla_label(status, T0 + 5 * H + 5 * M) == "overdue by 1h 05m"


def test_the_period_is_stable_within_a_wait_and_new_for_the_next_wait():
    first = evaluate(waiting(), CONFIG, ALWAYS, T0 + H).period
    assert evaluate(waiting(), CONFIG, ALWAYS, T0 + 6 * H).period == first
    later = waiting(waiting_since=T0 + 10 * H, first_response_at=T0 + 9 * H)
    assert evaluate(later, CONFIG, ALWAYS, T0 + 11 * H).period == f"next_response:{int((T0 + 10 * H).timestamp())}"


def test_next_response_uses_its_own_target():
    config = SlaConfig(next_response=PriorityTargets(normal=2 * H))
    inp = waiting(first_response_at=T0 - H)
    status = evaluate(inp, config, ALWAYS, T0 + 90 * M)
    assert status.kind == "next_response"
    assert status.target == 2 * H
    assert status.state is SlaState.WARNING
    assert evaluate(waiting(), config, ALWAYS, T0 + 90 * M).state is SlaState.OK  # first response: 4h


def test_nothing_waiting_or_resolved_is_none():
    for inp in (waiting(waiting_since=None, status="pending"), waiting(status="resolved", resolved_at=T0 + H)):
        status = evaluate(inp, CONFIG, ALWAYS, T0 + 10 * H)
        assert status.state is SlaState.NONE
        assert (status.kind, status.due_at, status.period, status.remaining) == (None, None, None, None)
        assert sla_label(status, T0 + 10 * H) == ""


def test_a_snooze_in_progress_pauses_the_clock():
    inp = waiting(status="snoozed", sla_paused_since=T0 + H)
    status = evaluate(inp, CONFIG, ALWAYS, T0 + 10 * H)
    assert status.state is SlaState.PAUSED
    assert status.elapsed == H
    assert status.remaining == 3 * H
    assert (status.warn_at, status.due_at, status.escalate_at) == (None, None, None)
    assert sla_label(status, T0 + 10 * H) == "paused (snoozed)"


def test_paused_time_is_excluded_after_the_snooze_ends():
    paused = pause_ended(T0 + H, T0 + 3 * H, ALWAYS)
    assert paused == 2 * 3600
    inp = waiting(sla_paused_seconds=paused)
    status = evaluate(inp, CONFIG, ALWAYS, T0 + 5 * H)
    assert status.elapsed == 3 * H
    assert status.state is SlaState.WARNING
    assert status.due_at == T0 + 6 * H
    assert evaluate(inp, CONFIG, ALWAYS, T0 + 6 * H).state is SlaState.BREACHED


def test_pause_ended_counts_business_time_after_the_wait_began():
    friday_evening = datetime(2026, 3, 6, 16, tzinfo=MADRID)
    assert pause_ended(friday_evening, datetime(2026, 3, 9, 10, tzinfo=MADRID), OFFICE) == 2 * 3600
    assert pause_ended(T0 - H, T0 + H, ALWAYS, waiting_since=T0) == 3600


def test_business_hours_stop_the_clock_overnight_and_at_weekends():
    start = datetime(2026, 3, 6, 16, tzinfo=MADRID)  # Friday 16:00; 4h target
    inp = waiting(waiting_since=start, first_seen_at=start)
    saturday = evaluate(inp, CONFIG, OFFICE, datetime(2026, 3, 7, 12, tzinfo=MADRID))
    assert saturday.state is SlaState.OK
    assert saturday.elapsed == H
    assert saturday.warn_at == datetime(2026, 3, 9, 11, tzinfo=MADRID)
    assert saturday.due_at == datetime(2026, 3, 9, 12, tzinfo=MADRID)
    assert saturday.escalate_at == datetime(2026, 3, 9, 16, tzinfo=MADRID)  # 8h: Friday 1h + Monday 7h
    assert saturday.at.tzinfo is UTC and saturday.started_at.tzinfo is UTC
    monday = evaluate(inp, CONFIG, OFFICE, datetime(2026, 3, 9, 12, tzinfo=MADRID))
    assert monday.state is SlaState.BREACHED


def test_overrides_apply_to_the_clock():
    config = SlaConfig.model_validate({"overrides": [{"platform": "facebook", "first_response": {"normal": "8h"}}]})
    status = evaluate(waiting(platform="facebook"), config, ALWAYS, T0 + 5 * H)
    assert status.target == 8 * H
    assert status.state is SlaState.OK


def test_escalation_after_a_fixed_duration():
    config = SlaConfig(escalate_after=timedelta(minutes=30))
    assert evaluate(waiting(), config, ALWAYS, T0 + 4 * H + 29 * M).state is SlaState.BREACHED
    assert evaluate(waiting(), config, ALWAYS, T0 + 4 * H + 30 * M).state is SlaState.ESCALATED


def test_env_override_drives_a_quick_trial():
    config = CONFIG.with_first_response(timedelta(seconds=90))
    states = [evaluate(waiting(), config, ALWAYS, T0 + timedelta(seconds=s)).state for s in (0, 68, 90, 180)]
    assert states == [SlaState.OK, SlaState.WARNING, SlaState.BREACHED, SlaState.ESCALATED]


def test_resolution_due_is_reported_when_configured():
    config = SlaConfig(resolution=PriorityTargets(normal=timedelta(days=3)))
    assert evaluate(waiting(), config, ALWAYS, T0 + H).resolution_due_at == T0 + timedelta(days=3)
    pending = waiting(status="pending", waiting_since=None)
    assert evaluate(pending, config, ALWAYS, T0 + H).resolution_due_at == T0 + timedelta(days=3)
    assert evaluate(waiting(), CONFIG, ALWAYS, T0 + H).resolution_due_at is None


def test_clock_input_reads_a_conversation():
    conversation = Conversation(platform="facebook", kind="comment", thread_key="t", customer_id=1, channel="C9",
                                status="snoozed", priority="high", first_seen_at=T0, waiting_since=T0 + H,
                                sla_paused_since=T0 + 2 * H, sla_paused_seconds=60.0)
    inp = ClockInput.of(conversation)
    assert inp == ClockInput(status="snoozed", priority="high", platform="facebook", channel="C9",
                             first_seen_at=T0, waiting_since=T0 + H, first_response_at=None, resolved_at=None,
                             sla_paused_since=T0 + 2 * H, sla_paused_seconds=60.0)


def test_first_response_time_business_and_calendar():
    seen = datetime(2026, 3, 6, 16, tzinfo=MADRID)
    answered = datetime(2026, 3, 9, 10, tzinfo=MADRID)
    assert first_response_time(seen, answered, OFFICE) == (2 * H, answered - seen)
    assert first_response_time(T0, T0 + 90 * M, ALWAYS) == (90 * M, 90 * M)


@pytest.mark.parametrize(("value", "text"), [
    (timedelta(seconds=45), "45s"), (12 * M, "12m"), (H + 5 * M, "1h 05m"), (-(H + 5 * M), "1h 05m"),
    (timedelta(days=2, hours=3, minutes=10), "2d 3h"),
])
def test_format_duration(value, text):
    assert format_duration(value) == text
