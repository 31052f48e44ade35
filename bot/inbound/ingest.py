"""Store what the connectors heard: exactly once, threaded, triaged, announced to Slack.

One `Batch` is one transaction: its messages, their conversations, the outbox rows that will
mirror them, and (last) the stream cursor. Triage runs before the transaction opens, on a bounded
prefix of each text and within a time budget per batch, so a write lock is never held while text is
scored and staff commands (notes, replies) are not kept waiting behind a batch of long posts.

A crash anywhere before the commit leaves the cursor
where it was, so the next poll reads the same items again and the unique (platform, external_id)
key turns every repeat into a no-op.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.inbound import csat, known, record_json, rows
from bot.inbound.routing import Router
from bot.sla import waiting
from bot.store import quarantine
from bot.store.database import Store, set_cursor
from bot.store.keys import ref_of, row_id
from bot.store.models import (
    Conversation,
    Customer,
    Message,
    MessageMatch,
    OutboxKind,
    Status,
    utcnow,
)
from bot.triage import MAX_TRIAGE_CHARS, Triage, classify
from connectors.base import Batch, InboundMessage, Kind
from connectors.text import clean_message

log = logging.getLogger(__name__)

_CONFLICT_RETRIES = 3
TRIAGE_BUDGET = 5.0  # seconds of triage per batch; past it, each text is read from a short prefix
SHORT_TRIAGE_CHARS = 280  # a tweet's worth: enough for the keywords that make a message urgent


class UnroutableError(Exception):
    """No routing rule and no PARLEY_CHANNEL for a new conversation."""


@dataclass
class IngestResult:
    stored: int = 0  # new customer messages
    duplicates: int = 0  # already stored (re-read, or heard on two streams)
    new_conversations: list[int] = field(default_factory=list)  # conversation refs


class Ingestor:
    """Turns batches into rows. `on_committed` is told after each commit (wakes the outbox)."""

    def __init__(
        self,
        store: Store,
        router: Router,
        *,
        on_committed: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = utcnow,
        pause_meter: waiting.PauseMeter = waiting.calendar_seconds,
    ) -> None:
        self.store = store
        self.router = router
        self.on_committed = on_committed
        self.clock = clock
        self.pause_meter = pause_meter

    def ingest(self, batch: Batch, *, polled: bool = False) -> IngestResult:
        """Store one batch atomically, its text cleaned first (`connectors.text.clean_message`).

        Another replica (or the webhook) storing the same message at the same moment makes our
        commit conflict; we then retry, and the rows are seen as stored. Should the batch still
        fail, its messages are stored one by one and any that fails alone is quarantined, so one
        item never blocks its stream; the cursor moves only once every item is stored or quarantined.
        `polled`: the batch comes from a poll, which reads it again until its cursor is stored.
        """
        batch = Batch(stream=batch.stream, messages=[clean_message(m) for m in batch.messages],
                      cursor=batch.cursor)
        try:
            result = self._store(batch, redone=polled or batch.cursor is not None)
        except UnroutableError:
            raise  # configuration, not content: every message would fail the same way
        except Exception as exc:
            if not batch.messages:
                raise
            # The class only: a database error's text may quote the customer's message.
            log.warning("batch %s (%d messages) failed to store (%s); storing them one by one",
                        batch.stream, len(batch.messages), type(exc).__name__)
            result = self._store_each(batch)
        if result.stored or result.new_conversations:
            self.on_committed()
        return result

    def store_one(self, record: InboundMessage, stream: str) -> IngestResult:
        """Store one (quarantined) record, cleaned; raises if it still cannot be stored."""
        result = self._store(Batch(stream=stream, messages=[clean_message(record)]))
        if result.stored or result.new_conversations:
            self.on_committed()
        return result

    def _store(self, batch: Batch, *, redone: bool = False) -> IngestResult:
        triaged = triage_all(batch.messages)  # before the transaction: no lock is held while scoring
        for attempt in range(1, _CONFLICT_RETRIES + 1):
            try:
                # A polled batch is read again if its commit is lost to a power cut (the cursor moves
                # only with the poll's last batch, after it in the log), so it need not wait for the
                # disk; a webhook's batch is never re-sent.
                with self.store.transaction(durable=not redone) as session:
                    return self._ingest(session, batch, triaged)
            except IntegrityError:
                if attempt == _CONFLICT_RETRIES:
                    raise
                log.info("batch %s raced another writer; retrying (%d)", batch.stream, attempt)
        raise AssertionError("unreachable")

    def _store_each(self, batch: Batch) -> IngestResult:
        total = IngestResult()
        for record in sorted(batch.messages, key=lambda m: (m.created_at, m.external_id)):
            try:
                one = self._store(Batch(stream=batch.stream, messages=[record]))
            except UnroutableError:
                raise
            except Exception as exc:
                # Raises when the database itself is the trouble: the cursor then stays put.
                quarantine.put(self.store, batch.stream, platform=str(record.platform), external_id=record.external_id,
                               payload=record_json.encode(record), error=exc, now=self.clock())
                continue
            total.stored += one.stored
            total.duplicates += one.duplicates
            total.new_conversations += one.new_conversations
        if batch.cursor is not None:
            with self.store.transaction() as session:
                set_cursor(session, batch.stream, batch.cursor)
        return total

    # --- one transaction ----------------------------------------------------------------------
    def _ingest(self, session: Session, batch: Batch, triaged: dict[tuple[str, str], Triage]) -> IngestResult:
        result, now = IngestResult(), self.clock()
        # Oldest first, so a thread's opening message creates the conversation its replies join.
        records = sorted(batch.messages, key=lambda m: (m.created_at, m.external_id))
        stored = known.stored_messages(session, records)
        customer_of = known.customers(session, [r for r in records if _key(r) not in stored], now)
        threads = known.conversations(session, records, customer_of)
        opener = self._open_all(session, [r for r in records if _key(r) not in stored], customer_of, threads,
                                triaged, now)
        pending: list[rows.Pending] = []  # announced once the batch's messages have their ids
        for record in records:
            existing = stored.get(_key(record))
            if existing is not None:
                if existing.id is None:  # heard twice in this batch: store the first one before merging
                    rows.announce(session, pending)
                self._merge_duplicate(session, existing, record)
                result.duplicates += 1
                continue
            customer = customer_of[(str(record.platform), record.author.external_id)]
            triage = triaged[_key(record)]
            thread = (str(record.platform), record.thread_key, row_id(customer))
            conversation = threads[thread]
            is_new = opener.get(thread) == _key(record)
            if is_new:
                result.new_conversations.append(ref_of(conversation))
            elif conversation.csat_asked_at is not None:
                rows.announce(session, pending)  # a rating's thread line goes after the earlier follow-ups
            # An answer to the satisfaction question is stored as a rating and does not reopen the case.
            rated = None if is_new else csat.take_rating(session, conversation, customer, record, now)
            message = stored[_key(record)] = rows.add_message(session, conversation, record, triage, now)
            kinds: tuple[OutboxKind, ...] = ()
            if is_new:
                kinds = (OutboxKind.POST_CARD,)
            elif rated is None:
                card_changed = rows.apply_followup(session, conversation, record, triage, now, self.pause_meter)
                kinds = (OutboxKind.THREAD_MESSAGE, OutboxKind.UPDATE_CARD) if card_changed \
                    else (OutboxKind.THREAD_MESSAGE,)
            pending.append(rows.Pending(record, conversation, message, kinds))
            result.stored += 1
        rows.announce(session, pending)
        if batch.cursor is not None:
            set_cursor(session, batch.stream, batch.cursor)
        return result

    def _open_conversation(
        self, session: Session, record: InboundMessage, customer: Customer, triage: Triage, now: datetime
    ) -> Conversation:
        channel = self.router.channel_for(record, triage.language)
        if channel is None:
            raise UnroutableError(
                f"no Slack channel for a {record.platform} {record.kind}: set PARLEY_CHANNEL or add a routing rule"
            )
        conversation = Conversation(
            platform=record.platform,
            kind=record.kind,
            thread_key=record.thread_key,
            customer_id=row_id(customer),
            query_names=",".join(record.query_names),
            url=record.url,
            status=Status.OPEN,
            priority=triage.priority,
            priority_reasons="; ".join(triage.reasons),
            tone=triage.tone,
            complaint=triage.complaint,
            language=triage.language,
            channel=channel,
            first_seen_at=record.created_at,
            last_customer_message_at=record.created_at,
            waiting_since=record.created_at,
            created_at=now,
            updated_at=now,
        )
        session.add(conversation)  # the caller flushes and sets `ref`
        return conversation

    def _open_all(self, session: Session, records: list[InboundMessage], customer_of: dict[known.MessageKey, Customer],
                  threads: dict[known.ThreadKey, Conversation], triaged: dict[tuple[str, str], Triage],
                  now: datetime) -> dict[known.ThreadKey, tuple[str, str]]:
        """Open the conversations the batch starts (inserted together): thread -> the message opening it."""
        opener: dict[known.ThreadKey, tuple[str, str]] = {}
        for record in records:
            customer = customer_of[(str(record.platform), record.author.external_id)]
            thread = (str(record.platform), record.thread_key, row_id(customer))
            if thread not in threads:
                threads[thread] = self._open_conversation(session, record, customer, triaged[_key(record)], now)
                opener[thread] = _key(record)
        session.flush()  # assigns the ids, which are also the "#N" people type
        for thread in opener:
            threads[thread].ref = row_id(threads[thread])
        return opener

    def _merge_duplicate(self, session: Session, existing: Message, record: InboundMessage) -> None:
        """The same tweet heard again: remember which searches found it (share of voice), and call
        it a mention if it was first heard by a search but does mention the brand."""
        conversation = session.get_one(Conversation, existing.conversation_id)  # a foreign key: it exists
        if record.query_names:
            known = set(session.exec(
                select(MessageMatch.query_name).where(MessageMatch.message_id == existing.id)
            ).all())
            for name in record.query_names:
                if name not in known:
                    session.add(MessageMatch(message_id=row_id(existing), query_name=name))
            names = [n for n in conversation.query_names.split(",") if n]
            merged = names + [n for n in record.query_names if n not in names]
            if merged != names:
                conversation.query_names = ",".join(merged)
                session.add(conversation)
        if record.kind == Kind.MENTION and existing.kind == Kind.SEARCH_HIT:
            existing.kind = Kind.MENTION
            session.add(existing)
            if conversation.kind == Kind.SEARCH_HIT:
                conversation.kind = Kind.MENTION
                session.add(conversation)


def _key(record: InboundMessage) -> tuple[str, str]:
    return str(record.platform), record.external_id


def triage_all(records: Iterable[InboundMessage], budget: float = TRIAGE_BUDGET) -> dict[tuple[str, str], Triage]:
    """Each record's triage by (platform, external_id), read from its first MAX_TRIAGE_CHARS
    characters; once `budget` seconds are spent, the rest are read from SHORT_TRIAGE_CHARS only."""
    started, out = time.monotonic(), {}
    for record in records:
        limit = MAX_TRIAGE_CHARS if time.monotonic() - started < budget else SHORT_TRIAGE_CHARS
        out[(str(record.platform), record.external_id)] = classify(
            record.text, followers=record.author.followers, verified=record.author.verified,
            lang_hint=record.lang_hint, limit=limit)
    return out
