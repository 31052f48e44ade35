"""Who may speak for the brand.

`PARLEY_AGENTS` lists Slack user ids (U…/W…) and user-group ids (S…). A person may send to customers
when they are listed, or are a member of a listed group. Unset or empty means everyone may (the
support channel's membership is then the only gate). Everyone may still read, note and assign.

Group membership comes from a callable (in the app: `SlackDirectory.group_members`, the one place
that asks Slack's `usergroups.users.list`), cached for a
short while so a burst of clicks costs one API call, and a change in Slack applies within minutes.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

GROUP_PREFIX = "S"  # Slack user-group ids start with S; user ids with U or W
DEFAULT_TTL = 300.0  # seconds a group's membership is trusted before asking Slack again


def parse_agents(value: str | None) -> frozenset[str]:
    """`"U123, S456 U789"` → {"U123", "S456", "U789"}. Commas and/or spaces separate; `<@U123>` and
    `<!subteam^S456>` (what Slack shows when people paste mentions) are accepted too."""
    if not value:
        return frozenset()
    ids: set[str] = set()
    for token in re.split(r"[\s,]+", value.strip()):
        match = re.fullmatch(r"<(?:@|!subteam\^)([A-Z0-9]+)(?:\|[^>]*)?>", token)
        if match:
            token = match.group(1)
        if token:
            ids.add(token)
    return frozenset(ids)


@dataclass
class AgentPolicy:
    """`may_send(user)` answers from `allowed` and the cached members of its groups.

    `resolve_group(group_id)` returns the group's member user ids; an exception from it propagates
    (nothing is sent when we cannot tell), except that a user listed by id never needs the call.
    `clock` returns seconds (monotonic) for the cache; tests pass their own.
    """

    allowed: frozenset[str] = frozenset()
    resolve_group: Callable[[str], Iterable[str]] = lambda _group: ()
    ttl: float = DEFAULT_TTL
    clock: Callable[[], float] = time.monotonic
    _cache: dict[str, tuple[float, frozenset[str]]] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def open_to_everyone(self) -> bool:
        return not self.allowed

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(sorted(i for i in self.allowed if i.startswith(GROUP_PREFIX)))

    def may_send(self, user_id: str) -> bool:
        """True when `user_id` may post to customers for the brand."""
        if self.open_to_everyone or user_id in self.allowed:
            return True
        return any(user_id in self._members(group) for group in self.groups)

    def _members(self, group: str) -> frozenset[str]:
        now = self.clock()
        with self._lock:
            cached = self._cache.get(group)
            if cached is not None and now - cached[0] < self.ttl:
                return cached[1]
        members = frozenset(self.resolve_group(group))  # outside the lock: it is a network call
        with self._lock:
            self._cache[group] = (now, members)
        return members

    def forget(self) -> None:
        """Drop cached group memberships (e.g. on a Slack `subteam_members_changed` event)."""
        with self._lock:
            self._cache.clear()
