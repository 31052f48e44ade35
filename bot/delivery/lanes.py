"""One lane per Slack channel: deliveries to one channel happen one at a time and paced, different
channels at the same time.

Slack's limit on posting is per channel, so a busy channel never needs to hold back a quiet one:
"chat.postMessage generally allows posting one message per second per channel, while also
maintaining a workspace-wide limit" (https://docs.slack.dev/apis/web-api/rate-limits). So a
channel's next delivery starts only when its previous one has finished and its pace allows, while
up to `parallel` channels are sent to at once. When every channel with work left is waiting for
its pace, the one that frees up first is started anyway: `deliver` claims its item, then waits out
the pace itself (so a drain never sleeps for a channel that turns out to have nothing due).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime

Deliver = Callable[[str], "int | None"]  # channel -> items delivered (0: tried, failed), None: nothing due
ReadyAt = Callable[[str, datetime], "datetime | None"]  # (channel, now) -> earliest next write; None: paused


class Lanes:
    """Runs `deliver(channel)` repeatedly for each channel until it reports nothing due."""

    def __init__(self, *, parallel: int, clock: Callable[[], datetime]) -> None:
        if parallel < 1:
            raise ValueError("parallel must be at least 1")
        self._parallel = parallel
        self._clock = clock

    def run(self, channels: list[str], deliver: Deliver, ready_at: ReadyAt, max_items: int | None = None,
            stop: threading.Event | None = None) -> int:
        """Deliver in every channel until none has a due item (or `max_items` were delivered, or `stop`
        is set); return how many items were delivered. Deliveries already started always finish. An
        exception from `deliver` stops the run and is raised once those have finished."""
        open_lanes = list(channels)  # channels that may still have due items, in service order
        in_flight: dict[Future[int | None], str] = {}
        delivered = 0
        with ThreadPoolExecutor(max_workers=self._parallel, thread_name_prefix="outbox") as pool:
            while True:
                if stop is not None and stop.is_set():
                    open_lanes.clear()
                now = self._clock()
                busy = set(in_flight.values())
                waiting: list[tuple[datetime, str]] = []
                for channel in list(open_lanes):
                    if len(in_flight) >= self._parallel or channel in busy:
                        continue
                    if max_items is not None and delivered + len(in_flight) >= max_items:
                        break
                    ready = ready_at(channel, now)
                    if ready is None:  # paused by a 429: its items are simply not due in this drain
                        open_lanes.remove(channel)
                    elif ready > now:
                        waiting.append((ready, channel))
                    else:
                        in_flight[pool.submit(deliver, channel)] = channel
                        open_lanes.append(open_lanes.pop(open_lanes.index(channel)))  # served: go last
                if not in_flight:
                    if not waiting:
                        return delivered
                    # Every lane is pacing: start the one that frees up first; `deliver` claims its
                    # item and waits for the pace, and finds out first whether anything is due at all.
                    _, channel = min(waiting)
                    in_flight[pool.submit(deliver, channel)] = channel
                    open_lanes.append(open_lanes.pop(open_lanes.index(channel)))
                timeout = max((min(waiting)[0] - now).total_seconds(), 0.0) if waiting else None
                done, _ = wait(in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    channel = in_flight.pop(future)
                    if future.exception() is not None:
                        wait(in_flight)
                        future.result()  # raises
                    count = future.result()
                    if count is None:
                        open_lanes.remove(channel)
                    else:
                        delivered += count
