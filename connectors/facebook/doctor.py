"""`parley check` for Facebook: the Page token's permissions and expiry, and the Page's webhook
subscription (which `parley check --subscribe` can make).

`GET /debug_token` names the token's permissions (`scopes`) and `expires_at` (0 = never)
(https://developers.facebook.com/docs/graph-api/reference/debug_token). The webhook reaches Parley
only for fields subscribed both at app level and at Page level, and the Page level is
`POST /{page-id}/subscribed_apps`, which needs `pages_manage_metadata` and `pages_show_list`
(https://developers.facebook.com/docs/graph-api/reference/page/subscribed_apps).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from connectors.base import CredentialExpiry
from connectors.checks import Check, fail, ok, warn
from connectors.facebook.graph import GraphError, PageGraph

T = "facebook"
# What each feature needs of the Page token (README "Going live → Meta" lists the same).
FEATURE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "reading the Page's posts, comments and visitor posts": (
        "pages_show_list", "pages_read_engagement", "pages_read_user_content"),
    "replying to comments": ("pages_manage_engagement",),
    "Messenger (reading and private replies)": ("pages_messaging",),
    "webhooks (the Page subscription)": ("pages_manage_metadata",),
}
WEBHOOK_FIELDS = ("feed", "messages")  # what connectors/facebook/webhook.py understands
NEW_TOKEN = ("generate a non-expiring Page token (a long-lived user token's /me/accounts, or a system user's "
              "token in Business Settings) and set FACEBOOK_PAGE_TOKEN")


def check_facebook(graph: PageGraph, page_id: str, now: datetime, *, webhooks: bool,
                   subscribe: bool = False) -> list[Check]:
    """Permissions per feature and token expiry (debug_token), then the Page subscription when
    webhooks are configured; `subscribe` makes the subscription call if it is missing."""
    try:
        info = graph.request(f"{graph.version}/debug_token", {"input_token": graph.access_token})["data"]
    except GraphError as exc:
        return [_token_refused(exc)]
    except requests.RequestException as exc:
        return [fail(T, "facebook.token", f"cannot reach Graph ({type(exc).__name__})",
                     "check FACEBOOK_GRAPH_URL and the network")]
    checks = [*_permissions(set(info.get("scopes") or [])), _expiry(int(info.get("expires_at") or 0), now)]
    if webhooks:
        checks.append(_subscription(graph, page_id, str(info.get("app_id", "")), subscribe))
    return checks


def _token_refused(exc: GraphError) -> Check:
    if exc.code == 190 and exc.subcode == 463:
        return fail(T, "facebook.token", "the Page token has expired", NEW_TOKEN)
    if exc.code == 190:
        return fail(T, "facebook.token", f"the Page token is invalid ({exc.message})", NEW_TOKEN)
    return fail(T, "facebook.token", f"Graph refused the token check ({exc.code}: {exc.message})", NEW_TOKEN)


def _permissions(granted: set[str]) -> list[Check]:
    checks = []
    for feature, needed in FEATURE_PERMISSIONS.items():
        missing = [p for p in needed if p not in granted]
        if missing:
            checks.append(fail(T, f"facebook.permission.{needed[0]}", f"{feature}: the Page token lacks "
                               f"{', '.join(missing)}",
                               "add the permission to the app (App Review → Advanced Access for customers "
                               "without a role on the app), then generate a new Page token"))
        else:
            checks.append(ok(T, f"facebook.permission.{needed[0]}", f"{feature}: {', '.join(needed)} granted"))
    return checks


def _expiry(expires_at: int, now: datetime) -> Check:
    if expires_at == 0:
        return ok(T, "facebook.expiry", "the Page token never expires")
    when = datetime.fromtimestamp(expires_at, UTC)
    if when - now < timedelta(days=7):
        return fail(T, "facebook.expiry", f"the Page token expires {when:%Y-%m-%d %H:%M} UTC", NEW_TOKEN)
    return warn(T, "facebook.expiry", f"the Page token expires {when:%Y-%m-%d} UTC", NEW_TOKEN)


def _subscription(graph: PageGraph, page_id: str, app_id: str, subscribe: bool) -> Check:
    try:
        apps: list[dict[str, Any]] = graph.request(f"{graph.version}/{page_id}/subscribed_apps")["data"]
        fields = next((set(a.get("subscribed_fields") or []) for a in apps if str(a.get("id")) == app_id), set())
        missing = [f for f in WEBHOOK_FIELDS if f not in fields]
        if missing and subscribe:
            graph.request(f"{graph.version}/{page_id}/subscribed_apps",
                                    post_args={"subscribed_fields": ",".join(sorted(fields | set(WEBHOOK_FIELDS)))})
            return ok(T, "facebook.subscription", f"subscribed the app to the Page's {', '.join(WEBHOOK_FIELDS)}")
    except GraphError as exc:
        return fail(T, "facebook.subscription", f"cannot read the Page subscription ({exc.code}: {exc.message})",
                    "grant pages_manage_metadata and pages_show_list, then run `parley check --subscribe`")
    if missing:
        return fail(T, "facebook.subscription", f"the app is not subscribed to the Page's {', '.join(missing)}",
                    "run `parley check --subscribe` (POST /{page-id}/subscribed_apps), and subscribe the app to "
                    "the Page object's feed and messages fields in the app dashboard (Webhooks)")
    return ok(T, "facebook.subscription", f"the Page sends {', '.join(WEBHOOK_FIELDS)} webhooks to the app")


def token_expiry(graph: PageGraph, now: datetime, what: str, renew: str) -> CredentialExpiry | None:
    """When the token expires, from `debug_token` (`expires_at`, 0 = never); an already expired token
    (190/463) as expiring now. None for a token that never expires, or when Graph cannot say (a revoked
    token or an outage: the 15-minute check reports those)."""
    try:
        info = graph.request(f"{graph.version}/debug_token", {"input_token": graph.access_token})["data"]
    except GraphError as exc:
        expired = exc.code == 190 and exc.subcode == 463
        return CredentialExpiry(now, what, renew) if expired else None
    except (requests.RequestException, KeyError, TypeError):
        return None
    at = int(info.get("expires_at") or 0)
    return CredentialExpiry(datetime.fromtimestamp(at, UTC), what, renew) if at else None
