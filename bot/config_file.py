"""The PARLEY_CONFIG file and the duration strings used in it and in the environment.

A leaf: it imports nothing from Parley, so settings, the SLA policy, routing, reports and commands
can all read durations and the config file without importing each other.
"""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


# No setting means anything beyond ten years; it also keeps `timedelta` and date arithmetic from
# overflowing on a value like '99999999999999999999s'.
LONGEST = timedelta(days=3650)
TOP_LEVEL_SECTIONS = ("routing", "sla", "business_hours")


class ConfigError(Exception):
    """Start-up configuration is unusable; the message (one line) names the setting to fix."""


def parse_duration(value: str | float | int | timedelta, *, minimum: timedelta | None = None,
                   maximum: timedelta = LONGEST) -> timedelta:
    """'90s', '15m', '4h', '1d', '250ms' or a plain number of seconds; ValueError for anything else,
    zero or negative, and for values outside [minimum, maximum] (at most ten years by default)."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration like 30s, 2m, 4h or 1d")
        seconds = float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "").lower() or None]
    if not seconds > 0:
        raise ValueError("a duration must be greater than zero")
    if minimum is not None and seconds < minimum.total_seconds():
        raise ValueError(f"a duration must be at least {format_duration(minimum)}")
    if seconds > maximum.total_seconds():
        raise ValueError(f"a duration must be at most {format_duration(maximum)}")
    return timedelta(seconds=seconds)


def format_duration(span: timedelta) -> str:
    """The shortest exact form parse_duration reads back: 250ms, 5s, 2m, 4h, 1d."""
    ms = round(span.total_seconds() * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def read_config_file(path: Path) -> dict[str, Any]:
    """The PARLEY_CONFIG file (YAML, or TOML by suffix) as a mapping; errors name the file. Each
    section's loader (routing in bot/inbound/routing.py, sla in bot/sla/policy.py) reads its own keys."""
    if not path.is_file():
        raise ValueError(f"PARLEY_CONFIG: no such file {str(path)!r}")
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"PARLEY_CONFIG: {path} is not UTF-8 text") from None
    except OSError as exc:
        raise ValueError(f"PARLEY_CONFIG: cannot read {path}: {exc.strerror}") from None
    try:
        data: Any = tomllib.loads(raw) if path.suffix == ".toml" else yaml.safe_load(raw)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"PARLEY_CONFIG: {path} is not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}") from None
    data = data or {}
    if not isinstance(data, dict):
        raise ValueError(f"PARLEY_CONFIG: {path} must hold a mapping at the top level")
    unknown = [str(key) for key in data if key not in TOP_LEVEL_SECTIONS]
    if unknown:
        raise ValueError(f"PARLEY_CONFIG: {path}: unknown section {unknown[0]!r} "
                         f"(the sections are {', '.join(TOP_LEVEL_SECTIONS)})")
    return data
