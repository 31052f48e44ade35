"""Tables. Idempotency lives here: unique (platform, external_id) for messages and customers, unique
outbox keys, one conversation per (platform, thread, customer). Changing a table means adding an
Alembic revision under bot/migrations/versions.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.store import columns
from bot.store.billing import XCharge  # noqa: F401  (the X spend table, on the metadata with the rest)
from bot.store.columns import UTCDateTime, ts_field, utcnow  # callers and the revisions import them from here


class Status(enum.StrEnum):
    OPEN = "open"  # waiting on us
    PENDING = "pending"  # we answered; waiting on the customer
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Priority(enum.StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Tone(enum.StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"
    UNKNOWN = "unknown"  # a language triage does not score: not a guessed "neutral"


class Direction(enum.StrEnum):
    INBOUND = "inbound"  # from the customer
    OUTBOUND = "outbound"  # from the brand to the customer
    NOTE = "note"  # internal, written in Slack; never sent


class DeliveryStatus(enum.StrEnum):
    RECEIVED = "received"  # inbound
    PENDING = "pending"  # outbound, stored, not yet sent
    SENDING = "sending"  # a send was attempted; outcome unknown until confirmed
    SENT = "sent"
    FAILED = "failed"


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    # Also indexed on lower(handle) and lower(name) for `/social customer` (revision 0009; autogenerate
    # cannot compare expression indexes, so bot/store/search.include_name leaves them out).
    __table_args__ = (sa.UniqueConstraint("platform", "external_id", name="uq_customer_platform_ext"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    handle: str = Field(max_length=255, index=True)
    name: str = Field(max_length=255)
    followers: int | None = None
    verified: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


# Cases not resolved, written out literally (as QUEUED below) so the planners match the partial index:
# the scheduler and reports read only these, a few thousand among a million resolved.
ACTIVE = columns.ACTIVE


class Conversation(columns.FirstResponseMeasures, table=True):
    """One customer's case: a thread of messages on one platform, mirrored to one Slack thread."""

    __tablename__ = "conversations"
    __table_args__ = (
        sa.UniqueConstraint("platform", "thread_key", "customer_id", name="uq_conversation_thread"),
        sa.Index("ix_conversations_active", "id", sqlite_where=ACTIVE, postgresql_where=ACTIVE),
        *columns.CONVERSATION_REPORT_INDEXES,
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: int | None = Field(default=None, unique=True)  # the "#N" people type; equals id
    platform: str = Field(max_length=16)
    kind: str = Field(max_length=16)
    thread_key: str = Field(max_length=64)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    query_names: str = Field(default="", max_length=255)  # comma-separated search queries
    url: str | None = Field(default=None, max_length=512)
    status: str = Field(default=Status.OPEN, max_length=16, index=True)
    priority: str = Field(default=Priority.NORMAL, max_length=16)
    priority_reasons: str = Field(default="", max_length=512)  # "; "-joined, human readable
    tone: str = Field(default=Tone.NEUTRAL, max_length=16)
    complaint: bool = False
    language: str | None = Field(default=None, max_length=8)
    assignee: str | None = Field(default=None, max_length=32)  # Slack user id
    channel: str = Field(max_length=32)  # Slack channel the thread lives in
    slack_ts: str | None = Field(default=None, max_length=32)  # ts of the parent card
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False, index=True)
    last_customer_message_at: datetime | None = ts_field()
    first_response_at: datetime | None = ts_field(index=True)
    last_response_at: datetime | None = ts_field()
    resolved_at: datetime | None = ts_field(index=True)
    snoozed_until: datetime | None = ts_field()
    # SLA clock (bot/sla/): when the customer's current unanswered wait began (None: nobody waits on
    # us), and the business time of that wait spent snoozed (a pause in progress began at
    # sla_paused_since). The wait is a first-response wait until first_response_at is set.
    waiting_since: datetime | None = ts_field()
    sla_paused_since: datetime | None = ts_field()
    sla_paused_seconds: float = Field(default=0.0, sa_column_kwargs={"server_default": "0"})
    # "✍️ <agent> is replying": who opened the reply modal last, and when (a hint, not a lock).
    replying_by: str | None = Field(default=None, max_length=32)
    replying_at: datetime | None = ts_field()
    # CSAT (bot/replies/survey.py): when the one satisfaction question reached the customer, and their
    # 1-5 answer with when they gave it.
    csat_asked_at: datetime | None = ts_field(index=True)
    csat_score: int | None = None
    csat_at: datetime | None = ts_field(index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        sa.UniqueConstraint("platform", "external_id", name="uq_message_platform_ext"),
        sa.Index("uq_message_send_key", "send_key", unique=True), *columns.MESSAGE_REPORT_INDEXES,
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversations.id", index=True)
    platform: str = Field(max_length=16)
    # Inbound: the platform's id. Outbound: our own key until the platform returns its id.
    external_id: str = Field(max_length=128)
    direction: str = Field(max_length=16)
    kind: str = Field(max_length=16)
    text: str = Field(sa_type=sa.Text())
    author_id: str = Field(max_length=64)  # customer external id, or Slack user id for staff
    author_name: str = Field(default="", max_length=255)
    url: str | None = Field(default=None, max_length=512)
    in_reply_to: str | None = Field(default=None, max_length=128)
    language: str | None = Field(default=None, max_length=8)
    tone: str | None = Field(default=None, max_length=16)
    complaint: bool = False
    priority: str | None = Field(default=None, max_length=16)
    priority_reasons: str = Field(default="", max_length=512)
    created_at: datetime = Field(sa_type=UTCDateTime(), nullable=False)  # indexed with id: MESSAGE_REPORT_INDEXES
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    delivered_at: datetime | None = ts_field()
    delivery_status: str = Field(default=DeliveryStatus.RECEIVED, max_length=16)
    delivery_error: str | None = Field(default=None, max_length=512)
    # Outbound only: the caller's idempotency key (kept after external_id becomes the platform's id),
    # and when the send to the platform began (a SENDING row older than a lease was left by a crash).
    send_key: str | None = Field(default=None, max_length=128)
    send_started_at: datetime | None = ts_field()
    claimed_by: int | None = Field(default=None, sa_type=sa.BigInteger())  # the sending process (store/presence.py)


class MessageMatch(SQLModel, table=True):
    """Which configured X search queries found a message (one row per query; share of voice)."""

    __tablename__ = "message_matches"
    message_id: int = Field(foreign_key="messages.id", primary_key=True)
    query_name: str = Field(max_length=64, primary_key=True)


class Cursor(SQLModel, table=True):
    __tablename__ = "cursors"
    stream: str = Field(primary_key=True, max_length=128)
    value: str | None = Field(default=None, max_length=128)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


class OutboxKind(enum.StrEnum):
    POST_CARD = "post_card"  # the conversation's parent message
    UPDATE_CARD = "update_card"  # chat.update of the parent with the current state
    THREAD_MESSAGE = "thread_message"  # a message (customer follow-up, receipt...) in the thread
    CHANNEL_MESSAGE = "channel_message"  # a stored message to `channel` (a channel or a DM), not threaded
    ROLLUP = "rollup"  # storm mode: many routine cases in one message; members listed in `payload`


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # attempted; on restart, look it up in Slack before sending again
    SENT = "sent"
    DEAD = "dead"  # gave up (e.g. channel_not_found); kept for inspection
    ROLLED_UP = "rolled_up"  # a POST_CARD shown in a ROLLUP instead (slack_ts: the roll-up's, once sent)


# Literal for the planners, like ACTIVE.
QUEUED = sa.text("status IN ('pending', 'sending')")


class OutboxItem(SQLModel, table=True):
    """A Slack delivery intent, written in the same transaction as the change that causes it.

    Content is rendered at send time from the current database state, so a card update queued
    behind others always shows the latest status.
    """

    __tablename__ = "outbox"
    # The delivery queue: a channel's next item is the first of this partial index (only queued rows,
    # so sent history never slows the claim), in (rank, id) order — bot/delivery/queue.py.
    __table_args__ = (sa.Index("ix_outbox_queue", "channel", "rank", "id", sqlite_where=QUEUED,
                               postgresql_where=QUEUED),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128, unique=True)  # idempotency key, also sent as Slack metadata
    kind: str = Field(max_length=16)
    conversation_id: int = Field(foreign_key="conversations.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="messages.id")
    text: str | None = Field(default=None, sa_type=sa.Text())  # for THREAD_MESSAGE notices
    # A message built when queued (SLA reminders, digests): JSON {"text", "blocks", "colour",
    # "reply_broadcast"}. Sent as stored; rendered-at-send-time items leave it empty.
    payload: str | None = Field(default=None, sa_type=sa.Text())
    status: str = Field(default=OutboxStatus.PENDING, max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = ts_field()
    last_error: str | None = Field(default=None, max_length=512)
    claimed_by: int | None = Field(default=None, sa_type=sa.BigInteger())  # the sending process (store/presence.py)
    channel: str | None = Field(default=None, max_length=32)
    # Delivery class, fixed when queued (bot.store.outbox.rank_of): 0 urgent/complaint/staff action,
    # 1 high priority (reach), 2 private message, 3 the rest. Lower goes first within a channel.
    rank: int = Field(default=3, sa_column_kwargs={"server_default": "3"})
    slack_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    sent_at: datetime | None = ts_field()


class AuditEntry(SQLModel, table=True):
    """Every outbound action and state change: who, when, what, platform id, outcome."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False, index=True)
    actor: str = Field(max_length=64)  # Slack user id, or "parley" for the app itself
    action: str = Field(max_length=32)
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", index=True)
    platform: str | None = Field(default=None, max_length=16)
    external_id: str | None = Field(default=None, max_length=128)
    outcome: str = Field(default="ok", max_length=32)
    detail: str = Field(default="", sa_type=sa.Text())


class Template(SQLModel, table=True):
    """A saved reply. `text` may use {first_name}, {handle}, {agent} and {ref}."""

    __tablename__ = "templates"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)  # stored lower-case; people type it
    text: str = Field(sa_type=sa.Text())
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


class Claim(SQLModel, table=True):
    """Something that must happen once across restarts and replicas: the first INSERT of a key wins.

    Keys name the thing, e.g. "sla:42:warning:first_response:1764061200" (conversation, threshold,
    waiting period), "digest:2026-11-25", "slack-event:Ev123" (a retried Slack event).
    """

    __tablename__ = "claims"
    key: str = Field(primary_key=True, max_length=160)
    claimed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False, index=True)
    owner: str = Field(default="", max_length=64)  # which process (host:pid) claimed it


class QuarantinedMessage(SQLModel, table=True):
    """A customer message that could not be stored even after cleaning (the dead-letter table).

    `payload` is the record as ASCII-only JSON (lone surrogates and NUL escaped), so this row can
    always be written; `error` is the exception class only, never its message, which may quote the
    customer's text. `parley quarantine retry` stores it and sets `resolved_at`.
    """

    __tablename__ = "quarantine"
    __table_args__ = (sa.UniqueConstraint("platform", "external_id", name="uq_quarantine_platform_ext"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=255)  # escaped to ASCII, so it is storable too
    stream: str = Field(max_length=128)
    payload: str = Field(sa_type=sa.Text())
    error: str = Field(max_length=128)
    attempts: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    last_failed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    resolved_at: datetime | None = ts_field(index=True)


class HealthProbe(SQLModel, table=True):
    """One row the readiness check rewrites: proof that the database accepts writes right now."""

    __tablename__ = "health_probe"
    id: int = Field(default=1, primary_key=True)
    checked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
