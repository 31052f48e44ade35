"""Suggested answers (bot/replies/suggestions.py) on SQLite and PostgreSQL: the most similar past
case's first sent answer comes first, same language before other languages, never an unsent answer,
a note, a DM notice or the case itself, only public answers for a public reply, and nothing when no
meaningful word is shared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.replies.suggestions import answers_by_id, rank, similar_answers, words
from bot.store.models import Conversation, Customer, DeliveryStatus, Direction, Message

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def link(channel: str, ts: str | None) -> str | None:
    return f"https://acme.slack.com/archives/{channel}/p{(ts or '').replace('.', '')}"


def case(session, n: int, asked: str, answers: tuple[str, ...] = (), *, language: str = "en",
         status: DeliveryStatus = DeliveryStatus.SENT, direction: Direction = Direction.OUTBOUND,
         ops: tuple[str, ...] = ()) -> Conversation:
    customer = Customer(platform="x", external_id=f"u{n}", handle=f"user{n}", name=f"User {n}")
    session.add(customer)
    session.flush()
    conversation = Conversation(platform="x", kind="mention", thread_key=f"t{n}", customer_id=customer.id,
                                channel="C0SOCIAL", slack_ts=f"1700000{n:03d}.000100", language=language)
    session.add(conversation)
    session.flush()
    conversation.ref = conversation.id
    start = T0 + timedelta(hours=n)
    session.add(Message(conversation_id=conversation.id, platform="x", external_id=f"in{n}",
                        direction=Direction.INBOUND, kind="mention", text=asked, author_id=f"u{n}",
                        created_at=start, language=language))
    for i, text in enumerate(answers, start=1):
        session.add(Message(conversation_id=conversation.id, platform="x", external_id=f"out{n}.{i}",
                            direction=direction, kind=ops[i - 1] if ops else "x_reply", text=text, author_id="U0AGENT",
                            created_at=start + timedelta(minutes=10 * i), delivery_status=status))
    session.flush()
    return conversation


def test_words_drop_stopwords_links_and_handles_and_fold_plurals():
    assert words("@acme Where is my REFUNDS?? https://t.co/x #fail") == ["refund"]
    assert words("Hola, ¿dónde está mi reembolso?") == ["reembolso"]


def test_rank_prefers_the_rarer_shared_word():
    scores = rank(["refund", "order"], [["refund"], ["order"], ["order"], ["app"]])
    assert scores[0] > scores[1] == scores[2] > scores[3] == 0


def test_the_earlier_refund_answer_comes_first(store):
    with store.transaction() as s:
        order = case(s, 1, "@acme where is my order? it never arrived", ("Your order ships tomorrow, sorry!",))
        refund = case(s, 2, "@acme I still have not got my refund", (
            "Your refund was issued on Monday; banks take up to 5 days.", "Anything else?"))
        case(s, 3, "@acme love the new app", ("Thank you!",))
        case(s, 4, "@acme refund please", ("never sent",), status=DeliveryStatus.FAILED)
        case(s, 5, "@acme refund?", ("internal: check with billing",), direction=Direction.NOTE)
        new = case(s, 6, "@acme where is my refund??")
        found = similar_answers(s, new, link)
    assert [a.ref for a in found] == [refund.ref]  # order shares only stopwords; 4 and 5 have no sent answer
    [top] = found
    assert top.text == "Your refund was issued on Monday; banks take up to 5 days."  # its first answer
    assert top.link == "https://acme.slack.com/archives/C0SOCIAL/p1700000002000100"
    assert "refund" in top.question and order.ref not in [a.ref for a in found]


def test_same_language_first_then_similarity(store):
    with store.transaction() as s:
        spanish = case(s, 1, "refund reembolso pedido", ("Su reembolso está en camino.",), language="es")
        english = case(s, 2, "refund late", ("Your refund is on its way.",))
        new = case(s, 3, "refund reembolso pedido", language="en")
        found = similar_answers(s, new, link)
        again = answers_by_id(s, [a.message_id for a in found], link)
    assert [a.ref for a in found] == [english.ref, spanish.ref]  # the Spanish case matches better, but later
    assert again == found


def test_nothing_to_suggest(store):
    with store.transaction() as s:
        case(s, 1, "refund late", ("Your refund is on its way.",))
        new = case(s, 2, "@acme hi there!")
        assert similar_answers(s, new, link) == []


def test_a_public_reply_is_offered_public_answers_only_and_never_a_dm_notice(store):
    with store.transaction() as s:
        in_dm = case(s, 1, "refund late", ("Your refund ref R-1234 for 12 Elm St is on its way.",
                                           "We've sent you a DM"), ops=("x_dm", "x_nudge"))
        public = case(s, 2, "refund late again", ("Sorry! Refunds take 5 days.",))
        new = case(s, 3, "refund late")
        for_public = similar_answers(s, new, link, public_only=True)
        for_private = similar_answers(s, new, link)
    assert [a.ref for a in for_public] == [public.ref]  # the DM case's only public message is its notice
    assert [(a.ref, a.text) for a in for_private] == [
        (in_dm.ref, "Your refund ref R-1234 for 12 Elm St is on its way."), (public.ref, "Sorry! Refunds take 5 days.")]
