"""SLA policy: the `sla:` and `business_hours:` sections of the PARLEY_CONFIG file (YAML or TOML).

Everything is optional; with no file (or no sections) the defaults below apply and the clock runs 24/7.

```yaml
business_hours:                  # or `business_hours: 24/7` (the default)
  timezone: Europe/Madrid
  holidays: {country: ES, subdivision: MD}       # closed all day on public holidays (optional)
  schedule:                      # local wall-clock spans; weekdays left out are closed
    mon: ["09:00-17:00"]
    tue: ["09:00-17:00"]
    wed: ["09:00-17:00"]
    thu: ["09:00-17:00"]
    fri: ["09:00-14:00", "15:00-18:00"]          # split day
    sat: []
    sun: []
sla:
  first_response: {urgent: 15m, high: 1h, normal: 4h, low: 24h}   # these are the defaults
  next_response: {normal: 2h}    # priorities left out follow first_response
  resolution: {normal: 3d}       # optional; no resolution target by default
  warning_at: 0.75               # warn at 75% of the target
  escalate_after: 1.0            # escalate at target * (1 + 1.0), or a duration past breach: "2h"
  quiet_hours: false             # true: pings wait for business hours
  overrides:                     # first match wins; only the targets named are replaced
    - {platform: facebook, first_response: {normal: 8h}}
    - {channel: C0VIP, first_response: {normal: 30m}}
```

Durations are `bot.config_file.parse_duration` strings ("90s", "15m", "4h", "1d") or seconds. Targets
are business time. A bad value raises ValueError naming the key, e.g.
`PARLEY_CONFIG: parley.yaml: sla.first_response.normal: 'soon' is not a duration like 30s, 2m, 4h or 1d`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.config_file import parse_duration, read_config_file
from bot.sla.hours import BusinessHours, day_spans, holiday_calendar, weekday_index, zone

PRIORITIES = ("urgent", "high", "normal", "low")


def _duration(value: Any) -> timedelta:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration like 30s, 2m, 4h or 1d")
    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class PriorityTargets(BaseModel):
    """One target per priority; None means 'not set here'."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    urgent: Duration | None = None
    high: Duration | None = None
    normal: Duration | None = None
    low: Duration | None = None

    def get(self, priority: str) -> timedelta | None:
        return getattr(self, priority if priority in PRIORITIES else "normal")

    def over(self, base: PriorityTargets | None) -> PriorityTargets:
        """These targets, with the ones not set here taken from `base`."""
        if base is None:
            return self
        return PriorityTargets(**{p: self.get(p) if self.get(p) is not None else base.get(p) for p in PRIORITIES})


DEFAULT_FIRST_RESPONSE = PriorityTargets(urgent=timedelta(minutes=15), high=timedelta(hours=1),
                                         normal=timedelta(hours=4), low=timedelta(hours=24))


class Override(BaseModel):
    """Targets for conversations on one platform and/or in one channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    platform: str | None = None
    channel: str | None = None
    first_response: PriorityTargets | None = None
    next_response: PriorityTargets | None = None
    resolution: PriorityTargets | None = None

    @model_validator(mode="after")
    def _needs_condition(self) -> Override:
        if self.platform is None and self.channel is None:
            raise ValueError("an override needs a platform and/or a channel to match")
        return self

    def matches(self, platform: str, channel: str) -> bool:
        return (self.platform in (None, platform)) and (self.channel in (None, channel))


class HolidaysConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str
    subdivision: str | None = None


class BusinessHoursConfig(BaseModel):
    """The `business_hours:` section; no schedule means open all day (minus holidays)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    schedule: dict[str, tuple[str, ...]] | None = None
    holidays: HolidaysConfig | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: dict[str, tuple[str, ...]] | None) -> dict[str, tuple[str, ...]] | None:
        if value is None:
            return None
        for day, spans in value.items():
            weekday_index(day)
            try:
                day_spans(spans)
            except ValueError as exc:
                raise ValueError(f"{day}: {exc}") from None
        return value

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: HolidaysConfig | None) -> HolidaysConfig | None:
        if value is not None:
            holiday_calendar(value.country, value.subdivision)
        return value

    @model_validator(mode="after")
    def _buildable(self) -> BusinessHoursConfig:
        self.build()  # e.g. a schedule with no open day at all
        return self

    def build(self) -> BusinessHours:
        country = self.holidays.country if self.holidays else None
        subdivision = self.holidays.subdivision if self.holidays else None
        if self.schedule is None:
            return BusinessHours(timezone=self.timezone, country=country, subdivision=subdivision)
        return BusinessHours.weekly(self.timezone, self.schedule, country, subdivision)


@dataclass(frozen=True)
class Targets:
    """The business-time targets for one conversation."""

    first_response: timedelta
    next_response: timedelta
    resolution: timedelta | None = None


class SlaConfig(BaseModel):
    """The SLA policy. `opening` holds the `business_hours:` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_response: PriorityTargets = DEFAULT_FIRST_RESPONSE
    next_response: PriorityTargets | None = None  # None / unset priorities: same as first_response
    resolution: PriorityTargets | None = None
    warning_at: float = Field(default=0.75, gt=0, le=1)
    escalate_after: float | timedelta = 1.0  # fraction of the target past breach, or a duration
    quiet_hours: bool = False
    overrides: tuple[Override, ...] = ()
    opening: BusinessHoursConfig = Field(default_factory=BusinessHoursConfig)
    _hours: BusinessHours | None = PrivateAttr(default=None)

    @field_validator("first_response")
    @classmethod
    def _fill_defaults(cls, value: PriorityTargets) -> PriorityTargets:
        return value.over(DEFAULT_FIRST_RESPONSE)

    @field_validator("escalate_after", mode="before")
    @classmethod
    def _escalate(cls, value: Any) -> float | timedelta:
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a fraction like 1.0 or a duration like 2h")
        if isinstance(value, int | float):
            if value < 0:
                raise ValueError("escalate_after must not be negative")
            return float(value)
        return _duration(value)

    def targets(self, priority: str, platform: str, channel: str) -> Targets:
        """The targets for a conversation; the first matching override replaces the targets it names."""
        first = self.first_response.get(priority)
        next_ = (self.next_response.get(priority) if self.next_response else None) or first
        resolution = self.resolution.get(priority) if self.resolution else None
        for override in self.overrides:
            if override.matches(platform, channel):
                first = (override.first_response and override.first_response.get(priority)) or first
                next_ = (override.next_response and override.next_response.get(priority)) or next_
                resolution = (override.resolution and override.resolution.get(priority)) or resolution
                break
        assert first is not None and next_ is not None  # first_response is always complete
        return Targets(first_response=first, next_response=next_, resolution=resolution)

    def first_response_rules(self) -> tuple[tuple[str | None, str | None, dict[str, timedelta]], ...]:
        """`targets(…).first_response` as rules tried in order, for a database to apply per row: (platform,
        channel — None matches any —, target per priority; other priorities read "normal"), overrides
        first, then the catch-all (bot/reports/first_times.py)."""
        def per_priority(override: PriorityTargets | None) -> dict[str, timedelta]:
            return {p: (override and override.get(p)) or self.first_response.get(p) or timedelta(0) for p in PRIORITIES}
        return (*((o.platform, o.channel, per_priority(o.first_response)) for o in self.overrides),
                (None, None, per_priority(None)))

    def escalation_offset(self, target: timedelta) -> timedelta:
        """Business time after the wait began at which it escalates."""
        if isinstance(self.escalate_after, timedelta):
            return target + self.escalate_after
        return target * (1 + self.escalate_after)

    def with_first_response(self, normal: timedelta) -> SlaConfig:
        """PARLEY_SLA_FIRST_RESPONSE: `normal` becomes the normal-priority first-response target
        everywhere (overrides that set one included); next_response follows unless set explicitly."""
        first = self.first_response.model_copy(update={"normal": normal})
        overrides = tuple(
            o.model_copy(update={"first_response": o.first_response.model_copy(update={"normal": normal})})
            if o.first_response is not None and o.first_response.normal is not None else o
            for o in self.overrides)
        return self.model_copy(update={"first_response": first, "overrides": overrides})

    def business_hours(self) -> BusinessHours:
        """The BusinessHours of the `business_hours:` section (built once per config)."""
        if self._hours is None:
            self._hours = self.opening.build()
        return self._hours


def _where(section: str, loc: tuple[int | str, ...]) -> str:
    out = section
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _validate(model: type[BaseModel], data: Any, section: str, source: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        if "input" in first and first["type"] not in ("missing", "extra_forbidden") and not message.startswith("'"):
            message = f"{first['input']!r}: {message}" if isinstance(first["input"], str | int | float) else message
        raise ValueError(f"{source}{_where(section, first['loc'])}: {message}") from None


def parse_sla_config(data: dict[str, Any], source: str = "") -> SlaConfig:
    """Build an SlaConfig from the file's top-level mapping (only `sla` and `business_hours` are read)."""
    hours_raw = data.get("business_hours")
    if hours_raw is None or (isinstance(hours_raw, str) and hours_raw.strip().lower() in ("24/7", "always")):
        opening = BusinessHoursConfig()
    else:
        opening = _validate(BusinessHoursConfig, hours_raw, "business_hours", source)
    sla_raw = data.get("sla") or {}
    if not isinstance(sla_raw, dict):
        raise ValueError(f"{source}sla: must be a mapping")
    if "opening" in sla_raw:
        raise ValueError(f"{source}sla.opening: unknown key (business hours go in the top-level business_hours)")
    return _validate(SlaConfig, {**sla_raw, "opening": opening}, "sla", source)


def load_sla_config(path: Path | None) -> SlaConfig:
    """Read the PARLEY_CONFIG file (None: defaults); errors name the file and the bad key."""
    if path is None:
        return SlaConfig()
    data = read_config_file(path)
    return parse_sla_config(data, source=f"PARLEY_CONFIG: {path}: ")
