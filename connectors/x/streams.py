"""Reading one X stream (mentions, a search, DMs) from its cursor through every page.

A cursor is the newest id stored, or, before anything was, the stream's starting point as a time
(`connectors/backfill.py`). A stream with no cursor persists its starting point first (now minus
the backfill), then reports what lies before it, then reads forward like any other poll. Every
poll reads ALL pages after the cursor, one batch per page, and only the last batch moves the
cursor (to the newest id, which X puts on the first page): a crash or a 429 part-way leaves the
old cursor, so the next poll re-reads from it and the store turns repeats into no-ops. X's mentions
timeline only reaches back 800 posts; a bigger spike between two polls is completed from recent
search for the brand's @handle before the cursor moves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import requests
import tweepy

from connectors import backfill
from connectors.base import Batch, InboundMessage, Kind
from connectors.x import records as rec
from connectors.x import spend
from connectors.x.transport import detail

log = logging.getLogger(__name__)

SEARCH_WINDOW = timedelta(days=7)  # recent search reaches back 7 days and refuses anything older
SEARCH_MARGIN = timedelta(minutes=1)  # so a start near the 7-day edge is still inside when X checks it
# X refuses a search end_time within 10 s of the request; this also absorbs clock skew with X.
MIN_LOOKBACK = timedelta(seconds=10)
COUNT_PAGE = 100  # one page is enough to say "at least N" were left out
TIMELINE_CAP = 800  # X's mentions timeline reaches back only this many posts, since_id or not

Charge = Callable[[str, Iterable[str]], None]  # (billing unit, item ids): what X bills for a page


def _ignore(unit: str, items: Iterable[str]) -> None:
    """The default meter: nothing is counted."""


def billed(page: dict[str, Any], unit: str, charge: Charge) -> dict[str, Any]:
    """`page`, after charging every post or DM event it returned (`data` and `includes.tweets`)."""
    found = [*(page.get("data") or ()), *((page.get("includes") or {}).get("tweets") or ())]
    charge(unit, [str(item["id"]) for item in found if "id" in item])
    return page


class TweetReader:
    """Mentions (`query=None`) or one recent-search query, read as one cursor stream."""

    def __init__(self, client: tweepy.Client, *, stream: str, brand_id: str, query: str | None,
                 name: str | None, page_size: int, user_auth: bool, lookback: timedelta, handle: str = "",
                 charge: Charge = _ignore) -> None:
        self.client, self.stream, self.brand_id, self.handle = client, stream, brand_id, handle
        self.query, self.name, self.page_size = query, name, page_size
        self.user_auth, self.lookback, self.charge = user_auth, lookback, charge

    def poll(self, cursor: str | None, now: datetime) -> Iterator[Batch]:
        if cursor is None:
            start = self._start(now)
            cursor = backfill.time_cursor(start)
            yield Batch(self.stream, [], cursor=cursor)
            yield from self._report_older(start, now)
        yield from self._read(cursor, now)

    def _start(self, now: datetime) -> datetime:
        start = now - max(self.lookback, MIN_LOOKBACK)
        if self.query is not None:
            start = max(start, now - SEARCH_WINDOW + SEARCH_MARGIN)
        return start.replace(microsecond=0)

    def _params(self, cursor: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            # referenced_tweets.id: whose post a quote quotes (a quote of the brand may be replied to)
            "expansions": ["author_id", "referenced_tweets.id"], "tweet_fields": list(rec.TWEET_FIELDS),
            "user_fields": list(rec.USER_FIELDS), "user_auth": self.user_auth,
        }
        start = backfill.cursor_time(cursor)
        if start is None:
            params["since_id"] = cursor
        else:
            params["start_time"] = start
        return params

    def _page(self, params: dict[str, Any], token: str | None, size: int | None = None) -> dict[str, Any]:
        size = size or self.page_size
        if self.query is None:  # the brand's own mentions are an "owned read" on X
            return billed(self.client.get_users_mentions(self.brand_id, max_results=clamp(size, 5),
                                                         pagination_token=token, **params), spend.OWNED_READ,
                          self.charge)
        return billed(self.client.search_recent_tweets(self.query, max_results=clamp(size, 10), next_token=token,
                                                       **params), spend.POST_READ, self.charge)

    def _read(self, cursor: str, now: datetime) -> Iterator[Batch]:
        params = self._params(cursor)
        try:
            page = self._page(params, None)
        except tweepy.BadRequest as exc:
            if self.query is None or not any(k in params and k in detail(exc) for k in ("since_id", "start_time")):
                raise
            # The stream was paused past recent search's 7 days (its cursor, an id or a starting
            # point, is out of reach): what fell out is gone on X too. Say so, and start again at
            # the edge of the window instead of failing forever.
            start = (now - SEARCH_WINDOW + SEARCH_MARGIN).replace(microsecond=0)
            log.warning("X search %r: stored cursor is outside the 7-day window; reading from %s", self.name, start)
            yield Batch(self.stream, [], cursor=backfill.time_cursor(start))
            yield from backfill.report(self.stream, None, more=False, before=start, now=now)
            yield from self._read(backfill.time_cursor(start), now)
            return
        newest: str | None = None
        seen = 0
        while True:
            meta = page.get("meta") or {}
            newest = newest or meta.get("newest_id")
            token = meta.get("next_token")
            messages = self._records(page, now)
            seen += len(page.get("data") or [])
            if token is None and self.query is None and seen >= TIMELINE_CAP and self.handle:
                yield Batch(self.stream, messages)
                yield from self._fill_gap(params, meta.get("oldest_id"), now)
                yield Batch(self.stream, [], cursor=newest)
                return
            if token is None:
                if newest or messages:
                    yield Batch(self.stream, messages, cursor=newest)
                return
            yield Batch(self.stream, messages)
            page = self._page(params, token)

    def _fill_gap(self, params: dict[str, Any], oldest: str | None, now: datetime) -> Iterator[Batch]:
        """The mentions timeline ran out at its 800-post limit before reaching the cursor: read the
        rest from recent search (`@handle`, which also finds replies to the brand), between the
        cursor and the oldest post the timeline gave, through every page."""
        log.warning("X mentions: more than %d since the last poll; reading the rest from recent search",
                    TIMELINE_CAP)
        search = dict(params, until_id=oldest)
        edge = (now - SEARCH_WINDOW + SEARCH_MARGIN).replace(microsecond=0)
        if "start_time" in search:
            search["start_time"] = max(search["start_time"], edge)
        token: str | None = None
        while True:
            try:
                found = self.client.search_recent_tweets(f"@{self.handle}", max_results=clamp(self.page_size, 10),
                                                         next_token=token, **search)
                page = billed(found, spend.POST_READ, self.charge)
            except tweepy.BadRequest as exc:
                if token is not None or "since_id" not in detail(exc):
                    raise
                # The cursor is older than search's 7 days: what lies beyond them is out of X's reach.
                yield from backfill.report(self.stream, None, more=False, before=edge, now=now)
                search = {k: v for k, v in search.items() if k != "since_id"} | {"start_time": edge}
                continue
            yield Batch(self.stream, self._records(page, now))
            token = (page.get("meta") or {}).get("next_token")
            if token is None:
                return

    def _records(self, page: dict[str, Any], now: datetime) -> list[InboundMessage]:
        includes = page.get("includes") or {}
        users = rec.users_by_id(includes.get("users"))
        quoted = rec.users_by_id(includes.get("tweets"))  # by id, like users
        names = (self.name,) if self.name else ()
        return [rec.tweet_to_record(t, users, kind=self._kind(t, quoted), now=now, query_names=names)
                for t in reversed(page.get("data") or [])  # oldest first, so a thread's parent comes first
                if self._from_customer(t)]

    def _kind(self, tweet: dict[str, Any], quoted: Mapping[str, Mapping[str, Any]]) -> Kind:
        # A search hit that mentions or quotes the brand is a mention: X lets the brand reply to it
        # (connectors/x/rules.py, the reply gate); its query names still count for share of voice.
        if self.query is None or rec.addresses_brand(tweet, self.brand_id, self.handle, quoted):
            return Kind.MENTION
        return Kind.SEARCH_HIT

    def _from_customer(self, tweet: dict[str, Any]) -> bool:
        return tweet.get("author_id") != self.brand_id and not rec.is_retweet(tweet)

    def _report_older(self, start: datetime, now: datetime) -> Iterator[Batch]:
        """Count (one page: "at least N") the posts before the starting point that are not read.
        A failed count is reported as unknown; a 429 then pauses the stream as any read's would."""
        params = {"tweet_fields": ["author_id"], "end_time": start, "user_auth": self.user_auth}
        try:
            page = self._page(params, None, size=COUNT_PAGE)
        except (tweepy.TweepyException, requests.RequestException) as exc:
            log.warning("X %s: could not count the posts before the starting point", self.stream, exc_info=True)
            yield from backfill.report(self.stream, None, more=False, before=start, now=now)
            if isinstance(exc, tweepy.TooManyRequests):
                raise
            return
        count = sum(1 for t in page.get("data") or [] if self._from_customer(t))
        more = bool((page.get("meta") or {}).get("next_token"))
        yield from backfill.report(self.stream, count, more=more, before=start, now=now)


class DmReader:
    """The brand's DM events. `/2/dm_events` has no since_id or start_time: read newest first and
    stop at the first event at or before the cursor (an id, or the starting point's time). `allow`
    is asked before every page request (`connectors/x/pacing.py`); a refused page ends the poll
    without moving the cursor, so the next poll reads on from it."""

    stream = "x:dm"

    def __init__(self, client: tweepy.Client, *, brand_id: str, page_size: int, lookback: timedelta,
                 charge: Charge = _ignore, allow: Callable[[], bool] = lambda: True) -> None:
        self.client, self.brand_id, self.page_size, self.lookback = client, brand_id, page_size, lookback
        self.charge, self.allow = charge, allow

    def poll(self, cursor: str | None, now: datetime) -> Iterator[Batch]:
        first = cursor is None
        if cursor is None:
            cursor = backfill.time_cursor(now - max(self.lookback, MIN_LOOKBACK))
            yield Batch(self.stream, [], cursor=cursor)
        newest: str | None = None
        token: str | None = None
        while True:
            if not self.allow():
                log.info("X DMs: the 15-minute request budget is used up; reading on at the next poll")
                return
            page = billed(self.client.get_direct_message_events(
                dm_event_fields=list(rec.DM_EVENT_FIELDS), event_types="MessageCreate", expansions=["sender_id"],
                user_fields=list(rec.USER_FIELDS), max_results=clamp(self.page_size, 1),
                pagination_token=token, user_auth=True,
            ), spend.DM_READ, self.charge)
            events = page.get("data") or []
            fresh = [e for e in events if _after(e, cursor, now)]
            newest = newest or (fresh[0]["id"] if fresh else None)  # never an event before the cursor
            token = (page.get("meta") or {}).get("next_token")
            users = rec.users_by_id((page.get("includes") or {}).get("users"))
            messages = [rec.dm_to_record(e, users, now=now) for e in reversed(fresh)
                        if e.get("sender_id") != self.brand_id
                        and e.get("event_type", "MessageCreate") == "MessageCreate"]
            caught_up = len(fresh) < len(events)
            if caught_up or token is None:
                if first:
                    yield from backfill.report(self.stream, len(events) - len(fresh), more=token is not None,
                                               before=backfill.cursor_time(cursor) or now, now=now)
                if newest or messages:
                    yield Batch(self.stream, messages, cursor=newest)
                return
            yield Batch(self.stream, messages)


def _after(event: dict[str, Any], cursor: str, now: datetime) -> bool:
    start = backfill.cursor_time(cursor)
    if start is None:
        return int(event["id"]) > int(cursor)
    return rec.parse_time(event.get("created_at"), now) >= start


def clamp(page_size: int, floor: int) -> int:
    return max(floor, min(100, page_size))
