"""Storm mode's settings (issue 11), a block the Settings class inherits (bot/settings.py is full).

PARLEY_STORM_MODE=false turns storm mode off (every mention gets its own card, however long that
takes); PARLEY_STORM_WINDOW is how much posting the storm threshold is measured in (bot/delivery/
storm.py); PARLEY_STORM_ALERT_EVERY is how often the spike alert is edited while a storm goes on;
PARLEY_STORM_CARD_WITHIN is how soon a complaint's own card must be posted in a storm, or else it is
shown in a complaint roll-up (bot/delivery/storm_plan.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode

from bot.config_file import parse_duration

STORM_BOUNDS: dict[str, tuple[timedelta, timedelta]] = {
    "parley_storm_window": (timedelta(seconds=1), timedelta(hours=1)),
    "parley_storm_alert_every": (timedelta(seconds=1), timedelta(hours=1)),
    "parley_storm_card_within": (timedelta(seconds=1), timedelta(hours=1)),
}


class StormSettings(BaseSettings):
    parley_storm_mode: bool = True
    parley_storm_window: Annotated[timedelta, NoDecode] = timedelta(seconds=60)
    parley_storm_alert_every: Annotated[timedelta, NoDecode] = timedelta(seconds=30)
    parley_storm_card_within: Annotated[timedelta, NoDecode] = timedelta(seconds=60)

    @field_validator("parley_storm_window", "parley_storm_alert_every", "parley_storm_card_within", mode="before")
    @classmethod
    def _storm_duration(cls, value: Any, info: ValidationInfo) -> timedelta:
        least, most = STORM_BOUNDS[info.field_name or ""]
        return parse_duration(value, minimum=least, maximum=most)
