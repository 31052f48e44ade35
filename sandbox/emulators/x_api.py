"""A loopback emulator of the X API v2 endpoints Parley uses, reached by the real tweepy client.

Serves `GET /2/users/me`, `GET /2/users/:id/mentions`, `GET /2/tweets/search/recent`,
`GET /2/dm_events`, `POST /2/tweets` and `POST /2/dm_conversations/with/:id/messages` with X's
shapes (`data` / `includes` / `meta`, problem+json errors, snowflake ids, newest first, opaque
pagination tokens; recent search reaches back 7 days and refuses an older `since_id`, as X does).
Tests and the demo seed it with `add_user` / `add_tweet` / `add_dm`, inject
429s with `rate_limit_next` and outages with `error_next`, and read what the brand sent from
`created_tweets` / `sent_dms`. `tests/sandbox/emulators/test_x_api.py` checks it against X's OpenAPI spec.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from twitter_text import parse_tweet

from sandbox.emulators import x_objects as xo
from sandbox.emulators.server import Emulator, Request, Response
from sandbox.emulators.x_query import QueryError, Searchable, compile_query

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
    ) -> None:
        super().__init__(host, port)
        self.clock = clock
        self.users: dict[str, xo.User] = {}
        self.tweets: dict[str, xo.Tweet] = {}
        self.dm_events: dict[str, xo.DmEvent] = {}
        self.created_tweets: list[dict[str, Any]] = []  # what the brand posted through POST /2/tweets
        self.sent_dms: list[dict[str, Any]] = []  # what the brand sent through the DM endpoint
        self._last_id = 0
        self._next_user = 1_500_000_000
        self._windows: dict[str, tuple[float, int]] = {}
        self._posted_texts: set[str] = set()  # X refuses the same text twice from one account
        self.brand_id = brand_id
        self.users[brand_id] = xo.User(brand_id, brand_username, brand_name, self._now(), followers=12_000,
                                       verified=True)
        self.route("GET", r"/2/users/me", self._guarded("users_me", 75, True, self._me))
        self.route("GET", r"/2/users/(?P<id>[^/]+)/mentions", self._guarded("mentions", 450, False, self._mentions))
        self.route("GET", r"/2/tweets/search/recent", self._guarded("search", 450, False, self._search))
        self.route("GET", r"/2/dm_events", self._guarded("dm_events", 300, True, self._dm_list))
        self.route("POST", r"/2/tweets", self._guarded("create_tweet", 100, True, self._create_tweet))
        self.route("POST", r"/2/dm_conversations/with/(?P<participant_id>[^/]+)/messages",
                   self._guarded("create_dm", 200, True, self._create_dm))

    # --- seeding ------------------------------------------------------------------------------
    def add_user(self, username: str, name: str, followers: int = 0, verified: bool = False,
                 accepts_dms: bool = True) -> str:
        """Register a customer account and return its numeric id."""
        with self._lock:
            self._next_user += 7919  # gaps, like real ids
            user_id = str(self._next_user)
            self.users[user_id] = xo.User(user_id, username, name, self._now(), followers=followers,
                                          verified=verified, accepts_dms=accepts_dms)
            return user_id

    def set_accepts_dms(self, user_id: str, accepts: bool) -> None:
        self.users[user_id].accepts_dms = accepts

    def add_tweet(self, author_id: str, text: str, *, in_reply_to: str | None = None,
                  created_at: datetime | None = None, lang: str | None = None,
                  retweet_of: str | None = None) -> str:
        """Post a tweet as `author_id` and return its id (ids only grow, like X's snowflakes).

        A reply joins its parent's `conversation_id` and, as on X, starts with the @handles of the
        parent's author and of the people the parent mentioned (minus the replier and anyone the
        text already mentions). A retweet's text is `RT @handle: ...`.
        """
        with self._lock:
            self._unknown(author_id)
            moment = created_at or self._now()
            tweet_id = self._new_id(moment)
            conversation_id, reply_user = tweet_id, None
            if retweet_of is not None:
                original = self.tweets[retweet_of]
                text = f"RT @{self.users[original.author_id].username}: {original.text}"
            if in_reply_to is not None:
                parent = self.tweets[in_reply_to]
                conversation_id, reply_user = parent.conversation_id, parent.author_id
                parent.reply_count += 1
                # X puts everyone in the parent's "replying to" list at the start of the reply text.
                handles = [self.users[parent.author_id].username, *(m["username"] for m in parent.mentions)]
                own = self.users[author_id].username.lower()
                lead = [h for h in dict.fromkeys(handles) if h.lower() != own and f"@{h}".lower() not in text.lower()]
                text = " ".join([*(f"@{h}" for h in lead), text])
            mentions = []
            for match in xo.MENTION.finditer(text):
                entity = {"start": match.start(), "end": match.end(), "username": match.group(1)}
                known = self._user_by_name(match.group(1))
                if known is not None:
                    entity["id"] = known.id
                mentions.append(entity)
            self.tweets[tweet_id] = xo.Tweet(
                tweet_id, author_id, text, moment,
                conversation_id, lang or "und", in_reply_to, reply_user, retweet_of, mentions,
            )
            return tweet_id

    def add_dm(self, sender_id: str, text: str, *, created_at: datetime | None = None,
               recipient_id: str | None = None) -> str:
        """A DM between a customer and the brand (the brand is the recipient unless it is the sender)."""
        with self._lock:
            recipient = recipient_id or self.brand_id
            if self.brand_id not in (sender_id, recipient) or sender_id == recipient:
                raise ValueError("an X DM here is between the brand and one other user")
            moment = created_at or self._now()
            event_id = self._new_id(moment)
            self.dm_events[event_id] = xo.DmEvent(event_id, self._unknown(sender_id), recipient, text, moment)
            return event_id

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
    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _new_id(self, moment: datetime) -> str:
        self._last_id = max(self._last_id + 1, xo.snowflake(moment))
        return str(self._last_id)

    def _unknown(self, user_id: str) -> str:
        if user_id not in self.users:
            raise KeyError(f"no X user {user_id}; add_user() first")
        return user_id

    def _user_by_name(self, username: str) -> xo.User | None:
        return next((u for u in self.users.values() if u.username.lower() == username.lower()), None)

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
            try:
                response = handler(request)
            except xo.InvalidRequest as exc:
                response = exc.response()
            with self._lock:
                start, used = self._windows.get(name, (self.clock(), 0))
                if self.clock() - start >= _WINDOW:
                    start, used = self.clock(), 0
                self._windows[name] = (start, used + 1)
            response.headers.update({"x-rate-limit-limit": str(limit),
                                     "x-rate-limit-remaining": str(max(limit - used - 1, 0)),
                                     "x-rate-limit-reset": str(int(start + _WINDOW))})
            return response

        return serve

    @staticmethod
    def _fields(request: Request, param: str, allowed: frozenset[str]) -> set[str]:
        raw = request.query.get(param)
        if raw is None:
            return set()
        values = raw.split(",")
        for value in values:
            if value not in allowed:
                raise xo.InvalidRequest(param, value, f"The `{param}` query parameter value [{value}] is not one of "
                                                      f"[{','.join(sorted(allowed))}]")
        return set(values)

    @staticmethod
    def _int(request: Request, param: str, low: int, high: int, default: int) -> int:
        raw = request.query.get(param)
        if raw is None:
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise xo.InvalidRequest(param, raw, f"The `{param}` query parameter value [{raw}] is not between "
                                                f"{low} and {high}")
        return int(raw)

    @staticmethod
    def _id_param(request: Request, param: str) -> int | None:
        raw = request.query.get(param)
        if raw is None:
            return None
        if not raw.isdigit() or len(raw) > 19:
            raise xo.InvalidRequest(param, raw, f"The `{param}` query parameter value [{raw}] does not match "
                                                "^[0-9]{1,19}$")
        return int(raw)

    def _users_payload(self, ids: list[str], fields: set[str]) -> list[dict[str, Any]]:
        seen: list[str] = []
        for user_id in ids:
            if user_id in self.users and user_id not in seen:
                seen.append(user_id)
        return [self.users[u].render(fields, self._tweet_count(u)) for u in seen]

    def _tweet_count(self, user_id: str) -> int:
        return sum(1 for t in self.tweets.values() if t.author_id == user_id)

    # --- endpoints ----------------------------------------------------------------------------
    def _me(self, request: Request) -> Response:
        fields = self._fields(request, "user.fields", xo.USER_FIELDS)
        self._fields(request, "expansions", xo.USER_EXPANSIONS)
        return Response(200, {"data": self.users[self.brand_id].render(fields, self._tweet_count(self.brand_id))})

    def _mentions(self, request: Request) -> Response:
        user_id = request.params["id"]
        max_results = self._int(request, "max_results", 5, 100, 10)
        with self._lock:
            user = self.users.get(user_id)
            if user is None:
                return Response(200, {"errors": [{
                    "value": user_id, "detail": f"Could not find user with id: [{user_id}].",
                    "title": "Not Found Error", "resource_type": "user", "parameter": "id", "resource_id": user_id,
                    "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
            handle = user.username.lower()
            found = [t for t in self.tweets.values() if any(m["username"].lower() == handle for m in t.mentions)]
            return self._tweet_page(request, found, max_results, "pagination_token")

    def _search(self, request: Request) -> Response:
        query = request.query.get("query", "")
        if not query:
            raise xo.InvalidRequest("query", "", "The `query` query parameter can not be empty")
        try:
            matcher = compile_query(query)
        except QueryError as exc:
            raise xo.InvalidRequest("query", query, exc.args[0]) from exc
        max_results = self._int(request, "max_results", 10, 100, 10)
        since_id = self._id_param(request, "since_id")
        window_start = self._now() - timedelta(days=7)
        if since_id is not None and since_id < xo.snowflake(window_start):
            raise xo.InvalidRequest("since_id", str(since_id), f"Invalid 'since_id':'{since_id}'. 'since_id' must be "
                                                               f"a tweet id created after {xo.iso(window_start)}.")
        with self._lock:
            found = [t for t in self.tweets.values() if matcher(self._searchable(t)) and t.created_at >= window_start]
            token_param = "next_token" if "next_token" in request.query else "pagination_token"
            return self._tweet_page(request, found, max_results, token_param)

    def _searchable(self, tweet: xo.Tweet) -> Searchable:
        reply_to = self.users.get(tweet.in_reply_to_user_id or "")
        return Searchable(tweet.text, self.users[tweet.author_id].username, tweet.lang,
                          is_retweet=tweet.retweet_of is not None, is_reply=tweet.in_reply_to_tweet_id is not None,
                          in_reply_to_username=reply_to.username if reply_to else None)

    def _tweet_page(self, request: Request, found: list[xo.Tweet], max_results: int, token_param: str) -> Response:
        tweet_fields = self._fields(request, "tweet.fields", xo.TWEET_FIELDS)
        user_fields = self._fields(request, "user.fields", xo.USER_FIELDS)
        expansions = self._fields(request, "expansions", xo.TWEET_EXPANSIONS)
        since_id, until_id = self._id_param(request, "since_id"), self._id_param(request, "until_id")
        token = request.query.get(token_param)
        if token is not None:
            try:
                until_id = xo.decode_token(token, dm=False)
            except ValueError:
                raise xo.InvalidRequest(token_param, token, f"The `{token_param}` query parameter value "
                                                            f"[{token}] is not valid") from None
        found = sorted(found, key=lambda t: int(t.id), reverse=True)
        found = [t for t in found if (since_id is None or int(t.id) > since_id)
                 and (until_id is None or int(t.id) < until_id)]
        page, more = found[:max_results], len(found) > max_results
        body: dict[str, Any] = {"meta": {"result_count": len(page)}}
        if page:
            body["data"] = [t.render(tweet_fields) for t in page]
            body["meta"].update({"newest_id": page[0].id, "oldest_id": page[-1].id})
            if more:
                body["meta"]["next_token"] = xo.tweet_token(page[-1].id)
            user_ids: list[str] = []
            if "author_id" in expansions:
                user_ids += [t.author_id for t in page]
            if "in_reply_to_user_id" in expansions:
                user_ids += [t.in_reply_to_user_id for t in page if t.in_reply_to_user_id]
            if "entities.mentions.username" in expansions:
                user_ids += [m["id"] for t in page for m in t.mentions if "id" in m]
            includes: dict[str, Any] = {}
            if user_ids:
                includes["users"] = self._users_payload(user_ids, user_fields)
            if "referenced_tweets.id" in expansions:
                refs = [r["id"] for t in page for r in t.referenced() if r["id"] in self.tweets]
                if refs:
                    includes["tweets"] = [self.tweets[r].render(tweet_fields) for r in dict.fromkeys(refs)]
            if includes:
                body["includes"] = includes
        return Response(200, body)

    def _dm_list(self, request: Request) -> Response:
        fields = self._fields(request, "dm_event.fields", xo.DM_EVENT_FIELDS)
        user_fields = self._fields(request, "user.fields", xo.USER_FIELDS)
        expansions = self._fields(request, "expansions", xo.DM_EXPANSIONS)
        self._fields(request, "tweet.fields", xo.TWEET_FIELDS)
        max_results = self._int(request, "max_results", 1, 100, 100)
        until_id = None
        token = request.query.get("pagination_token")
        if token is not None:
            try:
                until_id = xo.decode_token(token, dm=True)
            except ValueError:
                raise xo.InvalidRequest("pagination_token", token, f"The `pagination_token` query parameter value "
                                                                   f"[{token}] is not valid") from None
        with self._lock:
            events = sorted(self.dm_events.values(), key=lambda e: int(e.id), reverse=True)
            events = [e for e in events if until_id is None or int(e.id) < until_id]
            page, more = events[:max_results], len(events) > max_results
            body: dict[str, Any] = {"meta": {"result_count": len(page)}}
            if page:
                body["data"] = [e.render(fields) for e in page]
                if more:
                    body["meta"]["next_token"] = xo.dm_token(page[-1].id)
                if "sender_id" in expansions:
                    body["includes"] = {"users": self._users_payload([e.sender_id for e in page], user_fields)}
            return Response(200, body)

    def _create_tweet(self, request: Request) -> Response:
        payload = request.json
        if not isinstance(payload, dict):
            raise xo.InvalidRequest("body", "", "The request body must be a JSON object")
        text = payload.get("text")
        if not isinstance(text, str) or not text.strip():
            raise xo.InvalidRequest("text", str(text), "The `text` field is required when no media is attached")
        if not parse_tweet(text).valid:
            raise xo.InvalidRequest("text", text[:40], "Your Post text is too long or contains invalid characters")
        reply_to = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
        with self._lock:
            if reply_to is not None and reply_to not in self.tweets:
                return xo.problem(403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not "
                                                    "visible to you.")
            if text in self._posted_texts:
                return xo.problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
            tweet_id = self.add_tweet(self.brand_id, text, in_reply_to=reply_to)
            self._posted_texts.add(text)
            tweet = self.tweets[tweet_id]
            self.created_tweets.append({"id": tweet_id, "text": tweet.text, "in_reply_to_tweet_id": reply_to})
            return Response(201, {"data": {"id": tweet_id, "text": tweet.text, "edit_history_tweet_ids": [tweet_id]}})

    def _create_dm(self, request: Request) -> Response:
        participant_id = request.params["participant_id"]
        payload = request.json
        text = payload.get("text") if isinstance(payload, dict) else None
        if not isinstance(text, str) or not text:
            raise xo.InvalidRequest("text", str(text), "The `text` field is required when no attachment is sent")
        with self._lock:
            user = self.users.get(participant_id)
            if user is None or participant_id == self.brand_id:
                raise xo.InvalidRequest("participant_id", participant_id,
                                        f"The `participant_id` value [{participant_id}] is not a user you can message")
            if not user.accepts_dms:
                return xo.problem(403, "Forbidden", "You are not permitted to send Direct Messages to this user.")
            event_id = self.add_dm(self.brand_id, text, recipient_id=participant_id)
            conversation = self.dm_events[event_id].dm_conversation_id
            self.sent_dms.append({"id": event_id, "participant_id": participant_id, "text": text,
                                  "dm_conversation_id": conversation})
            return Response(201, {"data": {"dm_conversation_id": conversation, "dm_event_id": event_id}})
