"""CSAT figures: the customers' 1-5 answers to the satisfaction question (bot/replies/survey.py).

Computed here once, from the three CSAT columns of a conversation, for `kpis.py` (the Report, the
export) and `figures.py` (the digest, /social stats, App Home) alike; the definitions are in the
`kpis` module docstring and the README's Figures table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from bot.store.models import Conversation


@dataclass(frozen=True)
class Csat:
    answers: int = 0  # ratings given in the period
    average: float | None = None  # their mean, 1-5
    asked: int = 0  # questions that reached a customer in the period
    response_rate_pct: float | None = None  # of those asked, the share answered (at any time since)


def csat_of(conversations: Iterable[Conversation], start: datetime, end: datetime) -> Csat:
    """The CSAT figures of the period [start, end) over these conversations (each counted once)."""
    def within(at: datetime | None) -> bool:
        return at is not None and start <= at < end

    rows = {c.id: c for c in conversations}.values()
    scores = [c.csat_score for c in rows if c.csat_score is not None and within(c.csat_at)]
    asked = [c for c in rows if within(c.csat_asked_at)]
    answered = sum(1 for c in asked if c.csat_score is not None)
    return Csat(answers=len(scores), average=sum(scores) / len(scores) if scores else None, asked=len(asked),
                response_rate_pct=100 * answered / len(asked) if asked else None)


def load_csat(session: Session, start: datetime, end: datetime) -> Csat:
    """`csat_of` the conversations asked or answered in [start, end), counted by the database (each
    conversation is one row, so counted once; the mean is divided here, as `csat_of` does)."""
    def within(column: Mapped[datetime | None]) -> ColumnElement[bool]:
        return and_(column >= start, column < end)

    def count(*conditions: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)

    score, answered_in, asked_in = col(Conversation.csat_score), within(col(Conversation.csat_at)), \
        within(col(Conversation.csat_asked_at))
    answers, total, asked, answered = session.execute(select(
        count(score.is_not(None), answered_in), func.coalesce(func.sum(case((answered_in, score), else_=0)), 0),
        count(asked_in), count(asked_in, score.is_not(None))).where(or_(asked_in, answered_in))).one()
    return Csat(answers=answers, average=total / answers if answers else None, asked=asked,
                response_rate_pct=100 * answered / asked if asked else None)
