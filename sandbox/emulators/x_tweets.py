"""The X emulator's tweet endpoints: mentions, recent search, and posting a tweet.

Timelines come newest first with `since_id`/`until_id` (or `start_time`/`end_time`) and opaque
pagination tokens; expansions fill `includes.users` and `includes.tweets`. Recent search reaches
back 7 days and refuses an older `since_id` or `start_time`, or an `end_time` under 10 s ago.
Posting refuses text X would refuse (too long, a duplicate, a reply to a missing tweet).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from twitter_text import parse_tweet

from sandbox.emulators import x_objects as xo
from sandbox.emulators import x_params as params
from sandbox.emulators.server import Request, Response
from sandbox.emulators.x_account import XAccounts
from sandbox.emulators.x_query import QueryError, Searchable, compile_query

MENTIONS_REACH = 800  # the mentions timeline's depth on X
# X's 403 to a self-serve app replying to a post whose author neither mentioned nor quoted it
# (the rule since 23 Feb 2026; wording as reported for that change, issue 10).
REPLY_NOT_ALLOWED = ("Reply to this conversation is not allowed because you have not been mentioned or otherwise "
                     "engaged by the author of the post you are replying to.")


class TweetEndpoints:
    """Handlers over one account store; `created_tweets` records what the brand posted."""

    def __init__(self, accounts: XAccounts) -> None:
        self.accounts = accounts
        self.created_tweets: list[dict[str, Any]] = []  # what the brand posted through POST /2/tweets
        self._posted_texts: set[str] = set()  # X refuses the same text twice from one account
        self.enterprise = False  # an Enterprise plan may reply to any post

    def mentions(self, request: Request) -> Response:
        user_id = request.params["id"]
        max_results = params.bounded_int(request, "max_results", 5, 100, 10)
        with self.accounts.lock:
            user = self.accounts.users.get(user_id)
            if user is None:
                return Response(200, {"errors": [{
                    "value": user_id, "detail": f"Could not find user with id: [{user_id}].",
                    "title": "Not Found Error", "resource_type": "user", "parameter": "id", "resource_id": user_id,
                    "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
            handle = user.username.lower()
            found = [t for t in self.accounts.tweets.values()
                     if any(m["username"].lower() == handle for m in t.mentions)]
            # "Using pagination, up to the most recent 800 Tweets can be retrieved", since_id or not.
            found = sorted(found, key=lambda t: int(t.id), reverse=True)[:MENTIONS_REACH]
            return self._tweet_page(request, found, max_results, "pagination_token")

    def search(self, request: Request) -> Response:
        query = request.query.get("query", "")
        if not query:
            raise xo.InvalidRequest("query", "", "The `query` query parameter can not be empty")
        try:
            matcher = compile_query(query)
        except QueryError as exc:
            raise xo.InvalidRequest("query", query, exc.args[0]) from exc
        max_results = params.bounded_int(request, "max_results", 10, 100, 10)
        since_id = params.id_param(request, "since_id")
        now = self.accounts.now()
        window_start = now - timedelta(days=7)
        if since_id is not None and since_id < xo.snowflake(window_start):
            raise xo.InvalidRequest("since_id", str(since_id), f"Invalid 'since_id':'{since_id}'. 'since_id' must be "
                                                               f"a tweet id created after {xo.iso(window_start)}.")
        self._check_search_times(request, window_start, now)
        with self.accounts.lock:
            found = [t for t in self.accounts.tweets.values()
                     if matcher(self._searchable(t)) and t.created_at >= window_start]
            token_param = "next_token" if "next_token" in request.query else "pagination_token"
            return self._tweet_page(request, found, max_results, token_param)

    @staticmethod
    def _check_search_times(request: Request, window_start: datetime, now: datetime) -> None:
        """Recent search's own bounds: nothing before its 7 days, and an end_time at least 10 s ago."""
        start, end = params.time_param(request, "start_time"), params.time_param(request, "end_time")
        if start is not None and start < window_start:
            raise xo.InvalidRequest("start_time", request.query["start_time"], (
                f"Invalid 'start_time':'{request.query['start_time']}'. 'start_time' must be on or after "
                f"{xo.iso(window_start)}"))
        if end is not None and end > now - timedelta(seconds=10):
            raise xo.InvalidRequest("end_time", request.query["end_time"], (
                f"Invalid 'end_time':'{request.query['end_time']}'. 'end_time' must be a minimum of 10 seconds "
                "prior to the request time."))
        if start is not None and end is not None and start >= end:
            raise xo.InvalidRequest("start_time", request.query["start_time"], (
                f"Invalid 'start_time':'{request.query['start_time']}'. 'start_time' must be before 'end_time'"))

    def create(self, request: Request) -> Response:
        payload = request.json
        if not isinstance(payload, dict):
            raise xo.InvalidRequest("body", "", "The request body must be a JSON object")
        text = payload.get("text")
        if not isinstance(text, str) or not text.strip():
            raise xo.InvalidRequest("text", str(text), "The `text` field is required when no media is attached")
        if not parse_tweet(text).valid:
            raise xo.InvalidRequest("text", text[:40], "Your Post text is too long or contains invalid characters")
        reply_to = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
        accounts = self.accounts
        with accounts.lock:
            if reply_to is not None and reply_to not in accounts.tweets:
                return xo.problem(403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not "
                                                    "visible to you.")
            if reply_to is not None and not self.enterprise and not accounts.addresses_brand(accounts.tweets[reply_to]):
                return xo.problem(403, "Forbidden", REPLY_NOT_ALLOWED)
            if text in self._posted_texts:
                return xo.problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
            tweet_id = accounts.add_tweet(accounts.brand_id, text, in_reply_to=reply_to)
            self._posted_texts.add(text)
            tweet = accounts.tweets[tweet_id]
            self.created_tweets.append({"id": tweet_id, "text": tweet.text, "in_reply_to_tweet_id": reply_to})
            return Response(201, {"data": {"id": tweet_id, "text": tweet.text, "edit_history_tweet_ids": [tweet_id]}})

    def _searchable(self, tweet: xo.Tweet) -> Searchable:
        users = self.accounts.users
        reply_to = users.get(tweet.in_reply_to_user_id or "")
        return Searchable(tweet.text, users[tweet.author_id].username, tweet.lang,
                          is_retweet=tweet.retweet_of is not None, is_reply=tweet.in_reply_to_tweet_id is not None,
                          in_reply_to_username=reply_to.username if reply_to else None)

    def _tweet_page(self, request: Request, found: list[xo.Tweet], max_results: int, token_param: str) -> Response:
        tweet_fields = params.fields(request, "tweet.fields", xo.TWEET_FIELDS)
        user_fields = params.fields(request, "user.fields", xo.USER_FIELDS)
        expansions = params.fields(request, "expansions", xo.TWEET_EXPANSIONS)
        since_id, until_id = params.id_param(request, "since_id"), params.id_param(request, "until_id")
        # since_id / until_id take precedence over start_time / end_time (start inclusive, end exclusive).
        start = None if since_id is not None else params.time_param(request, "start_time")
        end = None if until_id is not None else params.time_param(request, "end_time")
        from_token = params.page_token(request, token_param, dm=False)
        until_id = from_token if from_token is not None else until_id
        found = sorted(found, key=lambda t: int(t.id), reverse=True)
        found = [t for t in found if (since_id is None or int(t.id) > since_id)
                 and (until_id is None or int(t.id) < until_id)
                 and (start is None or t.created_at >= start) and (end is None or t.created_at < end)]
        page, more = found[:max_results], len(found) > max_results
        body: dict[str, Any] = {"meta": {"result_count": len(page)}}
        if page:
            body["data"] = [t.render(tweet_fields) for t in page]
            body["meta"].update({"newest_id": page[0].id, "oldest_id": page[-1].id})
            if more:
                body["meta"]["next_token"] = xo.tweet_token(page[-1].id)
            includes = self._includes(page, expansions, tweet_fields, user_fields)
            if includes:
                body["includes"] = includes
        return Response(200, body)

    def _includes(self, page: list[xo.Tweet], expansions: set[str], tweet_fields: set[str],
                  user_fields: set[str]) -> dict[str, Any]:
        """`includes` for the requested expansions: the users and referenced tweets a page names."""
        user_ids: list[str] = []
        if "author_id" in expansions:
            user_ids += [t.author_id for t in page]
        if "in_reply_to_user_id" in expansions:
            user_ids += [t.in_reply_to_user_id for t in page if t.in_reply_to_user_id]
        if "entities.mentions.username" in expansions:
            user_ids += [m["id"] for t in page for m in t.mentions if "id" in m]
        includes: dict[str, Any] = {}
        if user_ids:
            includes["users"] = self.accounts.users_payload(user_ids, user_fields)
        if "referenced_tweets.id" in expansions:
            tweets = self.accounts.tweets
            refs = [r["id"] for t in page for r in t.referenced() if r["id"] in tweets]
            if refs:
                includes["tweets"] = [tweets[r].render(tweet_fields) for r in dict.fromkeys(refs)]
        return includes
