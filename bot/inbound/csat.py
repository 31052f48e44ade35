"""A customer's answer to the satisfaction question, taken from their next private message.

After the question reached the customer (`csat_asked_at`, set when it was delivered), their reply
is a rating when it is a tapped button (its payload) or, for the first message they write after the
question, a message that is only a rating ("4", "⭐⭐⭐⭐", "🙂"; bot/triage/rating.py). The score is
stored on the conversation once, a line goes to the Slack thread ("⭐ 4/5 from @x") and the card is
updated; the rating does not reopen the case. Anything else is an ordinary follow-up.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.cards import rating_line
from bot.store import outbox
from bot.store.keys import row_id
from bot.store.models import AuditEntry, Conversation, Customer, Direction, Message, OutboxKind
from bot.triage import rating
from connectors.base import InboundMessage

SKEW = timedelta(seconds=30)


def take_rating(session: Session, conversation: Conversation, customer: Customer, record: InboundMessage,
                now: datetime) -> int | None:
    """Store `record` as the conversation's rating if it is one (see the module docstring); the score, or None."""
    if conversation.csat_asked_at is None or conversation.csat_score is not None:
        return None
    # Our clock set csat_asked_at, the network's clock the message's time: a quick "5" may carry a time
    # a little before ours, so the question counts as asked SKEW earlier.
    asked = conversation.csat_asked_at - SKEW
    if record.created_at < asked:
        return None
    score = rating.from_payload(record.quick_reply)
    if score is None:
        wrote_since = session.exec(select(Message.id).where(
            Message.conversation_id == row_id(conversation), Message.direction == Direction.INBOUND,
            col(Message.created_at) >= asked)).first()
        score = rating.from_text(record.text) if wrote_since is None else None
    if score is None:
        return None
    conversation.csat_score, conversation.csat_at, conversation.updated_at = score, record.created_at, now
    session.add(conversation)
    session.add(AuditEntry(at=now, actor="parley", action="csat_answer", conversation_id=conversation.id,
                           platform=conversation.platform, external_id=record.external_id, detail=f"{score}/5"))
    who = customer.handle or customer.name
    outbox.enqueue(session, kind=OutboxKind.THREAD_MESSAGE, conversation=conversation,
                   text=rating_line(score, who, handle_prefix="@" if customer.handle != customer.name else ""))
    outbox.enqueue(session, kind=OutboxKind.UPDATE_CARD, conversation=conversation)
    return score
