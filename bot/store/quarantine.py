"""The dead-letter table: customer messages that could not be stored, kept so nothing is lost.

An item lands here when storing it failed even after `connectors.text.clean`, so that its stream
can move on (one item never blocks a platform). The row keeps the record as ASCII-only JSON
(`bot.inbound.record_json`), which any database accepts whatever the text holds, and the error's
class, never its message (a database error may quote the customer's text). `parley quarantine retry` stores it later.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from sqlmodel import col, select

from bot.store.database import Store
from bot.store.models import QuarantinedMessage

log = logging.getLogger(__name__)


def safe_id(value: str) -> str:
    """An id as printable ASCII (JSON escapes: NUL becomes \\u0000), for the key column and log lines."""
    return json.dumps(value, ensure_ascii=True)[1:-1][:255]


def put(store: Store, stream: str, *, platform: str, external_id: str, payload: str, error: BaseException,
        now: datetime) -> None:
    """Keep a record (`payload`: its ASCII-only JSON) with the class of `error`, in a transaction of
    its own. Reported (one log line, ids only) when it first arrives; a repeat only counts. Raises
    if even this write fails (the database itself is the trouble): the caller must then leave the
    stream's cursor where it was."""
    key = safe_id(external_id)
    error_name = type(error).__name__[:128]
    with store.transaction() as session:
        row = session.exec(select(QuarantinedMessage).where(
            QuarantinedMessage.platform == platform, QuarantinedMessage.external_id == key)).first()
        first = row is None or row.resolved_at is not None
        if row is None:
            row = QuarantinedMessage(platform=platform, external_id=key, stream=stream[:128],
                                     payload=payload, error=error_name, created_at=now,
                                     last_failed_at=now)
        else:
            row.attempts += 1
            row.error, row.last_failed_at, row.resolved_at = error_name, now, None
        session.add(row)
        session.flush()
        row_id = row.id
    if first:
        log.error("quarantined %s message %s from %s (quarantine #%s): storing failed with %s; "
                  "the stream moves on; see `parley quarantine list`",
                  platform, key, stream, row_id, error_name)


def pending(store: Store) -> list[QuarantinedMessage]:
    """Unresolved quarantined messages, oldest first."""
    with store.transaction() as session:
        return list(session.exec(select(QuarantinedMessage).where(col(QuarantinedMessage.resolved_at).is_(None))
                                 .order_by(col(QuarantinedMessage.id))).all())


def get(store: Store, row_id: int) -> QuarantinedMessage | None:
    with store.transaction() as session:
        return session.get(QuarantinedMessage, row_id)


def mark(store: Store, row_id: int, now: datetime, error: BaseException | None) -> None:
    """Record a retry: resolved when `error` is None, otherwise one more failed attempt."""
    with store.transaction() as session:
        row = session.get(QuarantinedMessage, row_id)
        if row is None:
            return
        if error is None:
            row.resolved_at = now
        else:
            row.attempts += 1
            row.error, row.last_failed_at = type(error).__name__[:128], now
        session.add(row)
