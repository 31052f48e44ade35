"""Graph API wire formats shared by the Graph emulator's endpoints, and webhook signing.

Timestamps as Graph writes them, Graph's error envelope (with the usage headers of a rate-limit
error), `fields=` selection, `since`/`until` parsing, cursor paging, and the `X-Hub-Signature-256`
a webhook delivery carries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sandbox.emulators.server import Request, Response

RATE_LIMIT_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
}
Fields = dict[str, str | None]


def graph_time(moment: datetime) -> str:
    """Graph's timestamp format: `2024-05-01T12:34:56+0000`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def sign_webhook(body: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` header Facebook sends with a webhook delivery of `body`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def graph_error(
    code: int, message: str, *, subcode: int | None = None, status: int = 400, type_: str = "OAuthException"
) -> Response:
    error: dict[str, Any] = {"message": message, "type": type_, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(15)
    return Response(status, {"error": error}, {"www-authenticate": f'OAuth "Facebook Platform" "{type_}"'})


def missing(object_id: str) -> Response:
    """Graph's answer for an id that does not exist (or is not visible to this token)."""
    return graph_error(100, f"Unsupported get request. Object with ID '{object_id}' does not exist, "
                            "cannot be loaded due to missing permissions, or does not support this "
                            "operation.", subcode=33, type_="GraphMethodException")


def unsupported_post(object_id: str) -> Response:
    """Graph's refusal of a POST to an object this token may not change (code 100, subcode 33)."""
    return graph_error(100, f"Unsupported post request. Object with ID '{object_id}' does not exist, cannot "
                            "be loaded due to missing permissions, or does not support this operation.",
                       subcode=33, type_="GraphMethodException")


def limit_error(code: int, page_id: str, subcode: int | None = None, regain_minutes: int | None = None) -> Response:
    """A rate-limit (4, 17, 32, 613) or token (190) error, with the usage headers Graph sends alongside:
    app usage for 4 and 17, business-use-case usage for the Page otherwise."""
    if code == 190:
        return graph_error(190, "Error validating access token: Session has expired.",
                           subcode=subcode if subcode is not None else 463)
    response = graph_error(code, RATE_LIMIT_MESSAGES.get(code, f"(#{code}) Error"), subcode=subcode)
    usage: dict[str, Any] = {"call_count": 100, "total_cputime": 100, "total_time": 100}
    if code in (4, 17):
        response.headers["x-app-usage"] = json.dumps(usage)
    else:
        if regain_minutes is not None:
            usage["estimated_time_to_regain_access"] = regain_minutes
        response.headers["x-business-use-case-usage"] = json.dumps({page_id: [{"type": "pages", **usage}]})
    return response


def usage_header(page_id: str, percent: int) -> str:
    """X-Business-Use-Case-Usage for a Page token at `percent` of its limit (no wait below 100)."""
    usage = {"type": "pages", "call_count": percent, "total_cputime": max(percent // 2, 1),
             "total_time": max(percent // 2, 1), "estimated_time_to_regain_access": 0 if percent < 100 else 60}
    return json.dumps({page_id: [usage]})


def parse_fields(spec: str | None) -> Fields | None:
    """`id,messages.limit(5){id,message}` -> {"id": None, "messages.limit(5)": "id,message"}."""
    if not spec:
        return None
    parts, depth, token = [], 0, ""
    for char in spec:
        depth += char in "{("
        depth -= char in "})"
        if char == "," and depth == 0:
            parts.append(token)
            token = ""
        else:
            token += char
    parts.append(token)
    fields: Fields = {}
    for part in filter(None, (p.strip() for p in parts)):
        name, _, nested = part.partition("{")
        fields[name] = nested[:-1] if nested else None
    return fields


def select(obj: dict[str, Any], fields: Fields | None) -> dict[str, Any]:
    """Keep `id` plus the requested fields that the object has, like Graph's `fields=`."""
    if fields is None:
        return obj
    wanted = {name.split(".")[0] for name in fields} | {"id"}
    return {k: v for k, v in obj.items() if k in wanted}


def since(value: str | None) -> datetime | None:
    """A `since`/`until` argument: epoch seconds or an ISO timestamp."""
    if not value:
        return None
    if value.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    return datetime.fromisoformat(value)


def json_arg(value: Any) -> Any:
    """facebook-sdk form-encodes parameters, so nested values arrive as JSON strings."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def page(req: Request, items: list[dict[str, Any]], base_url: str, *, limit: int | None = None,
         nested: bool = False) -> dict[str, Any]:
    """Graph's cursor paging: `data`, `paging.cursors.before/after` and (top level) `paging.next`."""
    args = req.args()
    limit = min(limit or int(args.get("limit") or 25), 100)
    after = None if nested else args.get("after")
    start = int(base64.b64decode(after).decode()) if after else 0
    chunk = items[start:start + limit]
    body: dict[str, Any] = {"data": chunk}
    if chunk:
        def enc(n: int) -> str:
            return base64.b64encode(str(n).encode()).decode()
        paging: dict[str, Any] = {"cursors": {"before": enc(start), "after": enc(start + len(chunk))}}
        if start + len(chunk) < len(items) and not nested:
            query = {k: v for k, v in req.query.items() if k != "before"}
            query["after"] = enc(start + len(chunk))
            paging["next"] = f"{base_url}{req.path}?{urlencode(query)}"
        body["paging"] = paging
    return body


QUICK_REPLIES_MAX, QUICK_TITLE_MAX, QUICK_PAYLOAD_MAX = 13, 20, 1000
QUICK_TYPES = ("text", "user_phone_number", "user_email")


def quick_replies(message: dict[str, Any]) -> tuple[dict[str, Any], ...] | Response:
    """A Send API message's `quick_replies`, checked as Graph documents them (at most 13; a text one
    needs a title of at most 20 characters and a payload of at most 1000), or Graph's refusal.
    https://developers.facebook.com/docs/messenger-platform/reference/buttons/quick-replies"""
    offered = message.get("quick_replies")
    if offered is None:
        return ()
    if not isinstance(offered, list) or not offered or len(offered) > QUICK_REPLIES_MAX:
        return graph_error(100, f"(#100) param message[quick_replies] must be an array of 1 to {QUICK_REPLIES_MAX}")
    for button in offered:
        kind = button.get("content_type") if isinstance(button, dict) else None
        if kind not in QUICK_TYPES:
            return graph_error(100, "(#100) param message[quick_replies][content_type] must be one of "
                                    "{text, user_phone_number, user_email}")
        if kind != "text":
            continue
        title, payload = button.get("title"), button.get("payload")
        if not isinstance(title, str) or not title or len(title) > QUICK_TITLE_MAX:
            return graph_error(100, f"(#100) param title must be a non-empty string of at most {QUICK_TITLE_MAX}")
        if not isinstance(payload, str | int) or not str(payload) or len(str(payload)) > QUICK_PAYLOAD_MAX:
            return graph_error(100, f"(#100) param payload is required, at most {QUICK_PAYLOAD_MAX} characters")
    return tuple(offered)
