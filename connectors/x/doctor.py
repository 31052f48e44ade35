"""`parley check` for X: the user context works, the app's permission level covers what Parley does,
and every endpoint Parley reads answers.

The permission level comes from the `x-access-level` header X sends on user-context answers
("read", "read-write" or "read-write-directmessages"). Reading and sending DMs needs "Read and
write and Direct message"; after changing it in the developer portal the access token and secret
must be regenerated, since old tokens keep the old level
(https://developer.x.com/en/docs/apps/app-permissions). Each probe asks for the fewest items the
endpoint allows: X bills reads per item.
"""

from __future__ import annotations

from collections.abc import Mapping

import requests
import tweepy

from connectors.checks import Check, fail, ok
from connectors.x.transport import detail

T = "x"
_FULL = "read-write-directmessages"
_PERMISSION_FIX = ("in the X developer portal set User authentication → App permissions to \"Read and write "
                   "and Direct message\", then regenerate the access token and secret and update "
                   "X_ACCESS_TOKEN / X_ACCESS_TOKEN_SECRET")


def _why(exc: Exception) -> str:
    if isinstance(exc, tweepy.HTTPException):
        return f"HTTP {exc.response.status_code}: {detail(exc)}"
    return " ".join(str(exc).split())[:160]


def check_x(client: tweepy.Client, *, app_auth: bool, search_queries: Mapping[str, str]) -> list[Check]:
    """User context (GET /2/users/me), the app permission level, then each endpoint Parley reads
    (`app_auth`: reads use the bearer token, as polling does)."""
    try:
        me = client.request("GET", "/2/users/me", user_auth=True)
    except (tweepy.TweepyException, requests.RequestException) as exc:
        return [fail(T, "x.user", f"the user context does not work ({_why(exc)})",
                     "check X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET (regenerate "
                     "them in the developer portal if the app's permissions changed)")]
    brand = me.json().get("data") or {}
    checks = [ok(T, "x.user", f"signed in as @{brand.get('username')}")]
    level = me.headers.get("x-access-level", "")
    if level == _FULL:
        checks.append(ok(T, "x.permission", "app permission: read, write and Direct Messages"))
    else:
        checks.append(fail(T, "x.permission", f"app permission is {level or 'unknown'}: Parley cannot read or "
                                              "send DMs", _PERMISSION_FIX))
    checks.extend(_endpoints(client, str(brand.get("id", "")), app_auth, search_queries))
    return checks


def _endpoints(client: tweepy.Client, brand_id: str, app_auth: bool,
               search_queries: Mapping[str, str]) -> list[Check]:
    probes: list[tuple[str, str, dict[str, object], bool]] = [
        ("mentions", f"/2/users/{brand_id}/mentions", {"max_results": 5}, not app_auth),
        ("DM events", "/2/dm_events", {"max_results": 1}, True),
    ]
    for name, query in search_queries.items():
        probes.append((f"search {name}", "/2/tweets/search/recent", {"query": query, "max_results": 10},
                       not app_auth))
    checks = []
    for label, route, params, user_auth in probes:
        try:
            client.request("GET", route, params=params, user_auth=user_auth)
        except tweepy.TooManyRequests:
            checks.append(ok(T, f"x.read.{label}", f"{label}: reachable (rate-limited right now)"))
        except (tweepy.TweepyException, requests.RequestException) as exc:
            forbidden = isinstance(exc, tweepy.Forbidden) and label == "DM events"
            checks.append(fail(T, f"x.read.{label}", f"{label}: {_why(exc)}",
                               _PERMISSION_FIX if forbidden else "check the X app's access and X's status page"))
        else:
            checks.append(ok(T, f"x.read.{label}", f"{label}: reachable"))
    return checks
