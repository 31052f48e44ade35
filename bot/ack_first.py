"""Acknowledgements before work: the executor Slack handlers run in, held while requests are being
acknowledged.

Handlers run after their ack (commands/acking.py), in threads of this process; Python runs one
thread at a time, so 50 handlers' queries started at once would take turns with the 50 requests
still waiting for their 200 and stretch every ack to the sum of all the work (p99 250 ms, against
70 ms with no work at all: bench/ack_latency.py). The HTTP endpoint marks each Slack request from
arrival to answer (`acknowledging`); a handler's work starts only when no request is being
acknowledged and none has been for `quiet` (requests of one burst arrive a little apart: work started
in those gaps would run beside the rest of the burst), or after `max_hold` at the latest, so a steady
stream of requests never starves it (Slack's trigger_id for a modal lasts 3 s). Work already running
is not paused. A reply's platform send (`Parley.send_soon`) waits the same way, in a pool of its own
that shares the acknowledgements (`sibling`): a reply stored in one request's ack must not be sent
beside the rest of the burst, taking the interpreter and SQLite's write lock from the acks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

# In a Slack request's Bolt context (HTTP mode, bot/web.py): a listener calls it right after a plain
# `ack()` to have Slack answered at once while it goes on (a durable /social command: commands/social.py).
ANSWER_NOW = "parley_answer_now"
# How long a handler's work waits for acknowledgements at most: under Slack's 3 s, with room for it.
MAX_HOLD = 0.5
# How long no request must have been acknowledged before work starts: a burst's requests come a few
# milliseconds apart.
QUIET = 0.01


class AckFirstExecutor(Executor):
    """A thread pool whose tasks start only while no Slack request is being acknowledged."""

    def __init__(self, workers: int, *, max_hold: float = MAX_HOLD, quiet: float = QUIET,
                 name: str = "parley-slack") -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._max_hold, self._quiet = max_hold, quiet
        self._gate = _Gate()

    def sibling(self, workers: int, *, name: str) -> AckFirstExecutor:
        """Another pool whose tasks wait for the same acknowledgements as this one's."""
        other = AckFirstExecutor(workers, max_hold=self._max_hold, quiet=self._quiet, name=name)
        other._gate = self._gate
        return other

    @contextmanager
    def acknowledging(self) -> Iterator[None]:
        """Around one request's path from arrival to its answer."""
        gate = self._gate
        with gate.idle:
            gate.acking += 1
        try:
            yield
        finally:
            with gate.idle:
                gate.acking -= 1
                gate.last_answer = time.monotonic()
                if gate.acking == 0:
                    gate.idle.notify_all()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        def held() -> Any:
            self._hold()
            return fn(*args, **kwargs)

        return self._pool.submit(held)

    def _hold(self) -> None:
        """Wait (at most max_hold) until no request is being acknowledged and none was for `quiet`.
        No polling while requests are in flight: waiting threads wake when the last one is answered."""
        deadline, gate = time.monotonic() + self._max_hold, self._gate
        with gate.idle:
            while (now := time.monotonic()) < deadline:
                if gate.acking:
                    gate.idle.wait(deadline - now)
                    continue
                quiet_for = now - gate.last_answer
                if quiet_for >= self._quiet:
                    return
                gate.idle.wait(min(self._quiet - quiet_for, deadline - now))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


class _Gate:
    """The requests being acknowledged, shared by sibling pools."""

    def __init__(self) -> None:
        self.acking = 0
        self.last_answer = 0.0  # time.monotonic() when the last acknowledgement was answered
        self.idle = threading.Condition()
