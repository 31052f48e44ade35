"""Request checks for the HTTP surface, framework-light: a bounded body read and the shape checks
a signed Slack request must pass before Bolt parses it (Bolt answers 500 to what it cannot parse)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request

# Event fields Parley and Bolt read as strings; another JSON type there crashes a handler.
_EVENT_STRINGS = ("type", "subtype", "ts", "thread_ts", "event_ts", "channel", "user", "text", "bot_id")


class BodyTooLarge(Exception):
    """The request body is over the endpoint's limit."""


async def read_bounded(request: Request, limit: int) -> bytes:
    """The whole body, or `BodyTooLarge` as soon as the declared length or the bytes read so far
    pass `limit` (the rest is never read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def reject_constant(name: str) -> Any:
    """`json.loads(parse_constant=...)`: NaN and Infinity are not JSON, whatever Python accepts."""
    raise ValueError(f"{name} is not a JSON value")


def _json_object(text: str, what: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        data = json.loads(text, parse_constant=reject_constant)
    except (ValueError, RecursionError):
        return None, f"{what} is not JSON"
    if not isinstance(data, dict):
        return None, f"{what} is not a JSON object"
    return data, None


def slack_body_problem(body: bytes, content_type: str) -> str | None:
    """Why a (signed) Slack request body cannot be handled, or None when it can: it must be UTF-8,
    form data (a slash command, or an interaction whose `payload` is a JSON object) or a JSON
    object, and an event's common fields must be strings."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    if "application/x-www-form-urlencoded" in content_type:
        form = parse_qs(text, keep_blank_values=True)
        if "payload" not in form:
            return None  # a slash command: plain string fields
        data, problem = _json_object(form["payload"][-1], "payload")
    elif "application/json" in content_type:
        data, problem = _json_object(text, "the body")
    else:
        return "the content type is neither form data nor JSON"
    if data is None:
        return problem
    return _interaction_problem(data) or _event_problem(data)


def _interaction_problem(data: dict[str, Any]) -> str | None:
    """Bolt indexes `actions[0]`, `view` and a submitted view's `type` before any listener (or its
    catch) runs; Slack always sends them in that shape."""
    actions = data.get("actions")
    if actions is not None and not (isinstance(actions, list)
                                    and all(isinstance(action, dict) for action in actions)):
        return "actions is not a list of objects"
    if data.get("type") == "block_actions" and not actions:  # Bolt reads actions[0] of every block action
        return "a block action without actions"
    view = data.get("view")
    if view is not None and not isinstance(view, dict):
        return "view is not an object"
    if data.get("type") in ("view_submission", "view_closed") and not isinstance((view or {}).get("type"), str):
        return "view.type is not a string"
    if isinstance(data.get("event"), dict) and not isinstance(data["event"].get("type"), str):
        return "event.type is not a string"
    return None


def _event_problem(data: dict[str, Any]) -> str | None:
    event = data.get("event")
    if event is None:
        return None
    if not isinstance(event, dict):
        return "event is not an object"
    for key in _EVENT_STRINGS:
        if key in event and event[key] is not None and not isinstance(event[key], str):
            return f"event.{key} is not a string"
    return None
