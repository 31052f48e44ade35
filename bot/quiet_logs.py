"""Quiet logs: a warning or error that repeats is written once, then once per window with a count.

A poisoned item or an outage makes the same call fail every poll; without this the log grows by the
same traceback every second and hides everything else. Records are "the same" when logger, level and
message template (before `%` arguments) match, so "poll of %s failed" for two streams is one kind.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Seen:
    first_at: float  # when the record that was let through was written
    suppressed: int = 0  # how many like it were dropped since


class RepeatFilter(logging.Filter):
    """Lets the first WARNING-or-worse record of a kind through, drops repeats for `window` seconds,
    then lets the next one through with "(repeated N times in the last Ts)" appended. INFO and
    DEBUG pass untouched."""

    def __init__(self, window: float = 60.0, *, clock: Callable[[], float] = time.monotonic,
                 level: int = logging.WARNING) -> None:
        super().__init__()
        self.window, self.clock, self.level = window, clock, level
        self._seen: dict[tuple[str, int, str], _Seen] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.level:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and now - seen.first_at < self.window:
                seen.suppressed += 1
                return False
            self._forget_old(now)
            self._seen[key] = _Seen(first_at=now)
        if seen is not None and seen.suppressed:
            # Digits and words only: appended to a %-template, it adds no conversion of its own.
            record.msg = f"{record.msg} (repeated {seen.suppressed} times in the last {now - seen.first_at:.0f}s)"
        return True

    def _forget_old(self, now: float) -> None:
        """Bound the memory: kinds not seen for a window have nothing left to count."""
        if len(self._seen) > 1000:
            for key in [k for k, s in self._seen.items() if now - s.first_at >= self.window and not s.suppressed]:
                del self._seen[key]
