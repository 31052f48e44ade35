"""The Page token the Graph emulator accepts: its permissions, expiry, and the Page's app subscription.

`GET /debug_token` answers like Graph: `data.{app_id, type, application, expires_at (0 = never),
is_valid, scopes, profile_id}` (https://developers.facebook.com/docs/graph-api/reference/debug_token).
An expired token is refused everywhere with code 190, subcode 463. Each endpoint needs its Page
permission; without it Graph answers code 200 or 10 with "(#…) … permission" and the emulator does
the same, so a missing `pages_messaging` shows up as it would against the real Graph.
`GET/POST /{page-id}/subscribed_apps` needs `pages_manage_metadata` and `pages_show_list`
(https://developers.facebook.com/docs/graph-api/reference/page/subscribed_apps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.emulators import graph_wire as wire
from sandbox.emulators.server import Request, Response

# Every Page permission Parley's features use (README "Going live" lists which feature needs which).
ALL_PAGE_PERMISSIONS = ("pages_show_list", "pages_read_engagement", "pages_read_user_content",
                        "pages_manage_engagement", "pages_manage_metadata", "pages_messaging",
                        "instagram_basic", "instagram_manage_comments", "instagram_manage_messages")
APP_ID, APP_NAME = "5550001112223334", "Parley"


@dataclass
class PageToken:
    """The one Page token: what it may do and until when (`expires_at` epoch seconds, 0 = never)."""

    scopes: set[str] = field(default_factory=lambda: set(ALL_PAGE_PERMISSIONS))
    expires_at: int = 0
    subscribed_fields: list[str] | None = None  # None: the app is not subscribed to the Page

    def expired(self, now: datetime) -> bool:
        return self.expires_at != 0 and self.expires_at <= now.timestamp()


def expired_error(expires_at: int) -> Response:
    return wire.graph_error(190, f"Error validating access token: Session has expired on "
                                 f"{datetime.fromtimestamp(expires_at).strftime('%A, %d-%b-%y %H:%M:%S')}.",
                            subcode=463)


def permission_error(permission: str) -> Response:
    """Graph's refusal for a call the token lacks a permission for (code 200 for Messenger and page
    management, code 10 for reading)."""
    if permission in ("pages_read_engagement", "pages_read_user_content"):
        return wire.graph_error(10, f"(#10) This endpoint requires the '{permission}' permission or the "
                                    "'Page Public Content Access' feature.", status=403)
    return wire.graph_error(200, f"(#200) Requires {permission} permission to manage the object", status=403)


class TokenEndpoints:
    """debug_token, /me/permissions and /{page-id}/subscribed_apps for the emulator's Page token."""

    def __init__(self, token: PageToken, page_id: str, clock: Callable[[], datetime]) -> None:
        self.token, self.page_id, self.clock = token, page_id, clock

    def missing(self, *needed: str) -> Response | None:
        """The refusal for the first permission in `needed` that the token lacks, else None."""
        for permission in needed:
            if permission not in self.token.scopes:
                return permission_error(permission)
        return None

    def debug_token(self, req: Request) -> Response | dict[str, Any]:
        if not req.args().get("input_token"):
            return wire.graph_error(100, "(#100) The parameter input_token is required")
        return {"data": {"app_id": APP_ID, "type": "PAGE", "application": APP_NAME,
                         "data_access_expires_at": 0, "expires_at": self.token.expires_at,
                         "is_valid": not self.token.expired(self.clock()), "issued_at": 1_700_000_000,
                         "profile_id": self.page_id, "scopes": sorted(self.token.scopes),
                         "user_id": "7310000000000000999"}}

    def permissions(self, req: Request) -> dict[str, Any]:
        return {"data": [{"permission": p, "status": "granted"} for p in sorted(self.token.scopes)]}

    def subscribed_apps(self, req: Request) -> Response | dict[str, Any]:
        if req.params["id"] not in (self.page_id, "me"):  # "me" is the Page itself with a Page token
            return wire.missing(req.params["id"])
        refusal = self.missing("pages_manage_metadata", "pages_show_list")
        if refusal is not None:
            return refusal
        if req.method == "POST":
            fields = str(req.args().get("subscribed_fields") or "")
            if not fields:
                return wire.graph_error(100, "(#100) The parameter subscribed_fields is required")
            self.token.subscribed_fields = [f for f in fields.split(",") if f]
            return {"success": True}
        if self.token.subscribed_fields is None:
            return {"data": []}
        return {"data": [{"category": "Business", "link": "https://parley.example/", "name": APP_NAME,
                          "id": APP_ID, "subscribed_fields": list(self.token.subscribed_fields)}]}
