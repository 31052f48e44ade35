"""E-mail end to end: the real app against a real Dovecot (IMAP) and aiosmtpd (SMTP) on loopback,
and the Slack emulator.

An e-mail becomes one card; a follow-up (In-Reply-To, or References to our reply) joins its
thread; auto-replies and bounces make no case; re-reading from scratch and a restart store nothing
twice; `/social reply` sends one e-mail over SMTP with the threading headers and a ✅ receipt;
"take it private" is refused in plain words.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlmodel import delete, select

from bot.store.models import Conversation, Cursor, DeliveryStatus, Direction, Message
from sandbox.emulators.mail import PASSWORD, USER, Dovecot, SmtpServer
from tests.connectors.email.mail_fixtures import dovecot, mail, smtp  # noqa: F401  (fixtures)
from tests.e2e.conftest import CHANNEL, run_until, stack_env, undelivered
from tests.e2e.slack_requests import SlackSession, serve, wait_for  # noqa: F401  (serve is a fixture)
from tests.e2e.test_process import card_keys, kill_9_then_restart

pytestmark = pytest.mark.e2e


def mailbox_env(dovecot: Dovecot, smtp: SmtpServer) -> dict[str, str]:  # noqa: F811
    assert dovecot.certificates is not None
    return {"EMAIL_IMAP_URL": dovecot.url, "EMAIL_SMTP_URL": smtp.url, "EMAIL_ADDRESS": USER,
            "EMAIL_PASSWORD": PASSWORD, "EMAIL_CA_FILE": str(dovecot.certificates.ca_file),
            "EMAIL_POLL_INTERVAL": "1s", "PARLEY_BACKFILL": "30d"}


@pytest.fixture
def serve_email(serve, dovecot: Dovecot, smtp: SmtpServer) -> Callable[[], SlackSession]:  # noqa: F811
    """`serve_email()`: a Parley served with the support mailbox on the real mail servers."""
    return lambda: serve(**mailbox_env(dovecot, smtp))


def email_conversations(parley) -> list[Conversation]:
    with parley.store.transaction() as session:
        return list(session.exec(select(Conversation).where(Conversation.platform == "email")
                                 .order_by(Conversation.id)).all())


def email_messages(parley) -> list[Message]:
    with parley.store.transaction() as session:
        return list(session.exec(select(Message).where(Message.platform == "email").order_by(Message.id)).all())


def cards(stack) -> list:
    return [p for p in stack.slack.posts(CHANNEL) if p.thread_ts is None]


def test_one_card_per_thread_no_case_for_machines_and_nothing_twice(stack, serve_email, dovecot):  # noqa: F811
    dovecot.deliver(mail("m1@customer.example", "My order #1042 has not arrived."))
    dovecot.deliver(mail("m2@customer.example", "Any news?", subject="Re: Where is my order?",
                         in_reply_to="m1@customer.example"))
    dovecot.deliver(mail("ooo@customer.example", "I am out of the office.", in_reply_to="m1@customer.example",
                         Auto_Submitted="auto-replied"))
    bounce = mail("dsn@mx.example", "Delivery failed", sender="Mail Delivery System <mailer-daemon@mx.example>")
    bounce.make_mixed()
    bounce.set_type("multipart/report")
    dovecot.deliver(bounce)
    slack = serve_email()
    parley = slack.parley
    run_until(parley, lambda: len(email_messages(parley)) == 2 and undelivered(parley) == 0)

    [case] = email_conversations(parley)
    assert (case.kind, case.thread_key) == ("dm", "m1@customer.example")
    [card] = cards(stack)
    blocks = json.dumps(card.blocks, ensure_ascii=False)
    assert "✉️ E-mail" in blocks and "*Ana Lima* ana@customer.example" in blocks  # an address takes no "@"
    thread = stack.slack.thread(CHANNEL, case.slack_ts)
    assert any("Any news?" in m.text for m in thread[1:])  # the follow-up, in the card's thread

    with parley.store.transaction() as session:  # forget where every stream was: read all again
        session.exec(delete(Cursor))  # type: ignore[call-overload]
    restarted = serve_email()  # a second process on the same database, reading from scratch
    run_until(restarted.parley, lambda: undelivered(restarted.parley) == 0
              and restarted.parley.store.cursors().get("email:INBOX") is not None)
    again = serve_email()  # and one more restart, from the stored cursor
    run_until(again.parley, lambda: undelivered(again.parley) == 0)
    assert len(email_messages(parley)) == 2 and len(email_conversations(parley)) == 1
    assert len(cards(stack)) == 1


def test_reply_goes_once_over_smtp_threaded_with_a_receipt(stack, serve_email, dovecot, smtp):  # noqa: F811
    dovecot.deliver(mail("m1@customer.example", "My order #1042 has not arrived."))
    slack = serve_email()
    parley = slack.parley
    run_until(parley, lambda: len(email_conversations(parley)) == 1 and undelivered(parley) == 0)
    [case] = email_conversations(parley)

    assert slack.command(f"reply #{case.ref} It ships today, sorry for the wait.").status_code == 200
    assert slack.command(f"private #{case.ref} Psst").status_code == 200
    def outbound() -> list[Message]:
        with parley.store.transaction() as session:
            return list(session.exec(select(Message).where(Message.direction == Direction.OUTBOUND)).all())

    wait_for(lambda: [m.delivery_status for m in outbound()] == [DeliveryStatus.SENT], what="the e-mail sent")
    [sent], [out] = smtp.messages, outbound()
    assert out.kind == "email_reply"
    assert sent["Message-ID"] == f"<{out.external_id}>"  # stored: the customer's answer threads back
    assert (sent["From"], sent["To"], sent["Subject"]) == (USER, "ana@customer.example", "Re: Where is my order?")
    assert (sent["In-Reply-To"], sent["References"]) == ("<m1@customer.example>", "<m1@customer.example>")
    assert "It ships today, sorry for the wait." in sent.get_content()
    answers = [r.get("text", "") for r in slack.responses(2)]
    assert any("private already" in a for a in answers)

    def receipts() -> list[str]:
        return [m.text for m in stack.slack.thread(CHANNEL, case.slack_ts)[1:] if "✅" in m.text]

    run_until(parley, lambda: len(receipts()) == 1)
    parley.sender.deliver_pending()  # a retry of the outbox finds nothing left to send
    assert len(smtp.messages) == 1

    dovecot.deliver(mail("m3@customer.example", "Great, thanks!", subject="Re: Where is my order?",
                         in_reply_to=out.external_id, references=f"<m1@customer.example> <{out.external_id}>"))
    run_until(parley, lambda: len(email_messages(parley)) == 3 and undelivered(parley) == 0)
    assert len(email_conversations(parley)) == 1
    assert len(cards(stack)) == 1

    assert slack.command("find order #1042").status_code == 200  # /social find and customer know e-mail too
    assert slack.command("customer ana@customer.example").status_code == 200
    found, customer = (json.dumps(r, ensure_ascii=False) for r in slack.responses(4)[2:])
    assert "E-mail" in found and f"#{case.ref}" in found
    assert f"#{case.ref}" in customer


@pytest.mark.slow
def test_kill_9_mid_delivery_then_restart_mirrors_each_e_mail_exactly_once(stack, database_url, dovecot,  # noqa: F811
                                                                            smtp):  # noqa: F811
    total = 30
    for i in range(total):
        dovecot.deliver(mail(f"crash{i}@customer.example", f"Order {i} never arrived",
                             sender=f"Customer {i} <c{i}@customer.example>", date=format_datetime(datetime.now(UTC))))
    env = stack_env(stack, database_url, PARLEY_POLL_INTERVAL="1s", PARLEY_SLACK_MIN_INTERVAL="150ms",
                    **mailbox_env(dovecot, smtp))
    cards = card_keys(kill_9_then_restart(stack, env, total))
    assert len(cards) == total == len(set(cards))


def test_idle_brings_new_mail_to_slack_long_before_the_next_poll(stack, serve, dovecot, smtp):  # noqa: F811
    slack = serve(**(mailbox_env(dovecot, smtp) | {"EMAIL_POLL_INTERVAL": "1h", "PARLEY_POLL_INTERVAL": "1h"}))
    parley = slack.parley
    parley.start_background()  # the schedule's first poll, then IDLE on INBOX
    wait_for(lambda: parley.store.cursors().get("email:INBOX") is not None, what="the first poll")
    dovecot.deliver(mail("pushed@customer.example", "Hello? Anyone there?", date=format_datetime(datetime.now(UTC))))
    wait_for(lambda: len(cards(stack)) == 1, timeout=20, what="the card, woken by IDLE")
    [case] = email_conversations(parley)
    assert case.thread_key == "pushed@customer.example"


def test_an_sla_override_for_email_applies_and_the_breach_is_noticed_once(stack, serve, dovecot, smtp,  # noqa: F811
                                                                          tmp_path):
    config = tmp_path / "parley.yaml"
    config.write_text("sla:\n  overrides:\n    - {platform: email, first_response: {urgent: 2m, high: 2m, "
                      "normal: 2m, low: 2m}}\n")
    now = datetime.now(UTC)
    dovecot.deliver(mail("late@customer.example", "Still waiting for my refund.", date=format_datetime(now)))
    slack = serve(**(mailbox_env(dovecot, smtp) | {"PARLEY_CONFIG": str(config)}))
    parley = slack.parley
    run_until(parley, lambda: len(email_conversations(parley)) == 1 and undelivered(parley) == 0)
    [case] = email_conversations(parley)

    _, job = parley.jobs["reminders"]
    job.run(now + timedelta(minutes=3))  # past the e-mail target of 2 minutes, long before the default
    job.run(now + timedelta(minutes=3, seconds=5))  # claimed once: no second notice
    run_until(parley, lambda: undelivered(parley) == 0)
    thread = [m.text for m in stack.slack.thread(CHANNEL, case.slack_ts)[1:]]
    assert sum("is overdue" in t for t in thread) == 1
