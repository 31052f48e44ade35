"""What Parley knows about one customer account: earlier cases, cases still open, the tone of their
latest messages, and their reach.

An account is one (platform, external id): the same person on X and on Facebook shares no id that
Parley could trust, so nothing here joins accounts across networks (a display name is not a safe
key — anyone can take it). `/social customer` shows each matching account's profile side by side
and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from bot.store.models import Conversation, Customer, Direction, Message, Status

TONE_TREND_MAX = 5  # latest customer messages whose tone is shown, oldest first
_OPEN = (Status.OPEN, Status.PENDING, Status.SNOOZED)


@dataclass(frozen=True)
class CustomerProfile:
    """One account's profile as of now. `earlier_cases` leaves out the case being shown (if any);
    `open_elsewhere` are refs of its other unresolved cases, newest first; `tone_trend` the tones
    of its latest messages across all its cases, oldest first."""

    platform: str
    followers: int | None
    cases: int
    earlier_cases: int
    open_elsewhere: tuple[int, ...]
    tone_trend: tuple[str, ...]
    csat_scores: tuple[int, ...] = ()  # the ratings this account gave (CSAT), oldest first


def customer_profile(session: Session, customer: Customer, current: Conversation | None = None) -> CustomerProfile:
    """The profile of `customer`, seen from `current` (its own case is not "earlier" or "elsewhere")."""
    return customer_profiles(session, [(customer, current)])[0]


def customer_profiles(session: Session,
                      accounts: Sequence[tuple[Customer, Conversation | None]]) -> list[CustomerProfile]:
    """`customer_profile` for several (customer, current case) pairs, in two queries whatever their
    number (their cases; the tone of each one's latest messages; a third only for an account whose
    latest messages are not in its newest cases): a batch of cards asks for many."""
    ids = list({customer.id for customer, _ in accounts})
    cases: dict[int | None, list[Any]] = {}
    for case in session.connection().execute(_CASES, {"customers": ids}):
        cases.setdefault(case.customer_id, []).append(case)
    tones = _latest_tones(session, cases)
    return [_profile(customer, current, cases.get(customer.id, []), tones.get(customer.id, []))
            for customer, current in accounts]


def _latest_tones(session: Session, cases: dict[int | None, list[Any]]) -> dict[int | None, list[str]]:
    """Each account's latest TONE_TREND_MAX customer tones, newest first. They are looked for in its
    newest TONE_TREND_MAX cases only (a customer who wrote a thousand times has a thousand cases of
    messages): a case's customer messages are never newer than its newest-first key (ingest keeps
    `last_customer_message_at` at the latest), so once the fifth tone found is newer than the next
    case's key, no older case can change the answer. Otherwise that account is read in full."""
    newest = {customer: sorted(own, key=lambda c: (c.newest, c.id), reverse=True) for customer, own in cases.items()}
    owner = {c.id: customer for customer, own in newest.items() for c in own[:TONE_TREND_MAX]}
    found: dict[int | None, list[Any]] = {}
    for row in session.connection().execute(_CASE_TONES, {"cases": list(owner)}):
        found.setdefault(owner[row.conversation_id], []).append(row)
    tones, unsure = {}, []
    for customer, own in newest.items():
        rows = found.get(customer, [])[:TONE_TREND_MAX]
        beyond = own[TONE_TREND_MAX].newest if len(own) > TONE_TREND_MAX else None
        if beyond is None or (len(rows) == TONE_TREND_MAX and rows[-1].created_at > beyond):
            tones[customer] = [r.tone for r in rows]
        else:
            unsure.append(customer)
    if unsure:
        for tone in session.connection().execute(_TONES, {"customers": unsure}):
            tones.setdefault(tone.customer_id, []).append(tone.tone)
    return tones


def _profile(customer: Customer, current: Conversation | None, cases: list[Any], tones: list[str]) -> CustomerProfile:
    skip = current.id if current is not None and current.id is not None else -1
    others = sorted(((c.id, c.ref) for c in cases if c.status in _OPEN and c.id != skip), reverse=True)
    # Oldest rating first (a rating without a time first of all, as SQLite orders NULLs).
    rated = sorted((c.csat_at is not None, c.csat_at, c.id, c.csat_score) for c in cases if c.csat_score is not None)
    return CustomerProfile(
        csat_scores=tuple(score for _, _, _, score in rated),
        platform=customer.platform, followers=customer.followers, cases=len(cases),
        earlier_cases=len(cases) - (1 if skip != -1 else 0),
        open_elsewhere=tuple(ref if ref is not None else id_ or 0 for id_, ref in others[:10]),
        tone_trend=tuple(t for t in reversed(tones) if t))


_CUSTOMERS: sa.BindParameter[list[int]] = sa.bindparam("customers", expanding=True)
_CASES = sa.select(col(Conversation.customer_id), col(Conversation.id), col(Conversation.ref),
                   col(Conversation.status), col(Conversation.csat_score), col(Conversation.csat_at),
                   sa.func.coalesce(Conversation.last_customer_message_at, Conversation.first_seen_at).label("newest"),
                   ).where(col(Conversation.customer_id).in_(_CUSTOMERS))
# The customer's tones in some cases, newest first.
_CASE_TONES = sa.select(col(Message.conversation_id), col(Message.tone), col(Message.created_at)).where(
    col(Message.conversation_id).in_(sa.bindparam("cases", expanding=True)),
    col(Message.direction) == Direction.INBOUND, col(Message.tone).is_not(None)
).order_by(col(Message.created_at).desc(), col(Message.id).desc())
# Each customer's latest TONE_TREND_MAX tones, newest first: numbered per customer, then cut.
_LATEST = sa.select(col(Conversation.customer_id), col(Message.tone), sa.func.row_number().over(
    partition_by=col(Conversation.customer_id),
    order_by=(col(Message.created_at).desc(), col(Message.id).desc())).label("n")).join(
    Conversation, col(Conversation.id) == col(Message.conversation_id)).where(
    col(Conversation.customer_id).in_(_CUSTOMERS), col(Message.direction) == Direction.INBOUND,
    col(Message.tone).is_not(None)).subquery()
_TONES = sa.select(_LATEST.c.customer_id, _LATEST.c.tone).where(_LATEST.c.n <= TONE_TREND_MAX).order_by(
    _LATEST.c.customer_id, _LATEST.c.n)
