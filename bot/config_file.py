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


def parse_duration(value: str | float | int | timedelta) -> timedelta:
    """'90s', '15m', '4h', '1d', '250ms' or a plain number of seconds; ValueError for anything else,
    zero or negative."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration like 30s, 2m, 4h or 1d")
        seconds = float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "").lower() or None]
    if seconds <= 0:
        raise ValueError("a duration must be greater than zero")
    return timedelta(seconds=seconds)


def read_config_file(path: Path) -> dict[str, Any]:
    """The PARLEY_CONFIG file (YAML, or TOML by suffix) as a mapping; errors name the file. Each
    section's loader (routing in bot/inbound/routing.py, sla in bot/sla/policy.py) reads its own keys."""
    if not path.is_file():
        raise ValueError(f"PARLEY_CONFIG: no such file {str(path)!r}")
    raw = path.read_text(encoding="utf-8")
    try:
        data: Any = tomllib.loads(raw) if path.suffix == ".toml" else yaml.safe_load(raw)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"PARLEY_CONFIG: {path} is not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}") from None
    data = data or {}
    if not isinstance(data, dict):
        raise ValueError(f"PARLEY_CONFIG: {path} must hold a mapping at the top level")
    return data
