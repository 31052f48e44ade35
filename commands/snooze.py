"""When a snooze ends: one parser for `/social snooze #N <when>` and for the card's Snooze select.

What people type: a span (`30m`, `2h`, `1.5h`, `1d`, at most 90 days) from `now`, or a local time:
`tomorrow` (9:00 tomorrow) and `next week` (9:00 next Monday; on a Monday, the Monday after), both in
the person's own Slack time zone. The card's choices are the same words (`choice_spec`), so a click
and a command that say the same thing snooze until the same moment.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta, tzinfo

from bot import ids
from bot.cards import escape
from commands.context import UserError, echo

USAGE = "snooze #N 30m|2h|1d|tomorrow"
MORNING = time(9, 0)  # "tomorrow" and "next week" wake at this local time
SNOOZE_MIN = timedelta(minutes=1)
SNOOZE_MAX = timedelta(days=90)
_SPAN = re.compile(r"^\d+(?:\.\d+)?\s*[mhd]$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
_TOMORROW, _NEXT_WEEK = "tomorrow", "next week"
_CHOICES = {ids.SNOOZE_30M: "30m", ids.SNOOZE_2H: "2h", ids.SNOOZE_TOMORROW_9: _TOMORROW,
            ids.SNOOZE_NEXT_WEEK: _NEXT_WEEK}


def choice_spec(choice: str) -> str:
    """The words a card's snooze choice stands for ("tomorrow_9" → "tomorrow"); ValueError if unknown."""
    try:
        return _CHOICES[choice]
    except KeyError:
        raise ValueError(f"unknown snooze choice {choice!r}") from None


def _word(spec: str) -> str:
    return " ".join(spec.lower().split())


def needs_zone(spec: str) -> bool:
    """True when `spec` names a local time, so the caller must look up the person's time zone."""
    return _word(spec) in (_TOMORROW, _NEXT_WEEK)


def snooze_until(spec: str, now: datetime, zone: tzinfo = UTC) -> datetime:
    """When a snooze given as `spec` ends, as an aware UTC datetime; `zone` is the person's (it only
    matters for `tomorrow` and `next week`). UserError saying what to type otherwise."""
    word = _word(spec)
    if word in (_TOMORROW, _NEXT_WEEK):
        local = now.astimezone(zone)
        ahead = 1 if word == _TOMORROW else 7 - local.weekday()
        return datetime.combine(local.date() + timedelta(days=ahead), MORNING, tzinfo=zone).astimezone(UTC)
    if not word:
        raise UserError(f"How long? Usage: `/social {escape(USAGE)}`, e.g. `/social snooze #12 2h`.")
    if not _SPAN.match(word):
        raise UserError(f"`{echo(spec)}` is not a snooze time. Use minutes, hours or days like `30m`, `2h`, "
                        f"`1d`, or `tomorrow` or `next week`. Usage: `/social {escape(USAGE)}`")
    too_long = UserError(f"Snooze for at most {SNOOZE_MAX.days} days (`{echo(spec)}` is longer). "
                         "Resolve the case instead if nothing more is needed.")
    number, unit = word[:-1].strip(), word[-1]
    if len(number.split(".")[0].lstrip("0")) > 6:
        raise too_long  # a million minutes is already past the limit; 20 digits must not overflow
    span = timedelta(seconds=float(number) * _UNIT_SECONDS[unit])
    if span < SNOOZE_MIN:
        raise UserError(f"A snooze must be at least a minute (`{echo(spec)}` is "
                        f"{'none' if not span else 'shorter'}). Try `30m`, `2h` or `tomorrow`.")
    if span > SNOOZE_MAX:
        raise too_long
    return now + span
