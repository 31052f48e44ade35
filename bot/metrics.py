"""Prometheus metrics for one Parley process, in its own registry (never the global default), so
tests can build several apps side by side. `/metrics` (bot/web.py) serves `registry`.

What an operator graphs and alerts on: messages heard and stored per platform and stream, Slack
posts and 429s, the ack latency of /slack/events, platform errors by kind, poll lag per stream; the
delivery queue (depth and oldest age per channel) is read from the database at scrape time
(bot/delivery/queue_metrics.py), and so is what each network that bills reports it spent
(`watch_spend`, fed by `Connector.billing`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)


class _PollLag(Collector):
    """Seconds since each stream last finished a poll, at scrape time."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.last: dict[tuple[str, str], float] = {}
        self.lock = threading.Lock()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("parley_poll_lag_seconds", "Seconds since the stream was last read "
                                   "successfully", labels=["platform", "stream"])
        now = self.clock()
        with self.lock:
            for (platform, stream), at in sorted(self.last.items()):
                family.add_metric([platform, stream], max(0.0, now - at))
        yield family


class Billed(Protocol):
    """What /metrics reads of a network's `connectors.usage.Usage` (this module sits below connectors)."""

    @property
    def today(self) -> float: ...
    @property
    def month(self) -> float: ...
    @property
    def daily_budget(self) -> float | None: ...
    @property
    def monthly_budget(self) -> float | None: ...
    def shares(self) -> dict[str, float]: ...


class _Spend(Collector):
    """Spend today and this month, each budget and the share of it used, per network, at scrape time."""

    def __init__(self, source: Callable[[], Iterable[tuple[str, Billed]]]) -> None:
        self.source = source

    def collect(self) -> Iterator[GaugeMetricFamily]:
        today = GaugeMetricFamily("parley_spend_today_usd", "What the network billed this UTC day",
                                  labels=["network"])
        month = GaugeMetricFamily("parley_spend_month_usd", "What the network billed this UTC month",
                                  labels=["network"])
        budget = GaugeMetricFamily("parley_spend_budget_usd", "The configured budget", labels=["network", "period"])
        used = GaugeMetricFamily("parley_spend_budget_used_ratio", "Share of the budget spent (1 = all of it)",
                                 labels=["network", "period"])
        try:
            billed = list(self.source())
        except Exception:  # a database hiccup must not break the whole scrape
            log.warning("/metrics: could not read what the networks billed", exc_info=True)
            billed = []
        for network, usage in billed:
            today.add_metric([network], usage.today)
            month.add_metric([network], usage.month)
            for period, amount in (("day", usage.daily_budget), ("month", usage.monthly_budget)):
                if amount:
                    budget.add_metric([network, period], amount)
            for period, share in usage.shares().items():
                used.add_metric([network, period], share)
        yield from (today, month, budget, used)


class _RateUsage(Collector):
    """The share of its rate limit each network last reported (Graph's usage headers), at scrape time."""

    def __init__(self, source: Callable[[], Iterable[tuple[str, float]]]) -> None:
        self.source = source

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("parley_platform_rate_usage_ratio", "Share of the network's rate limit used, "
                                   "as its last answer reported (1 = throttled)", labels=["network"])
        for network, share in self.source():
            family.add_metric([network], share)
        yield family


class Metrics:
    """The instruments, each labelled as named; `registry` holds them and any collector added later."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.heard = Counter("parley_messages_heard", "Customer messages read from a platform",
                             ["platform", "stream"], registry=r)
        self.stored = Counter("parley_messages_stored", "Customer messages stored for the first time",
                              ["platform", "stream"], registry=r)
        self.slack_posts = Counter("parley_slack_posts", "Slack Web API calls that post or update a message",
                                   ["method"], registry=r)
        self.slack_429s = Counter("parley_slack_rate_limited", "Slack answers HTTP 429", ["method"], registry=r)
        self.ack_latency = Histogram("parley_slack_ack_seconds", "Time to answer a request on /slack/events",
                                     buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0), registry=r)
        self.platform_errors = Counter("parley_platform_errors", "Polls that ended in trouble",
                                       ["platform", "kind"], registry=r)
        self.poll_lag = _PollLag(clock)
        r.register(self.poll_lag)

    def polled(self, platform: str, stream: str, heard: int, stored: int) -> None:
        """One batch read from `stream` and stored (its messages counted; the stream is fresh)."""
        if heard:
            self.heard.labels(platform, stream).inc(heard)
        if stored:
            self.stored.labels(platform, stream).inc(stored)
        with self.poll_lag.lock:
            self.poll_lag.last[(platform, stream)] = self.poll_lag.clock()

    def watch_spend(self, source: Callable[[], Iterable[tuple[str, Billed]]]) -> None:
        """Serve spend gauges from `source` ((network id, usage) for each network that bills)."""
        self.registry.register(_Spend(source))

    def watch_rate_usage(self, source: Callable[[], Iterable[tuple[str, float]]]) -> None:
        """Serve each network's reported rate-limit usage from `source` ((network id, share))."""
        self.registry.register(_RateUsage(source))
