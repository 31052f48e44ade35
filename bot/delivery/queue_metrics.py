"""The delivery queue as Prometheus sees it, read from the outbox table at scrape time: how many
items wait per channel and how old the oldest is (a stuck channel shows as a growing age)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlmodel import col, func, select

from bot.store.database import Store
from bot.store.models import OutboxItem, OutboxStatus


class QueueCollector(Collector):
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store, self.clock = store, clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("parley_delivery_queue_depth", "Slack deliveries waiting, per channel",
                                  labels=["channel"])
        age = GaugeMetricFamily("parley_delivery_queue_oldest_seconds", "Age of the oldest waiting Slack "
                                "delivery, per channel", labels=["channel"])
        try:
            with self.store.transaction() as session:
                rows = session.exec(
                    select(OutboxItem.channel, func.count(), func.min(OutboxItem.created_at))
                    .where(col(OutboxItem.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
                    .group_by(OutboxItem.channel)).all()
        except sa.exc.SQLAlchemyError:
            return  # /readyz reports the database; a scrape still answers with the other series
        now = self.clock()
        for channel, count, oldest in rows:
            label = channel or "unrouted"
            depth.add_metric([label], count)
            age.add_metric([label], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        yield depth
        yield age
