"""A real Dovecot (IMAP) and aiosmtpd (SMTP) on loopback for each test, and a connector on them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from connectors.email.connector import EmailConnector
from sandbox.emulators.mail import PASSWORD, USER, Dovecot, SmtpServer

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot().start()
    yield server
    server.stop()


@pytest.fixture
def smtp(dovecot: Dovecot) -> Iterator[SmtpServer]:
    assert dovecot.certificates is not None
    server = SmtpServer(dovecot.certificates).start()
    yield server
    server.stop()


@pytest.fixture
def connector(dovecot: Dovecot, smtp: SmtpServer) -> Callable[..., EmailConnector]:
    def make(**overrides: Any) -> EmailConnector:
        assert dovecot.certificates is not None
        options: dict[str, Any] = dict(
            imap_url=dovecot.url, smtp_url=smtp.url, address=USER, username=USER, password=PASSWORD,
            interval=timedelta(0), backfill=timedelta(days=3650), ca_file=dovecot.certificates.ca_file,
            clock=lambda: NOW)
        return EmailConnector(**(options | overrides))
    return make


def mail(message_id: str, text: str = "My order #1042 has not arrived.", *,
         sender: str = "Ana Lima <ana@customer.example>",
         subject: str = "Where is my order?", in_reply_to: str | None = None, references: str | None = None,
         date: str = "Fri, 04 Dec 2026 09:00:00 +0000", **headers: str) -> EmailMessage:
    """A customer's e-mail to the support address."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, USER, subject
    message["Message-ID"], message["Date"] = f"<{message_id}>", date
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        message["References"] = references
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message
