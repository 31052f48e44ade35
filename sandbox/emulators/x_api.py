"""A loopback emulator of the X API v2 endpoints Parley uses, reached by the real tweepy client.

Serves `GET /2/users/me`, `GET /2/users/:id/mentions`, `GET /2/tweets/search/recent`,
`GET /2/dm_events`, `POST /2/tweets` and `POST /2/dm_conversations/with/:id/messages` with X's
shapes (`data` / `includes` / `meta`, problem+json errors, snowflake ids, newest first, opaque
pagination tokens; recent search reaches back 7 days and refuses an older `since_id`, as X does).
Tests and the demo seed it with `add_user` / `add_tweet` / `add_dm`, inject
429s with `rate_limit_next` and outages with `error_next`, and read what the brand sent from
`created_tweets` / `sent_dms` and what X would bill from `billing` (`x_billing.py`). As on X since
Feb 2026, a reply to a post that neither mentions nor quotes the brand is refused (403) unless the
emulator is told the account is on an Enterprise plan (`enterprise=True`); every endpoint keeps its
own 15-minute request window and answers 429 once it is used up (`GET /2/dm_events`: 15).
`tests/sandbox/emulators/test_x_api.py` checks it against X's OpenAPI spec.

This module is the HTTP face: routes, the auth and rate-limit headers every endpoint shares, and
fault injection. Accounts live in `x_account`, tweets in `x_tweets`, DMs in `x_dms`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from sandbox.emulators import x_objects as xo
from sandbox.emulators import x_params as params
from sandbox.emulators.server import Emulator, Request, Response
from sandbox.emulators.x_account import XAccounts
from sandbox.emulators.x_billing import XBilling
from sandbox.emulators.x_dms import DmEndpoints
from sandbox.emulators.x_tweets import TweetEndpoints

_WINDOW = 15 * 60  # X rate limits are counted per 15-minute window
_USER_CONTEXT_ONLY = (
    "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
    "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context]."
)


class XEmulator(Emulator):
    """X API v2 for one brand account (the authenticated user of every user-context call)."""

    name = "x-api"

    def __init__(
        self,
        *,
        brand_id: str = "1354000000000000001",
        brand_username: str = "acme",
        brand_name: str = "Acme",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        access_level: str = "read-write-directmessages",
        enterprise: bool = False,
        dm_events_limit: int = 15,
    ) -> None:
        super().__init__(host, port)
        self.clock = clock
        # The app's permission ("read", "read-write" or "read-write-directmessages"), sent back in the
        # x-access-level header of every user-context answer and enforced per endpoint below.
        self.access_level = access_level
        self.brand_id = brand_id
        self.accounts = XAccounts(brand_id, brand_username, brand_name, clock=lambda: self.clock(),
                                  lock=self._lock)
        self.tweet_endpoints, self.dm_endpoints = TweetEndpoints(self.accounts), DmEndpoints(self.accounts)
        # The same objects as the store's and the endpoints', exposed for inspection.
        self.users, self.tweets, self.dm_events = self.accounts.users, self.accounts.tweets, self.accounts.dm_events
        self.created_tweets = self.tweet_endpoints.created_tweets
        self.sent_dms = self.dm_endpoints.sent_dms
        self.tweet_endpoints.enterprise = enterprise
        self.billing = XBilling()
        self.rate_limited: list[str] = []  # the endpoint of every 429 the windows answered
        self._windows: dict[str, tuple[float, int]] = {}
        self.route("GET", r"/2/users/me", self._guarded("users_me", 75, True, self._me))
        self._needs = {"dm_events": "read-write-directmessages", "create_dm": "read-write-directmessages",
                       "create_tweet": "read-write"}
        # Requests per 15 minutes as X documents them (per app for reads with the bearer token); GET
        # /2/dm_events: 15 per user (issue 10's figure).
        self.route("GET", r"/2/users/(?P<id>[^/]+)/mentions",
                   self._guarded("mentions", 450, False, self.tweet_endpoints.mentions))
        self.route("GET", r"/2/tweets/search/recent", self._guarded("search", 450, False, self.tweet_endpoints.search))
        self.route("GET", r"/2/dm_events", self._guarded("dm_events", dm_events_limit, True,
                                                         self.dm_endpoints.list_events))
        self.route("POST", r"/2/tweets", self._guarded("create_tweet", 100, True, self.tweet_endpoints.create))
        self.route("POST", r"/2/dm_conversations/with/(?P<participant_id>[^/]+)/messages",
                   self._guarded("create_dm", 200, True, self.dm_endpoints.send))

    # --- seeding (the account store's) ---------------------------------------------------------
    def add_user(self, username: str, name: str, followers: int = 0, verified: bool = False,
                 accepts_dms: bool = True) -> str:
        """Register a customer account and return its numeric id."""
        return self.accounts.add_user(username, name, followers, verified, accepts_dms)

    def set_accepts_dms(self, user_id: str, accepts: bool) -> None:
        self.users[user_id].accepts_dms = accepts

    def add_tweet(self, author_id: str, text: str, *, in_reply_to: str | None = None,
                  created_at: datetime | None = None, lang: str | None = None,
                  retweet_of: str | None = None, quote_of: str | None = None) -> str:
        """Post a tweet as `author_id` and return its id (see `XAccounts.add_tweet` for reply rules)."""
        return self.accounts.add_tweet(author_id, text, in_reply_to=in_reply_to, created_at=created_at, lang=lang,
                                       retweet_of=retweet_of, quote_of=quote_of)

    def add_dm(self, sender_id: str, text: str, *, created_at: datetime | None = None,
               recipient_id: str | None = None) -> str:
        """A DM between a customer and the brand (the brand is the recipient unless it is the sender)."""
        return self.accounts.add_dm(sender_id, text, created_at=created_at, recipient_id=recipient_id)

    # --- fault injection -------------------------------------------------------------------------
    def rate_limit_next(self, path_regex: str, times: int = 1, reset_in_seconds: int = 900) -> int:
        """Answer the next `times` matching requests with X's 429; returns the epoch reset time sent."""
        reset = int(self.clock()) + reset_in_seconds
        response = xo.problem(429, "Too Many Requests", "Too Many Requests")
        headers = dict(response.headers)
        headers.update({"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})
        self.fail_next(path_regex, 429, times=times, headers=headers, body=response.body)
        return reset

    def error_next(self, path_regex: str, status: int, *, times: int = 1, detail: str | None = None) -> None:
        """Answer the next `times` matching requests with an X-style error (401, 403, 5xx...)."""
        titles = {401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error", 502: "Bad Gateway",
                  503: "Service Unavailable", 504: "Gateway Timeout"}
        title = titles.get(status, "Error")
        response = xo.problem(status, title, detail or title)
        self.fail_next(path_regex, status, times=times, headers=response.headers, body=response.body)

    # --- plumbing -----------------------------------------------------------------------------
    def _guarded(self, name: str, limit: int, user_context: bool,
                 handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        """Auth checks X makes before any endpoint, plus the x-rate-limit-* headers on every answer."""

        def serve(request: Request) -> Response:
            auth = request.headers.get("authorization", "")
            if not auth:
                return xo.problem(401, "Unauthorized", "Unauthorized")
            if user_context and auth.startswith("Bearer "):
                return xo.problem(403, "Unsupported Authentication", _USER_CONTEXT_ONLY,
                                  type_="https://api.twitter.com/2/problems/unsupported-authentication")
            with self._lock:
                start, used = self._windows.get(name, (self.clock(), 0))
                if self.clock() - start >= _WINDOW:
                    start, used = self.clock(), 0
                self._windows[name] = (start, used + 1)
            limits = {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(max(limit - used - 1, 0)),
                      "x-rate-limit-reset": str(int(start + _WINDOW))}
            if used >= limit:  # the window is used up: X answers 429 until its reset
                self.rate_limited.append(name)
                response = xo.problem(429, "Too Many Requests", "Too Many Requests")
                response.headers.update(limits)
                return response
            refusal = self._permission_refusal(name, auth)
            try:
                response = refusal or handler(request)
            except xo.InvalidRequest as exc:
                response = exc.response()
            if response.status < 300:
                self._bill(name, request, response)
            if auth.startswith("OAuth "):
                response.headers["x-access-level"] = self.access_level
            response.headers.update(limits)
            return response

        return serve

    def _permission_refusal(self, name: str, auth: str) -> Response | None:
        """X's 403 for a user-context call the app's permission level does not cover. App permissions:
        "Read and write" has no access to Direct Messages; "Read only" cannot post
        (https://developer.x.com/en/docs/apps/app-permissions)."""
        needed = self._needs.get(name)
        if needed is None or not auth.startswith("OAuth "):
            return None
        order = ("read", "read-write", "read-write-directmessages")
        if order.index(self.access_level) >= order.index(needed):
            return None
        what = "access or delete your direct messages" if "direct" in needed else "post on your behalf"
        return xo.problem(403, "Forbidden", f"This application is not allowed to {what}")
    def _bill(self, name: str, request: Request, response: Response) -> None:
        """Charge what X bills for one successful request (`billing`)."""
        day = datetime.fromtimestamp(self.clock(), UTC).date()
        data = response.body.get("data") if isinstance(response.body, dict) else None
        if name == "mentions":
            own = request.params.get("id") == self.brand_id
            self.billing.read(day, "owned_read" if own else "post_read", response.body)
        elif name == "search":
            self.billing.read(day, "post_read", response.body)
        elif name == "dm_events":
            self.billing.read(day, "dm_event_read", response.body)
        elif name == "create_tweet" and isinstance(data, dict):
            self.billing.wrote(day, "post", str(data["id"]), str(data.get("text", "")))
        elif name == "create_dm" and isinstance(data, dict):
            self.billing.wrote(day, "dm", str(data["dm_event_id"]))

    def _me(self, request: Request) -> Response:
        fields = params.fields(request, "user.fields", xo.USER_FIELDS)
        params.fields(request, "expansions", xo.USER_EXPANSIONS)
        brand = self.users[self.brand_id]
        return Response(200, {"data": brand.render(fields, self.accounts.tweet_count(self.brand_id))})
