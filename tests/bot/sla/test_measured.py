"""First-response times measured once (bot/sla/measured.py): exact microseconds, named by the hours."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

from bot.sla.clock import first_response_time
from bot.sla.hours import BusinessHours
from bot.sla.measured import ALWAYS_OPEN, FirstResponseMeter, fingerprint

NINE_TO_FIVE = BusinessHours.weekly("Europe/Madrid", {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")})


def test_the_stored_microseconds_read_back_as_the_very_timedelta_measured():
    seen = datetime(2026, 11, 27, 15, 59, 58, 123457, tzinfo=UTC)  # a Friday, 16:59 in Madrid
    answered = datetime(2026, 11, 30, 8, 0, 1, 1, tzinfo=UTC)  # Monday 09:00 in Madrid
    business, calendar = FirstResponseMeter(NINE_TO_FIVE).measure(seen, answered)
    assert (timedelta(microseconds=business), timedelta(microseconds=calendar)) == \
        first_response_time(seen, answered, NINE_TO_FIVE)
    assert business == 1_876_543 + 1_000_001  # 1.876543 s on Friday, 1.000001 s on Monday


def test_the_fingerprint_names_the_hours_and_nothing_else():
    assert fingerprint(NINE_TO_FIVE) == fingerprint(BusinessHours.weekly(
        "Europe/Madrid", {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}))
    assert fingerprint(NINE_TO_FIVE) != fingerprint(BusinessHours.weekly(
        "Europe/Lisbon", {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}))
    assert fingerprint(NINE_TO_FIVE) != fingerprint(BusinessHours.weekly(
        "Europe/Madrid", {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}, country="ES"))
    assert fingerprint(NINE_TO_FIVE) != ALWAYS_OPEN.fingerprint


def test_revision_0010_backfills_under_the_fingerprint_of_24_7_hours():
    revision = importlib.import_module("bot.store.migrations.versions.0010_measured_times")
    assert ALWAYS_OPEN.fingerprint == revision.ALWAYS_OPEN
