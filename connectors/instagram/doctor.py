"""`parley check` for Instagram: the token (valid, its permissions, when it expires) and the account.

The token is a Page token (Facebook Login for Business) asked through `GET /debug_token`, which names
its permissions (`scopes`) and `expires_at`, 0 = never
(https://developers.facebook.com/docs/graph-api/reference/debug_token). Each Instagram endpoint
Parley calls lists what it needs: comments and replies `instagram_basic`, `instagram_manage_comments`
and `pages_read_engagement` (reference/ig-comment); DMs and private replies `instagram_manage_messages`
(instagram-platform/instagram-api-with-facebook-login/messaging); finding the account through its Page
`pages_show_list`. A long-lived user token, and any Page token made from a short-lived one, lasts
about 60 days (https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived),
so the expiry is checked with the rest: a warning within a week, a failure once it has expired.

Webhooks reach the app only when "the Page connected to the app user's account [has] Page
subscriptions enabled" (developers.facebook.com/docs/graph-api/webhooks/getting-started/
webhooks-for-instagram), which `GET /{page-id}/subscribed_apps` shows with the Page token (it needs
`pages_manage_metadata`); the app-level `instagram` object fields (comments, mentions, messages) can
only be read with an app token, which Parley does not hold, so the README lists them instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from connectors.checks import Check, fail, ok, warn
from connectors.facebook.graph import GraphError, PageGraph

T = "instagram"
EXPIRY_WARNING = timedelta(days=7)
# What each feature needs of the token (README "Going live → Instagram" lists the same).
FEATURE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "reading comments, @mentions and tags": ("instagram_basic", "pages_show_list", "pages_read_engagement"),
    "replying to and hiding comments": ("instagram_manage_comments",),
    "Instagram DMs and private replies": ("instagram_manage_messages",),
}
WEBHOOKS = "webhooks (the Page subscription)"
NEW_TOKEN = ("generate a new Page token with the Instagram permissions (a long-lived user token's /me/accounts, "
             "or a system user's token in Business Settings, which does not expire) and set INSTAGRAM_TOKEN "
             "(or FACEBOOK_PAGE_TOKEN when they share one)")


def check_instagram(graph: PageGraph, account_id: str, now: datetime, *, page_id: str = "me",
                    webhooks: bool = False) -> list[Check]:
    """The token (debug_token: valid, permissions per feature, expiry), the account itself, and with
    webhooks configured the Page subscription they travel through."""
    try:
        info = graph.request(f"{graph.version}/debug_token", {"input_token": graph.access_token})["data"]
    except GraphError as exc:
        return [_token_refused(exc)]
    except requests.RequestException as exc:
        return [fail(T, "instagram.token", f"cannot reach Graph ({type(exc).__name__})",
                     "check FACEBOOK_GRAPH_URL and the network")]
    granted = set(info.get("scopes") or [])
    checks = [*_permissions(granted, webhooks), expiry(int(info.get("expires_at") or 0), now),
              _account(graph, account_id)]
    return [*checks, _subscription(graph, page_id, str(info.get("app_id", "")))] if webhooks else checks


def _token_refused(exc: GraphError) -> Check:
    if exc.code == 190 and exc.subcode == 463:
        return fail(T, "instagram.token", "the Instagram token has expired (Graph code 190/463)", NEW_TOKEN)
    if exc.code == 190:
        return fail(T, "instagram.token", f"the Instagram token is invalid ({exc.message})", NEW_TOKEN)
    return fail(T, "instagram.token", f"Graph refused the token check ({exc.code}: {exc.message})", NEW_TOKEN)


def _permissions(granted: set[str], webhooks: bool) -> list[Check]:
    checks = []
    features = FEATURE_PERMISSIONS | ({WEBHOOKS: ("pages_manage_metadata",)} if webhooks else {})
    for feature, needed in features.items():
        name, missing = f"instagram.permission.{needed[0]}", [p for p in needed if p not in granted]
        if missing:
            checks.append(fail(T, name, f"{feature}: the token lacks {', '.join(missing)}",
                               "add the permission to the app (App Review → Advanced Access for accounts "
                               "without a role on the app), then generate a new token"))
        else:
            checks.append(ok(T, name, f"{feature}: {', '.join(needed)} granted"))
    return checks


def expiry(expires_at: int, now: datetime) -> Check:
    """✓ never or more than a week away, ⚠ within a week, ✗ expired."""
    if expires_at == 0:
        return ok(T, "instagram.expiry", "the Instagram token never expires")
    when = datetime.fromtimestamp(expires_at, UTC)
    left = when - now
    if left <= timedelta(0):
        return fail(T, "instagram.expiry", f"the Instagram token expired {when:%Y-%m-%d %H:%M} UTC", NEW_TOKEN)
    if left < EXPIRY_WARNING:
        return warn(T, "instagram.expiry", f"the Instagram token expires in {_days(left)}, "
                                           f"{when:%Y-%m-%d %H:%M} UTC", NEW_TOKEN)
    return ok(T, "instagram.expiry", f"the Instagram token expires {when:%Y-%m-%d} UTC (in {_days(left)})")


def _days(left: timedelta) -> str:
    n = left.total_seconds() / 86400
    return f"{n:.0f} days" if n >= 1.5 else f"{left.total_seconds() / 3600:.0f} hours"


def _account(graph: PageGraph, account_id: str) -> Check:
    try:
        username = graph.get_object(account_id, fields="username").get("username")
    except GraphError as exc:
        return fail(T, "instagram.account", f"cannot read the account {account_id} ({exc.code}: {exc.message})",
                    "set INSTAGRAM_ACCOUNT_ID to the professional account linked to the Page "
                    "(GET /{page-id}?fields=instagram_business_account)")
    except requests.RequestException as exc:
        return fail(T, "instagram.account", f"cannot reach Graph ({type(exc).__name__})",
                    "check FACEBOOK_GRAPH_URL and the network")
    return ok(T, "instagram.account", f"the account @{username or account_id} is reachable")


def _subscription(graph: PageGraph, page_id: str, app_id: str) -> Check:
    fix = ("enable Page subscriptions for the app (POST /{page-id}/subscribed_apps with the Page token; "
           "`parley check --subscribe` does it when Facebook is configured too), and subscribe the app's "
           "instagram object to comments, mentions and messages in the app dashboard (Webhooks)")
    try:
        apps = graph.request(f"{graph.version}/{page_id}/subscribed_apps")["data"]
    except GraphError as exc:
        return fail(T, "instagram.subscription", f"cannot read the Page subscription ({exc.code}: {exc.message})",
                    "grant pages_manage_metadata and pages_show_list, then " + fix)
    except requests.RequestException as exc:
        return fail(T, "instagram.subscription", f"cannot reach Graph ({type(exc).__name__})",
                    "check FACEBOOK_GRAPH_URL and the network")
    if not any(str(a.get("id")) == app_id for a in apps):
        return fail(T, "instagram.subscription", "the Page has no subscription for the app, so no Instagram "
                                                 "webhook reaches Parley (polling still works)", fix)
    return ok(T, "instagram.subscription", "Page subscriptions are on for the app: Instagram webhooks can arrive")
