"""Suggested answers: the staff answers of the past cases most similar to this one.

Similarity is TF-IDF cosine over the customers' words, computed in Python over a bounded candidate
set — the answered cases of the latest `CANDIDATES` sent replies — so it behaves the same on SQLite
and PostgreSQL and costs one or two bounded queries. Each past case offers its first sent answer
(the one that met the customer's opening words), never a public DM notice; for a public reply only
public answers are offered, so a private answer (an order number, an address) is never one click
from a public post. Answers in the case's own language come first, then by similarity; a case
sharing no meaningful word is never offered.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from sqlmodel import Session, col, select

from bot.cards.suggestions import SUGGESTIONS_MAX, SuggestedAnswer
from bot.store.models import Conversation, DeliveryStatus, Direction, Message
from connectors.registry import shipped_op

CANDIDATES = 500  # sent replies looked at, newest first: bounds the work per modal
MIN_SCORE = 0.1
_QUESTION_MAX = 2000  # characters of the customer's words taken per case

Link = Callable[[str, str | None], str | None]  # (Slack channel, thread ts) -> thread URL

_NOISE = re.compile(r"https?://\S+|[@#]\w+")
_WORD = re.compile(r"[^\W_]+")
# Words nearly every support question has; they would make every case look alike.
_STOPWORD_LIST = """
a an and are as at be been but by can could did do does for from get got had has have hello hey hi
how i i'm im is it its just me my no not of on or our please so still that the their them there
this to us was we were what when where which who why will with would yet you your thank thanks
al como con cuando de del donde dónde el en es esta está estoy gracias hola la las lo los me mi mis
muy no o para pero por que qué se su sus te tu un una y ya
"""
_STOPWORDS = frozenset(_STOPWORD_LIST.split())


def words(text: str) -> list[str]:
    """The meaningful words of `text`: lower-cased, without links, @handles, #tags and stopwords; a
    plural "s" is dropped so "refunds" meets "refund"."""
    found = []
    for word in _WORD.findall(_NOISE.sub(" ", text.lower())):
        if word in _STOPWORDS or len(word) < 2:
            continue
        found.append(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return found


def rank(query: Sequence[str], documents: Sequence[Sequence[str]]) -> list[float]:
    """Cosine similarity of `query` to each document, TF-IDF weighted over the documents and the
    query together (sublinear term frequency, smoothed IDF)."""
    bags = [Counter(d) for d in documents]
    total = len(bags) + 1
    df: Counter[str] = Counter()
    for bag in [*bags, Counter(query)]:
        df.update(bag.keys())
    idf = {w: math.log((1 + total) / (1 + n)) + 1 for w, n in df.items()}

    def vector(bag: Counter[str]) -> dict[str, float]:
        weights = {w: (1 + math.log(n)) * idf[w] for w, n in bag.items()}
        norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
        return {w: v / norm for w, v in weights.items()}

    q = vector(Counter(query))
    return [sum(q.get(w, 0.0) * v for w, v in vector(bag).items()) for bag in bags]


def offerable(kind: str, public_only: bool) -> bool:
    """Whether a sent message of op `kind` may be offered: never a nudge; public ones only when
    `public_only`. An op no shipped network knows is offered only to private replies."""
    try:
        spec = shipped_op(kind)
    except ValueError:
        return not public_only
    return not spec.is_nudge and (spec.public or not public_only)


def _first_answers(session: Session, exclude: int, public_only: bool) -> dict[int, Message]:
    """Conversation id -> its first offerable sent answer, over the latest CANDIDATES sent replies."""
    replies = session.exec(
        select(Message)
        .where(Message.direction == Direction.OUTBOUND, Message.delivery_status == DeliveryStatus.SENT,
               Message.conversation_id != exclude)
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
        .limit(CANDIDATES)).all()
    first: dict[int, Message] = {}
    for reply in replies:  # newest first, so the last one seen per case is its earliest
        if offerable(reply.kind, public_only):
            first[reply.conversation_id] = reply
    return first


def _questions(session: Session, answers: dict[int, Message]) -> dict[int, str]:
    """Conversation id -> what the customer wrote before its first answer (at most _QUESTION_MAX)."""
    texts: dict[int, str] = {}
    if not answers:
        return texts
    rows = session.exec(
        select(Message)
        .where(col(Message.conversation_id).in_(list(answers)), Message.direction == Direction.INBOUND)
        .order_by(col(Message.created_at), col(Message.id))).all()
    for row in rows:
        if row.created_at <= answers[row.conversation_id].created_at:
            so_far = texts.get(row.conversation_id, "")
            texts[row.conversation_id] = (f"{so_far} {row.text}" if so_far else row.text)[:_QUESTION_MAX]
    return texts


def _customer_words(session: Session, conversation: Conversation) -> str:
    rows = session.exec(select(Message.text).where(Message.conversation_id == conversation.id,
                                                   Message.direction == Direction.INBOUND)
                        .order_by(col(Message.created_at).desc()).limit(5)).all()
    return " ".join(reversed(rows))


def similar_answers(session: Session, conversation: Conversation, link: Link, *, public_only: bool = False,
                    limit: int = SUGGESTIONS_MAX) -> list[SuggestedAnswer]:
    """The first answers of the past cases most like `conversation` (same language first, then by
    similarity), each with its thread link; [] when no case shares a meaningful word. `public_only`
    for a public reply."""
    query = words(_customer_words(session, conversation))
    if not query:
        return []
    answers = _first_answers(session, conversation.id or 0, public_only)
    questions = _questions(session, answers)
    ids = [c for c in answers if c in questions]
    scores = rank(query, [words(questions[c]) for c in ids])
    cases = {c.id: c for c in session.exec(select(Conversation).where(col(Conversation.id).in_(ids))).all()}
    scored = [(score, c) for score, c in zip(scores, ids, strict=True) if score >= MIN_SCORE and c in cases]
    scored.sort(key=lambda sc: (cases[sc[1]].language != conversation.language, -sc[0], -sc[1]))
    return [_suggestion(answers[c], cases[c], link, questions[c]) for _, c in scored[:limit]]


def answers_by_id(session: Session, message_ids: Iterable[int], link: Link) -> list[SuggestedAnswer]:
    """The suggestions for these sent answers again, in the order given (a modal being rebuilt shows
    what it first offered); an id that is gone is left out."""
    found = []
    for message_id in message_ids:
        message = session.get(Message, message_id)
        if message is None or message.direction != Direction.OUTBOUND:
            continue
        question = _questions(session, {message.conversation_id: message}).get(message.conversation_id, "")
        found.append(_suggestion(message, session.get_one(Conversation, message.conversation_id), link, question))
    return found


def _suggestion(answer: Message, case: Conversation, link: Link, question: str) -> SuggestedAnswer:
    return SuggestedAnswer(message_id=answer.id or 0, ref=case.ref or case.id or 0, text=answer.text,
                           language=case.language, link=link(case.channel, case.slack_ts), question=question)
