"""The configured SLA applied to stored conversations: badges for cards and lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.reports.service_level import ServiceLevel, local_time
from bot.sla import SlaConfig
from bot.store.models import Conversation

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _conversation(**fields) -> Conversation:
    base = dict(id=7, ref=7, platform="x", kind="mention", thread_key="1", customer_id=1, channel="C0SUPPORT",
                status="open", priority="normal", first_seen_at=NOW - timedelta(hours=1),
                waiting_since=NOW - timedelta(hours=1))
    return Conversation(**{**base, **fields})


def test_running_clock_shows_time_left_and_a_due_time_token():
    level = ServiceLevel.of(SlaConfig())  # normal: 4h, 24/7
    badge = level.badge(_conversation(), NOW)
    assert badge.state == "ok"
    assert badge.label == "3h 00m left · due 15:00 UTC"


def test_warning_breach_and_pause_states():
    level = ServiceLevel.of(SlaConfig())
    assert level.badge(_conversation(waiting_since=NOW - timedelta(hours=3, minutes=30)), NOW).state == "warning"
    breached = level.badge(_conversation(waiting_since=NOW - timedelta(hours=5)), NOW)
    assert breached.state == "breached" and breached.overdue and "overdue by 1h 00m" in breached.label
    paused = level.badge(_conversation(status="snoozed", sla_paused_since=NOW - timedelta(minutes=5)), NOW)
    assert paused.state == "paused"


def test_answered_cases_say_how_fast_and_resolved_without_reply_show_nothing():
    level = ServiceLevel.of(SlaConfig())
    fast = _conversation(waiting_since=None, first_response_at=NOW - timedelta(minutes=50), status="pending")
    slow = _conversation(waiting_since=None, first_seen_at=NOW - timedelta(hours=6),
                         first_response_at=NOW - timedelta(hours=1), status="pending")
    assert level.badge(fast, NOW).state == "met" and "10m" in level.badge(fast, NOW).label
    late = level.badge(slow, NOW)
    assert late.state == "none" and "5h 00m" in late.label and "target 4h 00m" in late.label
    assert level.badge(_conversation(waiting_since=None, status="resolved"), NOW) is None


def test_pause_meter_counts_business_time_only():
    hours_config = SlaConfig.model_validate({"opening": {"timezone": "UTC",
                                                         "schedule": {"mon": ["09:00-17:00"]}}})
    level = ServiceLevel.of(hours_config)
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert level.pause_meter(monday, monday + timedelta(hours=4)) == 3 * 3600


def test_due_time_is_local_to_business_hours_with_the_day_when_far():
    assert local_time(NOW + timedelta(minutes=30), NOW, "Europe/Madrid") == "13:30 CET"
    assert local_time(NOW + timedelta(days=2), NOW, "Europe/Madrid") == "Fri 27 Nov 13:00 CET"
