"""The e-mail connector against a real Dovecot (IMAP, STARTTLS) and aiosmtpd (SMTP, STARTTLS + AUTH)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from connectors.base import Batch, DirectMessage, PublicReply, SendError, Unsupported
from connectors.checks import Status
from connectors.email import ids
from connectors.email.connector import EmailConnector
from connectors.email.servers import parse_url
from connectors.testing import FakeConnector, mastodon_rules
from sandbox.emulators.mail import USER, Dovecot, SmtpServer
from tests.connectors.email.mail_fixtures import NOW, mail

Make = Callable[..., EmailConnector]


def poll(connector: EmailConnector, cursors: dict[str, str | None]) -> list[Batch]:
    """One poll, its cursors applied to `cursors` as the store would."""
    batches = list(connector.poll(cursors, NOW))
    for batch in batches:
        if batch.cursor is not None:
            cursors[batch.stream] = batch.cursor
    return batches


def heard(batches: list[Batch]) -> list[str]:
    return [m.external_id for b in batches for m in b.messages]


def test_poll_reads_each_message_once_with_a_uidvalidity_uid_cursor(connector: Make, dovecot: Dovecot) -> None:
    dovecot.deliver(mail("m1@c.example"))
    dovecot.deliver(mail("auto@c.example", "Out of office", Auto_Submitted="auto-replied"))
    email, cursors = connector(), {}
    assert heard(poll(email, cursors)) == ["m1@c.example"]  # the auto-reply is read past, not heard
    validity, _, uid = (cursors["email:INBOX"] or "").partition(":")
    assert validity.isdigit() and uid == "2" and email.health.ok
    assert heard(poll(email, cursors)) == []
    dovecot.deliver(mail("m2@c.example", "Any news?", in_reply_to="m1@c.example"))
    assert heard(poll(email, cursors)) == ["m2@c.example"]
    assert heard(poll(connector(), dict(cursors))) == []  # a restart reads from the stored cursor


def test_every_folder_is_its_own_stream(connector: Make, dovecot: Dovecot) -> None:
    dovecot.deliver(mail("a@c.example"))
    dovecot.deliver(mail("b@c.example"), folder="Soporte técnico")  # a space and a non-ASCII letter
    cursors: dict[str, str | None] = {}
    batches = poll(connector(folders=("INBOX", "Soporte técnico")), cursors)
    assert heard(batches) == ["a@c.example", "b@c.example"]
    assert set(cursors) == {"email:INBOX", "email:Soporte técnico"}


def test_a_renumbered_folder_is_read_again_and_the_store_dedupes_it(connector: Make, dovecot: Dovecot) -> None:
    dovecot.deliver(mail("a@c.example"), folder="Cases")
    email, cursors = connector(folders=("Cases",)), {}
    poll(email, cursors)
    imap = dovecot.client()
    imap.delete('"Cases"')  # a recreated folder gets a new UIDVALIDITY (RFC 9051 §2.3.1.1)
    imap.logout()
    dovecot.deliver(mail("a@c.example"), folder="Cases")
    before = cursors["email:Cases"]
    assert heard(poll(email, cursors)) == ["a@c.example"]  # same Message-ID: the store keeps one
    assert cursors["email:Cases"] != before


def test_a_new_folder_starts_at_the_backfill_date_and_reports_what_it_left_out(connector: Make,
                                                                                dovecot: Dovecot) -> None:
    dovecot.deliver(mail("old@c.example"), received=NOW - timedelta(days=10))
    dovecot.deliver(mail("new@c.example"), received=NOW - timedelta(hours=1))
    cursors: dict[str, str | None] = {}
    batches = poll(connector(backfill=timedelta(days=2)), cursors)
    assert heard(batches) == ["new@c.example"]
    left_out = json.loads(cursors["email:INBOX#left-out"] or "")
    assert left_out["count"] == 1
    assert (cursors["email:INBOX"] or "").endswith(":2")


def test_the_poll_interval_is_kept(connector: Make, dovecot: Dovecot) -> None:
    dovecot.deliver(mail("a@c.example"))
    email = connector(interval=timedelta(minutes=5))
    assert heard(list(email.poll({}, NOW))) == ["a@c.example"]
    assert list(email.poll({}, NOW + timedelta(minutes=1))) == []
    assert heard(list(email.poll({}, NOW + timedelta(minutes=5)))) == ["a@c.example"]


def test_a_wrong_password_is_recorded_in_health_not_raised(connector: Make) -> None:
    email = connector(password="wrong")
    assert list(email.poll({}, NOW)) == []
    assert not email.health.ok and "refused the login" in (email.health.last_error or "")
    assert "wrong" not in (email.health.last_error or "")


def test_reply_threads_quotes_and_goes_to_the_reply_to_address(connector: Make, dovecot: Dovecot,
                                                               smtp: SmtpServer) -> None:
    dovecot.deliver(mail("m2@c.example", "Any news?", subject="Re: Where is my order?", in_reply_to="m1@c.example",
                         references="<m1@c.example>", Reply_To="orders@customer.example"))
    result = connector(sender_name="Acme Support").send(
        DirectMessage("ana@customer.example", "It ships today.", in_reply_to="m2@c.example", key="view-1"))
    [sent] = smtp.messages
    assert result.external_id == ids.reply_id("view-1", USER)
    assert sent["Message-ID"] == f"<{result.external_id}>"
    assert (sent["From"], sent["To"], sent["Subject"]) == (
        "Acme Support <support@example.com>", "orders@customer.example", "Re: Where is my order?")
    assert sent["In-Reply-To"] == "<m2@c.example>"
    assert sent["References"] == "<m1@c.example> <m2@c.example>"
    body = sent.get_content().replace("\r\n", "\n")  # as it came over the wire
    assert body.startswith("It ships today.\n") and "Ana Lima <ana@customer.example> wrote:\n> Any news?" in body
    assert smtp.recorder.envelopes == [(USER, ["orders@customer.example"])]


def test_reply_to_a_message_no_longer_in_the_mailbox_still_threads(connector: Make, smtp: SmtpServer) -> None:
    connector().send(DirectMessage("ana@customer.example", "Hello", in_reply_to="gone@c.example", key="k"))
    [sent] = smtp.messages
    assert (sent["To"], sent["Subject"], sent["In-Reply-To"]) == ("ana@customer.example", "Re: your message",
                                                                  "<gone@c.example>")


def test_smtp_refusals_are_send_errors_in_plain_words(connector: Make, smtp: SmtpServer) -> None:
    with pytest.raises(SendError) as wrong:
        connector(password="wrong").send(DirectMessage("ana@customer.example", "Hi", key="k"))
    assert "refused the login" in wrong.value.message and not wrong.value.retryable
    with pytest.raises(SendError) as unknown:
        connector().send(DirectMessage("h:abc", "Hi", key="k"))
    assert "address is not known" in unknown.value.message
    with pytest.raises(Unsupported):
        connector().send(PublicReply("x", "Hi"))
    assert smtp.messages == []


def test_an_unreachable_smtp_server_is_retryable(connector: Make) -> None:
    with pytest.raises(SendError) as down:
        connector(smtp_url="smtp://127.0.0.1:1").send(DirectMessage("ana@customer.example", "Hi", key="k"))
    assert down.value.retryable


def test_plain_text_login_is_refused_off_loopback() -> None:
    assert parse_url("imap://mail.example.com", "imap").loopback is False
    assert parse_url("imaps://mail.example.com", "imap").port == 993
    assert parse_url("smtp://127.0.0.1:2525", "smtp").loopback is True
    for bad in ("http://x", "smtp://user:pw@host", "smtp://"):
        with pytest.raises(ValueError):
            parse_url(bad, "smtp")


def test_doctor_logs_in_to_both_servers(connector: Make) -> None:
    assert [c.status for c in connector().doctor(NOW)] == [Status.OK, Status.OK]
    failing = connector(password="wrong", folders=("INBOX",)).doctor(NOW)
    assert [c.status for c in failing] == [Status.FAIL, Status.FAIL]
    assert all(c.fix for c in failing)


def test_a_subject_that_decodes_to_a_line_break_cannot_add_a_header(connector: Make, dovecot: Dovecot,
                                                                    smtp: SmtpServer) -> None:
    dovecot.deliver(b"From: Ana <ana@customer.example>\r\nTo: support@example.com\r\nMessage-ID: <inj@c.example>\r\n"
                    b"Subject: =?utf-8?q?Hello=0D=0ABcc:_evil@attacker.example?=\r\n\r\nHi\r\n")
    connector().send(DirectMessage("ana@customer.example", "Hi", in_reply_to="inj@c.example", key="k"))
    [sent] = smtp.messages
    assert sent["Subject"] == "Re: Hello Bcc: evil@attacker.example" and sent["Bcc"] is None
    assert smtp.recorder.envelopes == [(USER, ["ana@customer.example"])]


def test_idle_wakes_the_poll_at_once_when_mail_arrives(connector: Make, dovecot: Dovecot) -> None:
    email, woken, stop = connector(interval=timedelta(hours=1)), threading.Event(), threading.Event()
    cursors: dict[str, str | None] = {}
    poll(email, cursors)  # the first poll; the next is an hour away
    watcher = threading.Thread(target=email.watch, args=(woken.set, stop))
    watcher.start()
    try:
        assert woken.wait(10), "no wake once IDLE was open"  # mail may have come while it was not
        woken.clear()
        assert heard(poll(email, cursors)) == []
        dovecot.deliver(mail("pushed@c.example"))
        assert woken.wait(10), "IDLE did not report the new message"
        assert heard(poll(email, cursors)) == ["pushed@c.example"]  # the interval is skipped once
        assert heard(poll(email, cursors)) == []
    finally:
        stop.set()
        watcher.join(10)
    assert not watcher.is_alive()


def test_a_network_without_push_watches_nothing() -> None:
    FakeConnector(mastodon_rules()).watch(lambda: None, threading.Event())  # returns at once


def test_a_copy_of_each_reply_is_filed_read_in_the_sent_folder(connector: Make, dovecot: Dovecot,
                                                              smtp: SmtpServer) -> None:
    dovecot.deliver(mail("m1@c.example"))
    email = connector(sent_folder="Sent", folders=("INBOX", "Sent"))
    sent = email.send(DirectMessage("ana@customer.example", "On its way.", in_reply_to="m1@c.example", key="k1"))
    imap = dovecot.client()
    imap.select('"Sent"', readonly=True)
    _, data = imap.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    imap.logout()
    assert b"\\Seen" in data[0][0] and f"<{sent.external_id}>".encode() in data[0][1]
    assert heard(poll(email, {})) == ["m1@c.example"]  # our own reply, read back, is no case


def test_a_sent_folder_that_refuses_the_copy_does_not_fail_the_send(connector: Make, smtp: SmtpServer,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    connector(sent_folder="No\\Such/../Folder\x7f").send(DirectMessage("ana@customer.example", "Hi", key="k"))
    assert len(smtp.messages) == 1
    assert "the reply was sent but not filed" in caplog.text
