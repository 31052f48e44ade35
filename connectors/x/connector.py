"""X (Twitter) through tweepy.Client: mentions, configured searches and DMs in; replies and DMs out.

Streams: `x:mentions`, `x:search:<name>` (one per configured query, tagged with its name for share
of voice) and `x:dm`. Each poll reads every page after the stream's cursor (`connectors/x/streams.py`:
a new stream first persists its starting point; only the backfill before it is bounded, by time)
and yields a Batch per page; only the last batch carries the new cursor, so a crash or a 429
mid-way re-reads instead of skipping. The brand's own tweets and DMs, and plain retweets, are not
customer messages and are skipped. A 429 pauses only the stream that hit it, until X's
`x-rate-limit-reset`, with its cursor unchanged; the other streams carry on and nothing sleeps.
Raw payloads become records in `connectors/x/records.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import tweepy
from requests_oauthlib import OAuth1

from connectors.backfill import DEFAULT_BACKFILL
from connectors.base import (
    Action,
    Batch,
    CannotTell,
    Connector,
    DirectMessage,
    PublicReply,
    SendError,
    SendResult,
    Unsupported,
)
from connectors.checks import Check
from connectors.usage import Usage
from connectors.x import pacing, spend
from connectors.x import records as rec
from connectors.x.doctor import check_x
from connectors.x.rules import reply_not_allowed, rules_for
from connectors.x.streams import DmReader, TweetReader
from connectors.x.transport import TWEEPY_HOST, detail, mount_base_url, problem_type, read_retry, reset_time

log = logging.getLogger(__name__)
# How long after a send began X's refusal of a duplicate post is relied on (see `find_sent`).
DUPLICATE_REFUSAL_TRUSTED = timedelta(minutes=15)

MENTIONS, DMS, SEARCH_PREFIX = "x:mentions", "x:dm", "x:search:"


# X's 403 for a reply its 2026 self-serve rule forbids: "Reply to this conversation is not allowed
# because you have not been mentioned or otherwise engaged by the author of the post you are
# replying to." (wording as reported for the Feb 2026 change; not in the docs corpus)
_REPLY_GATE = "not been mentioned or otherwise engaged"

DM_COMPOSE_URL = "https://x.com/messages/compose?recipient_id={brand_id}"


class XConnector(Connector):
    """The brand's X account. Reads use the bearer token when there is one; `/2/users/me`, DMs and
    everything outbound use the OAuth 1.0a user context (the brand itself)."""

    rules = rules_for(enterprise=False)

    def __init__(
        self,
        *,
        bearer_token: str | None,
        consumer_key: str,
        consumer_secret: str,
        access_token: str,
        access_token_secret: str,
        api_url: str = TWEEPY_HOST,
        search_queries: Mapping[str, str] | None = None,
        page_size: int = 100,
        backfill: timedelta = DEFAULT_BACKFILL,
        retry_backoff: float = 0.5,
        enterprise: bool = False,
        meter: spend.Spend | None = None,
        dm_interval: timedelta = pacing.DM_INTERVAL,
        dm_requests: int = pacing.DM_REQUESTS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__()
        self.rules = rules_for(enterprise=enterprise)  # an Enterprise plan lifts the reply gate
        self.client = tweepy.Client(
            bearer_token=bearer_token, consumer_key=consumer_key, consumer_secret=consumer_secret,
            access_token=access_token, access_token_secret=access_token_secret, return_type=dict,
        )
        signer = OAuth1(consumer_key, consumer_secret, access_token, access_token_secret)
        mount_base_url(self.client.session, api_url, retry=read_retry(backoff=retry_backoff), resign=signer)
        self._app_auth = bool(bearer_token)
        self.search_queries = dict(search_queries or {})
        self.page_size = page_size
        self.backfill = backfill  # how far back a stream with no cursor reads (connectors/backfill.py)
        self.paused: dict[str, datetime] = {}  # stream -> rate-limited until
        self.spend = meter or spend.Spend()  # what X bills (connectors/x/spend.py) and the budget
        self.limits = pacing.HeaderLimits()  # X's x-rate-limit-* answers, per endpoint
        self.client.session.hooks["response"].append(self.limits.hook)
        self.dm_log = pacing.RequestLog(dm_requests)  # every /2/dm_events request, backfill included
        self.intervals = {"dm": dm_interval}  # the least time between two polls of a stream class
        self._last_poll: dict[str, datetime] = {}
        self.clock = clock  # when a send is billed
        self._me: dict[str, Any] | None = None

    @property
    def streams(self) -> tuple[str, ...]:
        return (MENTIONS, *(SEARCH_PREFIX + name for name in self.search_queries), DMS)

    def doctor(self, now: datetime, *, subscribe: bool = False) -> list[Check]:
        return check_x(self.client, app_auth=self._app_auth, search_queries=self.search_queries)

    # --- the brand --------------------------------------------------------------------------------
    def brand(self) -> dict[str, Any]:
        """The brand's user object from `/2/users/me` (user context), fetched once."""
        if self._me is None:
            self._me = self.client.get_me(user_auth=True)["data"]
        return self._me

    # --- inbound ----------------------------------------------------------------------------------
    def poll(self, cursors: Mapping[str, str | None], now: datetime) -> Iterator[Batch]:
        """Batches newer than `cursors` for every stream not paused; platform trouble goes to
        `self.health` (plain words) and never escapes."""
        problems: list[str] = []
        try:
            brand_id = self.brand()["id"]
        except (tweepy.TweepyException, requests.RequestException) as exc:
            self.health.failed(now, self._explain(exc, "reading the brand account"))
            log.warning("X: could not read the brand account", exc_info=True)
            return
        for stream in self.streams:
            until = self.paused.get(stream) or self.limits.exhausted_until(_endpoint(stream), now)
            if until is not None and now < until:
                problems.append(self._paused_words(stream, until))
                continue
            self.paused.pop(stream, None)
            stopped = self.spend.stopped(_class(stream), now)
            if stopped is not None:
                problems.append(stopped)
                log.warning("%s (%s)", stopped, stream)
                continue
            if now - self._last_poll.get(stream, now - timedelta(days=1)) < self.intervals.get(_class(stream),
                                                                                                 timedelta(0)):
                continue  # polled less than the stream's interval ago: its window has no room for more
            self._last_poll[stream] = now
            try:
                yield from self._poll_stream(stream, cursors.get(stream), brand_id, now)
            except tweepy.TooManyRequests as exc:
                until = reset_time(exc, now)
                self.paused[stream] = until
                problems.append(self._paused_words(stream, until))
                log.warning("X rate limit on %s until %s", stream, until.isoformat())
            except (tweepy.TweepyException, requests.RequestException) as exc:
                problems.append(self._explain(exc, f"reading {_label(stream)}"))
                log.warning("X: %s failed", stream, exc_info=True)
                if isinstance(exc, tweepy.Unauthorized):
                    break  # bad credentials fail every stream alike; say it once
        active = [t for t in self.paused.values() if t > now]
        self.health.paused_until = max(active) if active else None
        if problems:
            self.health.failed(now, " ".join(problems))
        else:
            self.health.succeeded(now)

    def _poll_stream(self, stream: str, cursor: str | None, brand_id: str, now: datetime) -> Iterator[Batch]:
        def charge(unit: str, items: Iterable[str]) -> None:
            self.spend.charge(unit, items, now)

        if stream == DMS:
            reader: TweetReader | DmReader = DmReader(self.client, brand_id=brand_id, page_size=self.page_size,
                                                      lookback=self.backfill, charge=charge,
                                                      allow=lambda: self.dm_log.allow(now))
        else:
            name = stream.removeprefix(SEARCH_PREFIX) if stream.startswith(SEARCH_PREFIX) else None
            reader = TweetReader(self.client, stream=stream, brand_id=brand_id, name=name,
                                 query=self.search_queries[name] if name else None, page_size=self.page_size,
                                 user_auth=not self._app_auth, lookback=self.backfill,
                                 handle=str(self.brand().get("username") or ""), charge=charge)
        yield from reader.poll(cursor, now)

    def usage(self, now: datetime) -> str | None:
        """"X spend: $0.26 today (of $5.00), $3.10 this month" (connectors/x/spend.py); None before
        anything was billed this month when no budget is set."""
        totals = self.spend.totals(now)
        return totals.words() if totals.month or totals.daily_budget or totals.monthly_budget else None

    def billing(self, now: datetime) -> Usage:
        return self.spend.report(now, self.rules.name)

    # --- outbound ---------------------------------------------------------------------------------
    def send(self, action: Action) -> SendResult:
        """A public reply to a tweet, or a DM to the customer (X has no private reply to a tweet)."""
        if isinstance(action, PublicReply):
            return self.reply_public(action.target, action.text)
        if isinstance(action, DirectMessage):
            return self.send_dm(action.recipient, action.text)
        raise Unsupported(self.platform, action)

    def find_sent(self, action: Action, since: datetime) -> SendResult | None:
        """A public reply may be sent again: X refuses a post whose text the brand posted recently (403 "You
        are not allowed to create a Tweet with duplicate content", for hours; X documents no figure, see
        https://www.ayrshare.com/solutions/x-twitter-api-error-403-duplicate-post-how-to-fix-it/), which
        `send` raises as SendError code "duplicate". That refusal is only trusted for a send that began
        minutes ago (a restart after kill -9): for an older one the window may have passed, and a second
        public post is worse than asking staff to check. A DM cannot be told."""
        if isinstance(action, PublicReply) and datetime.now(UTC) - since <= DUPLICATE_REFUSAL_TRUSTED:
            return None
        raise CannotTell(self.platform)

    def fallback_link(self) -> str | None:
        """A link that opens a DM with the brand (offered when the customer doesn't accept DMs)."""
        try:
            brand_id = self.brand()["id"]
        except Exception:  # a hint must never stop the failure itself from being recorded
            log.warning("could not read the X brand id for the DM link", exc_info=True)
            return None
        return DM_COMPOSE_URL.format(brand_id=brand_id) if brand_id else None

    def reply_public(self, in_reply_to_tweet_id: str, text: str) -> SendResult:
        """Post `text` as the brand, in reply to a tweet. Raises SendError in plain words."""
        try:
            handle = self.brand().get("username")  # before posting: a failure after it would hide the post
            data = self.client.create_tweet(text=text, in_reply_to_tweet_id=in_reply_to_tweet_id,
                                            user_auth=True)["data"]
        except tweepy.Forbidden as exc:
            if _REPLY_GATE in detail(exc).lower():  # a post the gate let through (e.g. stored before it)
                words = reply_not_allowed(in_reply_to_tweet_id, why="X says this post does neither")
                raise SendError(words, code="reply_not_allowed", retryable=False) from exc
            raise self._send_error(exc, "the reply") from exc
        except (tweepy.TweepyException, requests.RequestException) as exc:
            raise self._send_error(exc, "the reply") from exc
        self.spend.charge(spend.post_unit(text), [data["id"]], self.clock())
        return SendResult(external_id=data["id"], url=rec.tweet_url(handle, data["id"]))

    def send_dm(self, participant_id: str, text: str) -> SendResult:
        """Send `text` as a DM from the brand. Raises SendError in plain words (e.g. DMs refused)."""
        try:
            data = self.client.create_direct_message(participant_id=participant_id, text=text, user_auth=True)["data"]
        except tweepy.Forbidden as exc:
            if problem_type(exc).endswith("/unsupported-authentication"):
                raise self._send_error(exc, "the DM") from exc
            raise SendError("This person doesn't accept DMs from the brand", code="403", retryable=False) from exc
        except (tweepy.TweepyException, requests.RequestException) as exc:
            raise self._send_error(exc, "the DM") from exc
        self.spend.charge(spend.DM, [data["dm_event_id"]], self.clock())
        return SendResult(external_id=data["dm_event_id"],
                          url=f"https://x.com/messages/{data['dm_conversation_id']}")

    # --- plain words ------------------------------------------------------------------------------
    @staticmethod
    def _paused_words(stream: str, until: datetime) -> str:
        return f"X rate limit reached for {_label(stream)}; paused until {until:%H:%M} UTC."

    @staticmethod
    def _explain(exc: Exception, doing: str) -> str:
        """What went wrong, for staff. Only X's own error text is quoted; it never holds our tokens."""
        if isinstance(exc, tweepy.Unauthorized):
            return f"X rejected the brand's credentials while {doing}; check the X tokens."
        if isinstance(exc, tweepy.Forbidden):
            return f"X refused access while {doing} ({detail(exc)}); check the app's permissions."
        if isinstance(exc, tweepy.TwitterServerError):
            return f"X had a server problem while {doing}; will try again."
        if isinstance(exc, tweepy.HTTPException):
            return f"X returned an error while {doing}: {detail(exc)}."
        return f"Could not reach X while {doing}; will try again."

    def _send_error(self, exc: Exception, what: str) -> SendError:
        now = datetime.now(UTC)
        if isinstance(exc, tweepy.TooManyRequests):
            until = reset_time(exc, now)
            return SendError(f"X rate limit reached; {what} can be sent after {until:%H:%M} UTC.", code="429",
                             retryable=True)
        if isinstance(exc, tweepy.Forbidden) and "duplicate" in detail(exc).lower():
            return SendError(f"X refused {what}: the brand already posted exactly this text.", code="duplicate")
        status = str(exc.response.status_code) if isinstance(exc, tweepy.HTTPException) else None
        retryable = isinstance(exc, tweepy.TwitterServerError | requests.RequestException)
        return SendError(self._explain(exc, f"sending {what}"), code=status, retryable=retryable)


def _label(stream: str) -> str:
    if stream == MENTIONS:
        return "mentions"
    if stream == DMS:
        return "DMs"
    return f"search '{stream.removeprefix(SEARCH_PREFIX)}'"



def _class(stream: str) -> str:
    """The stream's class for budgets and intervals: "mentions", "search" or "dm"."""
    return {MENTIONS: "mentions", DMS: "dm"}.get(stream, "search")


def _endpoint(stream: str) -> str:
    return {MENTIONS: pacing.MENTIONS, DMS: pacing.DM_EVENTS}.get(stream, pacing.SEARCH)
