"""The reports' overdue judge gives `bot.sla.clock.overdue_kind` for every clock, under any policy and
business hours, and follows a change of either at once (nothing is stored)."""

from datetime import UTC, datetime, timedelta

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reports.overdue import OverdueJudge
from bot.reports.service_level import ServiceLevel
from bot.sla.clock import ClockInput, overdue_kind
from bot.sla.policy import SlaConfig, parse_sla_config

OFFICE = parse_sla_config(yaml.safe_load("""
business_hours:
  timezone: Europe/Madrid
  holidays: {country: ES}
  schedule: {mon: ["09:00-14:00", "15:00-18:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"],
             thu: ["09:00-17:00"], fri: ["09:00-14:00"]}
sla:
  first_response: {urgent: 10m, normal: 2h}
  next_response: {high: 30m}
  overrides:
    - {platform: facebook, first_response: {normal: 8h}}
    - {channel: C0VIP, first_response: {normal: 30m}, next_response: {normal: 15m}}
"""))
POLICIES = [ServiceLevel.of(OFFICE), ServiceLevel.of(SlaConfig())]
NOW = datetime(2026, 3, 10, 11, 30, tzinfo=UTC)
instants = st.datetimes(min_value=datetime(2026, 2, 1), max_value=datetime(2026, 3, 11), timezones=st.just(UTC))
clocks = st.builds(
    ClockInput, status=st.sampled_from(["open", "pending", "snoozed", "resolved"]),
    priority=st.sampled_from(["urgent", "high", "normal", "low"]), platform=st.sampled_from(["x", "facebook"]),
    channel=st.sampled_from(["C0SUPPORT", "C0VIP"]), first_seen_at=instants,
    waiting_since=st.none() | instants, first_response_at=st.none() | instants,
    sla_paused_since=st.none() | instants,
    sla_paused_seconds=st.sampled_from([0.0, 0.5, 60.0, 3600.25, 7200.000001, 86400.0]))


@settings(max_examples=300, deadline=None)
@given(service_level=st.sampled_from(POLICIES), batch=st.lists(clocks, min_size=1, max_size=20), now=instants)
def test_the_judge_agrees_with_the_clock(service_level, batch, now):
    judge = OverdueJudge(service_level, now)  # one judge for many clocks, as `waiting` uses it
    for clock in batch:
        assert judge.clock(clock) == overdue_kind(clock, service_level.config, service_level.hours, now)


def test_a_wait_exactly_at_its_target_is_overdue_and_a_microsecond_later_is_not():
    service_level = ServiceLevel.of(SlaConfig())  # normal first response: 4 h, 24/7
    on_time = ClockInput("open", "normal", "x", "C1", NOW, waiting_since=NOW - timedelta(hours=4))
    late = ClockInput("open", "normal", "x", "C1", NOW, waiting_since=NOW - timedelta(hours=4, microseconds=-1))
    assert OverdueJudge(service_level, NOW).clock(on_time) == "first_response"
    assert OverdueJudge(service_level, NOW).clock(late) is None


def test_a_changed_target_or_business_hours_apply_at_the_next_judgement():
    clock = ClockInput("open", "normal", "x", "C1", NOW, waiting_since=NOW - timedelta(hours=3))
    assert OverdueJudge(ServiceLevel.of(SlaConfig()), NOW).clock(clock) is None  # 4 h target
    shorter = SlaConfig().with_first_response(timedelta(hours=2))
    assert OverdueJudge(ServiceLevel.of(shorter), NOW).clock(clock) == "first_response"
    # Under office hours (Tuesday 12:30 Madrid, opened 09:00) the same 3 h wait is 3 business hours.
    office = ServiceLevel.of(OFFICE)
    assert OverdueJudge(office, NOW).clock(clock) == "first_response"
    assert OverdueJudge(office, NOW).clock(ClockInput("open", "normal", "facebook", "C1", NOW,
                                                        waiting_since=NOW - timedelta(hours=3))) is None
