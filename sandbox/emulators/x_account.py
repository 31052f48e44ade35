"""What the X emulator stores: accounts, tweets and DM events, with X's ids and reply rules.

Ids only grow, like X's snowflakes (derived from the creation time, never reused). A reply joins
its parent's conversation and starts with the handles it replies to, as X writes it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sandbox.emulators import x_objects as xo


class XAccounts:
    """The users, tweets and DM events of the emulated X, around one brand account.
    `lock` guards every read and write (the emulator shares its own with this store)."""

    def __init__(self, brand_id: str, brand_username: str, brand_name: str, *, clock: Callable[[], float],
                 lock: threading.RLock) -> None:
        self.clock = clock
        self.lock = lock
        self.brand_id = brand_id
        self.users: dict[str, xo.User] = {}
        self.tweets: dict[str, xo.Tweet] = {}
        self.dm_events: dict[str, xo.DmEvent] = {}
        self._last_id = 0
        self._next_user = 1_500_000_000
        self.users[brand_id] = xo.User(brand_id, brand_username, brand_name, self.now(), followers=12_000,
                                       verified=True)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def add_user(self, username: str, name: str, followers: int = 0, verified: bool = False,
                 accepts_dms: bool = True) -> str:
        """Register a customer account and return its numeric id."""
        with self.lock:
            self._next_user += 7919  # gaps, like real ids
            user_id = str(self._next_user)
            self.users[user_id] = xo.User(user_id, username, name, self.now(), followers=followers,
                                          verified=verified, accepts_dms=accepts_dms)
            return user_id

    def add_tweet(self, author_id: str, text: str, *, in_reply_to: str | None = None,
                  created_at: datetime | None = None, lang: str | None = None,
                  retweet_of: str | None = None, quote_of: str | None = None) -> str:
        """Post a tweet as `author_id` and return its id (ids only grow, like X's snowflakes).
        `quote_of`: the tweet it quotes (a quote tweet).

        A reply joins its parent's `conversation_id` and, as on X, starts with the @handles of the
        parent's author and of the people the parent mentioned (minus the replier and anyone the
        text already mentions). A retweet's text is `RT @handle: ...`.
        """
        with self.lock:
            self.known(author_id)
            moment = created_at or self.now()
            tweet_id = self._new_id(moment)
            conversation_id, reply_user = tweet_id, None
            if retweet_of is not None:
                original = self.tweets[retweet_of]
                text = f"RT @{self.users[original.author_id].username}: {original.text}"
            if in_reply_to is not None:
                parent = self.tweets[in_reply_to]
                conversation_id, reply_user = parent.conversation_id, parent.author_id
                parent.reply_count += 1
                text = self._with_reply_handles(parent, author_id, text)
            self.tweets[tweet_id] = xo.Tweet(
                tweet_id, author_id, text, moment,
                conversation_id, lang or "und", in_reply_to, reply_user, retweet_of, self._mentions(text),
                quote_of=quote_of,
            )
            return tweet_id

    def add_dm(self, sender_id: str, text: str, *, created_at: datetime | None = None,
               recipient_id: str | None = None) -> str:
        """A DM between a customer and the brand (the brand is the recipient unless it is the sender)."""
        with self.lock:
            recipient = recipient_id or self.brand_id
            if self.brand_id not in (sender_id, recipient) or sender_id == recipient:
                raise ValueError("an X DM here is between the brand and one other user")
            moment = created_at or self.now()
            event_id = self._new_id(moment)
            self.dm_events[event_id] = xo.DmEvent(event_id, self.known(sender_id), recipient, text, moment)
            return event_id

    def known(self, user_id: str) -> str:
        """The id, after checking the user exists (a seeding mistake fails loudly)."""
        if user_id not in self.users:
            raise KeyError(f"no X user {user_id}; add_user() first")
        return user_id

    def user_by_name(self, username: str) -> xo.User | None:
        return next((u for u in self.users.values() if u.username.lower() == username.lower()), None)

    def tweet_count(self, user_id: str) -> int:
        return sum(1 for t in self.tweets.values() if t.author_id == user_id)

    def users_payload(self, ids: list[str], fields: set[str]) -> list[dict[str, Any]]:
        """The known users among `ids`, each once, in first-mention order (for `includes.users`)."""
        seen: list[str] = []
        for user_id in ids:
            if user_id in self.users and user_id not in seen:
                seen.append(user_id)
        return [self.users[u].render(fields, self.tweet_count(u)) for u in seen]

    def _new_id(self, moment: datetime) -> str:
        self._last_id = max(self._last_id + 1, xo.snowflake(moment))
        return str(self._last_id)

    def _with_reply_handles(self, parent: xo.Tweet, author_id: str, text: str) -> str:
        # X puts everyone in the parent's "replying to" list at the start of the reply text.
        handles = [self.users[parent.author_id].username, *(m["username"] for m in parent.mentions)]
        own = self.users[author_id].username.lower()
        lead = [h for h in dict.fromkeys(handles) if h.lower() != own and f"@{h}".lower() not in text.lower()]
        return " ".join([*(f"@{h}" for h in lead), text])

    def addresses_brand(self, tweet: xo.Tweet) -> bool:
        """Whether the brand may reply to `tweet` under X's 2026 self-serve rule: its author
        mentioned the brand or quoted one of the brand's posts (the brand's own posts too)."""
        brand = self.users[self.brand_id].username.lower()
        quoted = self.tweets.get(tweet.quote_of or "")
        return (tweet.author_id == self.brand_id
                or any(m.get("id") == self.brand_id or m["username"].lower() == brand for m in tweet.mentions)
                or (quoted is not None and quoted.author_id == self.brand_id))

    def _mentions(self, text: str) -> list[dict[str, Any]]:
        mentions = []
        for match in xo.MENTION.finditer(text):
            entity = {"start": match.start(), "end": match.end(), "username": match.group(1)}
            known = self.user_by_name(match.group(1))
            if known is not None:
                entity["id"] = known.id
            mentions.append(entity)
        return mentions
