"""What a batch already has in the store, read once per batch rather than once per message: the
messages already stored, the authors as customers, and the conversations they may continue.

Each is one query on a unique index (an IN list of the batch's keys), so a page of 100 posts costs
three reads, not three hundred. Called inside the ingest transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from bot.inbound import rows
from bot.store.models import Conversation, Customer, Message
from connectors.base import InboundMessage

MessageKey = tuple[str, str]  # (platform, external id)
ThreadKey = tuple[str, str, int]  # (platform, thread key, customer id): one conversation each


def stored_messages(session: Session, records: Sequence[InboundMessage]) -> dict[MessageKey, Message]:
    """The batch's messages that are already stored, by (platform, external id)."""
    if not records:
        return {}
    found = session.exec(select(Message).where(
        col(Message.platform).in_({str(r.platform) for r in records}),
        col(Message.external_id).in_({r.external_id for r in records}))).all()
    return {(str(m.platform), m.external_id): m for m in found}


def customers(session: Session, records: Sequence[InboundMessage], now: datetime) -> dict[MessageKey, Customer]:
    """Every author of `records` as a customer row, created or refreshed (rows.refresh_customer),
    by (platform, author id); new ones are inserted together."""
    if not records:
        return {}
    known = {(str(c.platform), c.external_id): c for c in session.exec(select(Customer).where(
        col(Customer.platform).in_({str(r.platform) for r in records}),
        col(Customer.external_id).in_({r.author.external_id for r in records}))).all()}
    for record in records:
        key = (str(record.platform), record.author.external_id)
        known[key] = rows.refresh_customer(session, record, now, known.get(key))
    session.flush()  # the new customers' ids, all in one go
    return known


def conversations(session: Session, records: Sequence[InboundMessage],
                  customer_of: dict[MessageKey, Customer]) -> dict[ThreadKey, Conversation]:
    """The stored conversations the batch's messages may continue, by (platform, thread key, customer id)."""
    if not records:
        return {}
    found = session.exec(select(Conversation).where(
        col(Conversation.platform).in_({str(r.platform) for r in records}),
        col(Conversation.thread_key).in_({r.thread_key for r in records}),
        col(Conversation.customer_id).in_({c.id for c in customer_of.values()}))).all()
    return {(str(c.platform), c.thread_key, c.customer_id): c for c in found}
