"""What Parley knows about one customer account: earlier cases, cases still open, the tone of their
latest messages, and their reach.

An account is one (platform, external id): the same person on X and on Facebook shares no id that
Parley could trust, so nothing here joins accounts across networks (a display name is not a safe
key — anyone can take it). `/social customer` shows each matching account's profile side by side
and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

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
    """The profile of `customer`, seen from `current` (its own case is not "earlier" or "elsewhere").

    Two queries (its cases; the tone of its latest messages), built once: every card asks for one."""
    skip = current.id if current is not None and current.id is not None else -1
    cases = session.connection().execute(_CASES, {"customer": customer.id}).all()
    tones = session.exec(_TONES, params={"customer": customer.id}).all()
    others = sorted(((id_, ref) for id_, ref, status, _, _ in cases if status in _OPEN and id_ != skip), reverse=True)
    # Oldest rating first (a rating without a time first of all, as SQLite orders NULLs).
    rated = sorted((at is not None, at, id_, score) for id_, _, _, score, at in cases if score is not None)
    return CustomerProfile(
        csat_scores=tuple(score for _, _, _, score in rated),
        platform=customer.platform, followers=customer.followers, cases=len(cases),
        earlier_cases=len(cases) - (1 if skip != -1 else 0),
        open_elsewhere=tuple(ref if ref is not None else id_ or 0 for id_, ref in others[:10]),
        tone_trend=tuple(t for t in reversed(tones) if t))


_CUSTOMER = sa.bindparam("customer", type_=sa.Integer)
_CASES = sa.select(col(Conversation.id), col(Conversation.ref), col(Conversation.status), col(Conversation.csat_score),
                col(Conversation.csat_at)).where(col(Conversation.customer_id) == _CUSTOMER)
_TONES = (select(Message.tone).join(Conversation, col(Conversation.id) == Message.conversation_id)
          .where(Conversation.customer_id == _CUSTOMER, Message.direction == Direction.INBOUND,
                 col(Message.tone).is_not(None))
          .order_by(col(Message.created_at).desc(), col(Message.id).desc()).limit(TONE_TREND_MAX))
