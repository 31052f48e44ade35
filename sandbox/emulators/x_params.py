"""Query parameters as X checks them: field lists, bounded integers, ids, times and pagination tokens.

A bad value raises `InvalidRequest` with X's own wording, which the emulator answers as a 400.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.emulators import x_objects as xo
from sandbox.emulators.server import Request


def fields(request: Request, param: str, allowed: frozenset[str]) -> set[str]:
    """A comma-separated list whose every value is one of `allowed` (empty when absent)."""
    raw = request.query.get(param)
    if raw is None:
        return set()
    values = raw.split(",")
    for value in values:
        if value not in allowed:
            raise xo.InvalidRequest(param, value, f"The `{param}` query parameter value [{value}] is not one of "
                                                  f"[{','.join(sorted(allowed))}]")
    return set(values)


def bounded_int(request: Request, param: str, low: int, high: int, default: int) -> int:
    raw = request.query.get(param)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise xo.InvalidRequest(param, raw, f"The `{param}` query parameter value [{raw}] is not between "
                                            f"{low} and {high}")
    return int(raw)


def id_param(request: Request, param: str) -> int | None:
    raw = request.query.get(param)
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 19:
        raise xo.InvalidRequest(param, raw, f"The `{param}` query parameter value [{raw}] does not match "
                                            "^[0-9]{1,19}$")
    return int(raw)


def page_token(request: Request, param: str, *, dm: bool) -> int | None:
    """The id a pagination token stands for (results continue below it), or None when absent."""
    token = request.query.get(param)
    if token is None:
        return None
    try:
        return xo.decode_token(token, dm=dm)
    except ValueError:
        raise xo.InvalidRequest(param, token, f"The `{param}` query parameter value [{token}] is not "
                                              "valid") from None


def time_param(request: Request, param: str) -> datetime | None:
    """An RFC 3339 timestamp (`YYYY-MM-DDTHH:mm:ssZ`, X's `start_time` / `end_time`), or None when absent."""
    raw = request.query.get(param)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise xo.InvalidRequest(param, raw, f"The `{param}` query parameter value [{raw}] is not a valid "
                                            "RFC 3339 date-time")
    return moment.astimezone(UTC)
