"""The one snooze parser: what people type after `/social snooze #N` and what they pick in the card's
Snooze select end at the same moment — pure, `now` and the person's zone passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import ids
from commands.context import UserError
from commands.snooze import MORNING, choice_spec, needs_zone, snooze_until

NOW = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)
MADRID = ZoneInfo("Europe/Madrid")


# --- typed (moved from tests/commands/test_social_parsing.py) ------------------------------------


@pytest.mark.parametrize(("spec", "later"), [
    ("30m", timedelta(minutes=30)), ("2h", timedelta(hours=2)), ("1.5H", timedelta(hours=1.5)),
    ("1d", timedelta(days=1)), (" 2 h ", timedelta(hours=2)),
])
def test_snooze_durations(spec, later):
    assert snooze_until(spec, NOW) == NOW + later


def test_snooze_tomorrow_is_nine_in_the_morning_of_the_callers_next_day():
    assert snooze_until("tomorrow", NOW) == datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
    late = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)  # Tuesday in UTC, already Wednesday in Madrid
    assert snooze_until("tomorrow", late) == datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
    madrid = snooze_until("Tomorrow", late, MADRID)
    assert madrid.astimezone(MADRID) == datetime(2026, 3, 12, 9, 0, tzinfo=MADRID)


@pytest.mark.parametrize(("spec", "words"), [
    ("", "How long?"), ("soon", "not a snooze time"), ("5", "not a snooze time"), ("250ms", "not a snooze time"),
    ("2w", "not a snooze time"), ("91d", "at most 90 days"),
    ("0m", "at least a minute"), ("0.0d", "at least a minute"), ("0.001m", "at least a minute"),
    ("99999999999999999999m", "at most 90 days"), ("1" + "0" * 400 + "d", "at most 90 days"),
    ("999999h", "at most 90 days"), ("1e5m", "not a snooze time"),
])
def test_snooze_refuses_other_times(spec, words):
    with pytest.raises(UserError, match=words):
        snooze_until(spec, NOW)


# --- picked on the card (moved from tests/e2e/test_card_actions.py) ------------------------------


def test_snooze_choices_land_on_the_right_local_time():
    friday_late = datetime(2026, 3, 13, 22, 30, tzinfo=UTC)  # Friday 23:30 in Madrid
    assert snooze_until(choice_spec(ids.SNOOZE_30M), friday_late) == friday_late + timedelta(minutes=30)
    assert snooze_until(choice_spec(ids.SNOOZE_TOMORROW_9), friday_late, MADRID) == \
        datetime(2026, 3, 14, 8, 0, tzinfo=UTC)
    assert snooze_until(choice_spec(ids.SNOOZE_NEXT_WEEK), friday_late, MADRID) == \
        datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
    monday = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
    assert snooze_until(choice_spec(ids.SNOOZE_NEXT_WEEK), monday) == datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        choice_spec("someday")


# --- one parser: a click and a command that say the same thing agree -----------------------------


@pytest.mark.parametrize(("choice", "typed"), [
    (ids.SNOOZE_30M, "30m"), (ids.SNOOZE_2H, "2h"), (ids.SNOOZE_TOMORROW_9, "tomorrow"),
    (ids.SNOOZE_NEXT_WEEK, "next week"),
])
def test_every_card_choice_is_something_people_can_type(choice, typed):
    assert dict(ids.SNOOZE_CHOICES).keys() == {ids.SNOOZE_30M, ids.SNOOZE_2H, ids.SNOOZE_TOMORROW_9,
                                               ids.SNOOZE_NEXT_WEEK}
    assert snooze_until(choice_spec(choice), NOW, MADRID) == snooze_until(typed, NOW, MADRID)


def test_next_week_can_be_typed_too():
    """Settled when the two parsers became one: the slash command now also takes `next week`
    (the card's choice; 9:00 next Monday in the person's zone), which it used to refuse."""
    tuesday_madrid = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert snooze_until(" Next  Week ", tuesday_madrid, MADRID) == datetime(2026, 3, 16, 8, 0, tzinfo=UTC)


def test_only_local_times_need_the_persons_zone():
    assert needs_zone("tomorrow") and needs_zone("Next week") and needs_zone(choice_spec(ids.SNOOZE_TOMORROW_9))
    assert not needs_zone("2h") and not needs_zone(choice_spec(ids.SNOOZE_30M)) and not needs_zone("soon")


def test_one_morning_for_both_forms():
    assert (MORNING.hour, MORNING.minute) == (9, 0)
    for spec in ("tomorrow", "next week"):
        local = snooze_until(spec, NOW, MADRID).astimezone(MADRID)
        assert (local.hour, local.minute) == (9, 0)
