"""`/social reply|private|note|assign|unassign|resolve|reopen|snooze` as signed requests through the
HTTP endpoint, on SQLite and PostgreSQL; the emulators record what reached X, Facebook and Slack."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import func, select

from bot.store.models import AuditEntry, Conversation, DeliveryStatus, Direction, Message
from tests.e2e.conftest import CHANNEL, run_until
from tests.e2e.slack_requests import (  # noqa: F401  (serve is a fixture)
    AGENT,
    mirror_facebook_comment,
    mirror_messenger,
    mirror_x_mention,
    next_trigger,
    serve,
    wait_for,
)

pytestmark = pytest.mark.e2e


# --- helpers -------------------------------------------------------------------------------------
def thread_replies(stack, conversation) -> list[str]:
    """Text and blocks of each message under the case's card, as one searchable string each."""
    return [m.text + json.dumps(m.blocks, ensure_ascii=False)
            for m in stack.slack.thread(CHANNEL, conversation.slack_ts)[1:]]


def card_updates(stack, conversation) -> list[dict]:
    """Every chat.update of the case's card as Parley sent it (the emulator keeps no attachments,
    where a coloured card carries its blocks)."""
    calls = [c.args() for c in stack.slack.calls_to(r"chat\.update")]
    return [args for args in calls if str(args.get("ts")) == conversation.slack_ts]


def card_now(stack, conversation) -> str:
    updates = card_updates(stack, conversation)
    return json.dumps(updates[-1]) if updates else ""


def thread_shows(parley, stack, conversation, *needles: str) -> None:
    """Drain the Slack outbox until one thread message contains every needle."""
    run_until(parley, lambda: any(all(n in t for n in needles) for t in thread_replies(stack, conversation)))


def state(parley, ref: int) -> Conversation:
    with parley.store.transaction() as session:
        return session.get(Conversation, ref)


def outbound(parley) -> list[Message]:
    with parley.store.transaction() as session:
        return list(session.exec(select(Message).where(Message.direction == Direction.OUTBOUND)
                                 .order_by(Message.id)).all())


def inbound_id(parley, conversation) -> str:
    with parley.store.transaction() as session:
        return session.exec(select(Message.external_id).where(
            Message.conversation_id == conversation.id, Message.direction == Direction.INBOUND)).first()


def ask(slack, text: str, n: int, **kw) -> str:
    """Send `/social <text>`, expect it to be the n-th answer, and return that answer's text."""
    assert slack.command(text, **kw).status_code == 200
    answer = slack.responses(n)[n - 1]
    assert answer["response_type"] == "ephemeral"
    return answer["text"]


# --- replies -------------------------------------------------------------------------------------
def test_reply_on_x_posts_one_tweet_in_reply_and_a_receipt_even_when_slack_retries(stack, serve):  # noqa: F811
    slack = serve()
    conv = mirror_x_mention(stack, slack.parley)
    trigger = next_trigger()

    said = ask(slack, f"reply #{conv.ref} So sorry, Dana. It ships today.", 1, trigger_id=trigger)
    assert f"public reply to @dana on X (#{conv.ref})" in said
    wait_for(lambda: len(stack.x.created_tweets) == 1, what="the tweet")
    # Slack retries the same command (same trigger id): the stored reply is found, nothing new is sent.
    ask(slack, f"reply #{conv.ref} So sorry, Dana. It ships today.", 2, trigger_id=trigger, retry_num=1)
    thread_shows(slack.parley, stack, conv, "replied publicly", "✅")

    [tweet] = stack.x.created_tweets
    assert tweet["text"].endswith("So sorry, Dana. It ships today.")  # X puts "@dana " in front
    assert tweet["in_reply_to_tweet_id"] == inbound_id(slack.parley, conv)
    [message] = outbound(slack.parley)
    assert message.delivery_status == DeliveryStatus.SENT and message.external_id == tweet["id"]
    assert state(slack.parley, conv.ref).first_response_at is not None


def test_private_on_x_sends_one_dm_then_one_public_notice(stack, serve):  # noqa: F811
    slack = serve()
    conv = mirror_x_mention(stack, slack.parley)

    said = ask(slack, f"private {conv.ref} Could you DM us your order number?", 1)
    assert "DM to @dana" in said and "public notice" in said
    wait_for(lambda: len(stack.x.created_tweets) == 1, what="the public notice")
    thread_shows(slack.parley, stack, conv, "posted the public DM notice", "✅")

    [dm] = stack.x.sent_dms
    dana = next(uid for uid, u in stack.x.users.items() if u.username == "dana")
    assert dm["participant_id"] == dana and dm["text"] == "Could you DM us your order number?"
    [nudge] = stack.x.created_tweets
    # public: the customer is named by handle, never by display name
    assert nudge["text"].endswith("Hi @dana, we've sent you a DM 📩")
    assert nudge["in_reply_to_tweet_id"] == inbound_id(slack.parley, conv)


def test_a_refused_x_dm_shows_a_failed_receipt_with_the_fallback_and_no_public_notice(stack, serve):  # noqa: F811
    slack = serve()
    conv = mirror_x_mention(stack, slack.parley)
    dana = next(uid for uid, u in stack.x.users.items() if u.username == "dana")
    stack.x.set_accepts_dms(dana, False)

    ask(slack, f"private #{conv.ref} Could you DM us your order number?", 1)
    thread_shows(slack.parley, stack, conv, "❌", "reply publicly with a link")

    assert stack.x.sent_dms == [] and stack.x.created_tweets == []
    assert [m.delivery_status for m in outbound(slack.parley)] == [DeliveryStatus.FAILED]


def test_facebook_private_reply_is_sent_once_and_a_second_one_is_refused(stack, serve):  # noqa: F811
    slack = serve()
    conv = mirror_facebook_comment(stack, slack.parley)

    said = ask(slack, f"private #{conv.ref} Please send us your order number here.", 1)
    assert "private reply (Messenger) to Fox Mulder" in said
    wait_for(lambda: len(stack.graph.private_replies) == 1, what="the private reply")
    refused = ask(slack, f"private #{conv.ref} And another thing", 2)

    assert "only one private reply per comment" in refused
    [sent] = stack.graph.private_replies
    assert sent["comment_id"] == inbound_id(slack.parley, conv)
    assert sent["text"] == "Please send us your order number here."
    thread_shows(slack.parley, stack, conv, "replied privately", "✅")
    assert len(stack.graph.private_replies) == 1


def test_a_private_reply_to_an_eight_day_old_comment_is_refused_before_calling_facebook(stack, serve):  # noqa: F811
    slack = serve()
    conv = mirror_facebook_comment(stack, slack.parley)
    # Polling looks back only a few days, so age the stored comment: the case stayed open 8 days.
    with slack.parley.store.transaction() as session:
        comment = session.exec(select(Message).where(Message.conversation_id == conv.id)).one()
        comment.created_at = datetime.now(UTC) - timedelta(days=8)
        session.add(comment)

    refused = ask(slack, f"private #{conv.ref} Sorry for the delay", 1)

    assert "8 days old" in refused and "within 7 days" in refused
    assert stack.graph.private_replies == [] and outbound(slack.parley) == []


def test_messenger_reply_is_sent_in_the_conversation(stack, serve):  # noqa: F811
    slack = serve()
    conv = mirror_messenger(stack, slack.parley)

    said = ask(slack, f"reply #{conv.ref} Su pedido llega mañana.", 1)
    assert "Messenger reply to Ana Ruiz" in said
    wait_for(lambda: len(stack.graph.sent_messages) == 1, what="the Messenger message")

    [sent] = stack.graph.sent_messages
    assert sent["psid"] == stack.graph.user("Ana Ruiz") and sent["text"] == "Su pedido llega mañana."
    assert sent["messaging_type"] == "RESPONSE" and sent["tag"] is None
    thread_shows(slack.parley, stack, conv, "✅")


def test_only_parley_agents_may_send_others_are_refused_and_audited(stack, serve):  # noqa: F811
    slack = serve(PARLEY_AGENTS="U0BOSS")
    conv = mirror_x_mention(stack, slack.parley)

    refused = ask(slack, f"reply #{conv.ref} Sure, here you go", 1)
    refused_private = ask(slack, f"private #{conv.ref} Sure, here you go", 2)
    ask(slack, f"reply #{conv.ref} The boss answers", 3, user="U0BOSS")
    wait_for(lambda: len(stack.x.created_tweets) == 1, what="the boss's tweet")

    assert "PARLEY_AGENTS" in refused and "PARLEY_AGENTS" in refused_private
    assert [t["text"].endswith("The boss answers") for t in stack.x.created_tweets] == [True]
    assert stack.x.sent_dms == []
    with slack.parley.store.transaction() as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.outcome == "refused")
                             .order_by(AuditEntry.id)).all()
    assert [(a.actor, a.action, a.conversation_id) for a in audit] == [
        (AGENT, "reply_public", conv.id), (AGENT, "reply_private", conv.id)]


def test_a_too_long_x_reply_is_refused_with_the_overflow(stack, serve):  # noqa: F811
    slack = serve()
    conv = mirror_x_mention(stack, slack.parley)

    refused = ask(slack, f"reply #{conv.ref} {'a' * 290}", 1)

    assert "10 over X's limit of 280" in refused and "take it private" in refused
    assert outbound(slack.parley) == [] and stack.x.created_tweets == []


def test_malformed_commands_say_what_to_type_and_change_nothing(stack, serve):  # noqa: F811
    slack = serve()
    conv = mirror_x_mention(stack, slack.parley)

    answers = [
        ask(slack, "reply #999 hello", 1),
        ask(slack, "reply hello there", 2),
        ask(slack, f"reply #{conv.ref}", 3),
        ask(slack, "private", 4),
        ask(slack, f"note #{conv.ref}   ", 5),
        ask(slack, f"assign #{conv.ref} bob", 6),
        ask(slack, f"snooze #{conv.ref} soon", 7),
        ask(slack, f"snooze #{conv.ref}", 8),
        ask(slack, f"resolve #{conv.ref} now please", 9),
    ]

    assert "no conversation #999" in answers[0] and "/social queue" in answers[0]
    assert "`hello` is not a conversation reference" in answers[1] and "/social reply #N &lt;text&gt;" in answers[1]
    assert "Missing text" in answers[2] and f"/social reply #{conv.ref} " in answers[2]
    assert "Missing a conversation reference" in answers[3]
    assert "Missing text" in answers[4]
    assert "`bob` is not a Slack person" in answers[5] and "`me`" in answers[5]
    assert "`soon` is not a snooze time" in answers[6] and "2h" in answers[6]
    assert "How long?" in answers[7]
    assert "takes only the reference" in answers[8]
    with slack.parley.store.transaction() as session:
        assert session.exec(select(func.count()).select_from(AuditEntry)).one() == 0
        assert session.exec(select(func.count()).select_from(Message)
                            .where(Message.direction != Direction.INBOUND)).one() == 0
    assert state(slack.parley, conv.ref).status == "open"
    assert stack.x.created_tweets == [] and stack.x.sent_dms == []


# --- notes and case state ------------------------------------------------------------------------
def test_a_note_is_stored_and_echoed_in_the_thread_and_never_sent(stack, serve):  # noqa: F811
    slack = serve()
    conv = mirror_x_mention(stack, slack.parley)

    # Slack sends & < > as entities in command text.
    said = ask(slack, f"note #{conv.ref} Called the warehouse &amp; &lt;they&gt; found it", 1)
    thread_shows(slack.parley, stack, conv, "(internal note)", "Called the warehouse")

    assert "never sent to the customer" in said
    echo = next(t for t in thread_replies(stack, conv) if "(internal note)" in t)
    assert f"📝 <@{AGENT}> (internal note): Called the warehouse &amp; &lt;they&gt; found it" in echo
    with slack.parley.store.transaction() as session:
        [note] = session.exec(select(Message).where(Message.direction == Direction.NOTE)).all()
    assert note.text == "Called the warehouse & <they> found it" and note.author_id == AGENT
    assert stack.x.created_tweets == [] and stack.x.sent_dms == []


def test_assign_unassign_resolve_reopen_change_the_case_and_its_card(stack, serve):  # noqa: F811
    slack = serve()
    parley = slack.parley
    conv = mirror_x_mention(stack, parley)
    ref = conv.ref

    assert ask(slack, f"assign #{ref} me", 1) == f"#{ref} is now assigned to you."
    assert ask(slack, f"assign {ref} me", 2) == f"#{ref} was already assigned to you."
    assert state(parley, ref).assignee == AGENT
    assert ask(slack, f"assign #{ref} <@U0OTHER|fox>", 3) == f"#{ref} is now assigned to <@U0OTHER>."
    assert state(parley, ref).assignee == "U0OTHER"
    run_until(parley, lambda: "U0OTHER" in card_now(stack, conv))
    assert ask(slack, f"unassign #{ref}", 4) == f"#{ref} is no longer assigned to anyone."
    assert ask(slack, f"unassign #{ref}", 5) == f"#{ref} was not assigned to anyone."
    assert state(parley, ref).assignee is None

    versions = len(card_updates(stack, conv))
    assert "Resolved" in ask(slack, f"resolve #{ref}", 6)
    assert ask(slack, f"resolve #{ref}", 7) == f"#{ref} was already resolved."
    assert state(parley, ref).status == "resolved"
    run_until(parley, lambda: len(card_updates(stack, conv)) > versions
              and "resolved" in card_now(stack, conv).lower())
    assert "Reopened" in ask(slack, f"reopen #{ref}", 8)
    assert ask(slack, f"reopen #{ref}", 9) == f"#{ref} is already open."
    assert state(parley, ref).status == "open"

    with parley.store.transaction() as session:
        actions = session.exec(select(AuditEntry.action).where(AuditEntry.conversation_id == conv.id)
                               .order_by(AuditEntry.id)).all()
    assert actions == ["assign", "assign", "unassign", "resolve", "reopen"]  # repeats changed nothing


def test_snooze_for_a_duration_and_until_tomorrow_morning_in_the_callers_time_zone(stack, serve):  # noqa: F811
    stack.slack.add_user(AGENT, "agent", tz="America/New_York")
    slack = serve()
    parley = slack.parley
    conv = mirror_x_mention(stack, parley)

    before = datetime.now(UTC)
    said = ask(slack, f"snooze #{conv.ref} 2h", 1)
    after = datetime.now(UTC)
    snoozed = state(parley, conv.ref)
    assert f"Snoozed #{conv.ref} until <!date^" in said
    assert snoozed.status == "snoozed"
    assert before + timedelta(hours=2) <= snoozed.snoozed_until <= after + timedelta(hours=2)
    run_until(parley, lambda: "snoozed" in card_now(stack, conv).lower())

    ask(slack, f"snooze #{conv.ref} tomorrow", 2)
    until = state(parley, conv.ref).snoozed_until.astimezone(ZoneInfo("America/New_York"))
    today = datetime.now(ZoneInfo("America/New_York")).date()
    assert (until.hour, until.minute) == (9, 0) and until.date() == today + timedelta(days=1)
