"""Scheduled job functions: thin, named, each takes what it needs (the scheduler only wires them)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.inbound.ingest import Ingestor, UnroutableError
from bot.metrics import Metrics
from bot.store.database import Store
from connectors.base import Connector

log = logging.getLogger(__name__)


@dataclass
class PollSummary:
    connector: str
    batches: int = 0
    stored: int = 0
    duplicates: int = 0
    new_conversations: int = 0


def poll_connector(connector: Connector, store: Store, ingestor: Ingestor, now: datetime,
                   metrics: Metrics | None = None) -> PollSummary:
    """Read everything new from one connector and store it, batch by batch.

    Platform trouble is the connector's to report (its `health`); a storage failure stops this
    poll with the cursor of the failed batch unmoved, so the next poll reads it again. `metrics`
    counts what each stream heard and stored, and a poll that ended in trouble by kind.
    """
    summary = PollSummary(connector=connector.platform)
    try:
        for batch in connector.poll(store.cursors(), now):
            result = ingestor.ingest(batch, polled=True)
            if metrics is not None:
                metrics.polled(connector.platform, batch.stream, len(batch.messages), result.stored)
            summary.batches += 1
            summary.stored += result.stored
            summary.duplicates += result.duplicates
            summary.new_conversations += len(result.new_conversations)
    except UnroutableError as exc:
        connector.health.failed(now, str(exc))
        log.error("%s poll stopped: %s", connector.platform, exc)
    except Exception:
        connector.health.failed(now, "storing messages failed; will retry on the next poll")
        log.exception("%s poll failed while storing; the cursor was not advanced", connector.platform)
    if metrics is not None and not connector.health.ok:
        paused = connector.health.paused_until is not None and connector.health.paused_until > now
        metrics.platform_errors.labels(connector.platform, "rate_limited" if paused else "error").inc()
    if summary.stored:
        log.info("%s: stored %d new message(s), %d new conversation(s), %d already known",
                 summary.connector, summary.stored, summary.new_conversations, summary.duplicates)
    return summary
