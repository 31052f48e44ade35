"""What Parley knows about one customer account: earlier cases, cases still open, the tone of their
latest messages, and their reach.

An account is one (platform, external id): the same person on X and on Facebook shares no id that
Parley could trust, so nothing here joins accounts across networks (a display name is not a safe
key — anyone can take it). `/social customer` shows each matching account's profile side by side
and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

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
    mine = Conversation.customer_id == customer.id
    cases = session.exec(select(func.count()).select_from(Conversation).where(mine)).one()
    skip = current.id if current is not None and current.id is not None else -1
    others = session.exec(
        select(Conversation.ref, Conversation.id)
        .where(mine, col(Conversation.status).in_(_OPEN), Conversation.id != skip)
        .order_by(col(Conversation.id).desc()).limit(10)).all()
    tones = session.exec(
        select(Message.tone).join(Conversation, col(Conversation.id) == Message.conversation_id)
        .where(mine, Message.direction == Direction.INBOUND, col(Message.tone).is_not(None))
        .order_by(col(Message.created_at).desc(), col(Message.id).desc()).limit(TONE_TREND_MAX)).all()
    scores = session.exec(select(Conversation.csat_score).where(mine, col(Conversation.csat_score).is_not(None))
                          .order_by(col(Conversation.csat_at), col(Conversation.id))).all()
    return CustomerProfile(
        csat_scores=tuple(s for s in scores if s is not None),
        platform=customer.platform, followers=customer.followers, cases=cases,
        earlier_cases=cases - (1 if skip != -1 else 0),
        open_elsewhere=tuple(ref if ref is not None else id_ or 0 for ref, id_ in others),
        tone_trend=tuple(t for t in reversed(tones) if t))
