"""Writing and submitting a reply: RFC 5322 threading headers, the customer's message quoted below,
submitted over SMTP (stdlib `smtplib`) with TLS and AUTH.

The reply carries `In-Reply-To: <the customer's message>` and `References: <its References> <its
id>` (RFC 5322 §3.6.4, https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4), a "Re: " subject
(§3.6.5) and a Message-ID made from the stored reply's key (`ids.reply_id`), so the customer's next
message threads back into the same conversation and a reply is one message however it is sent.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from connectors.base import SendError
from connectors.email import ids, parse
from connectors.email.servers import Endpoint

TIMEOUT = 30.0


def compose(*, sender: str, sender_name: str, to: str, text: str, message_id: str,
            parent: EmailMessage | None, parent_id: str | None, now: datetime) -> EmailMessage:
    """The reply to `parent` (the customer's message, when the mailbox still has it)."""
    reply = EmailMessage()
    reply["From"] = formataddr((sender_name, sender)) if sender_name else sender
    reply["To"] = to
    # One line: an encoded-word may decode to a line break, which must not start a header of its own.
    subject = " ".join(str(parent.get("Subject") or "").split()) if parent is not None else ""
    reply["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject or 'your message'}"
    reply["Date"] = format_datetime(now.astimezone(UTC))
    reply["Message-ID"] = f"<{message_id}>"
    if parent_id:
        refs = ids.ids_in(str(parent.get("References") or "")) if parent is not None else []
        reply["In-Reply-To"] = f"<{parent_id}>"
        reply["References"] = " ".join(f"<{i}>" for i in ids.references(refs, parent_id))
    reply.set_content(text.strip() + "\n" + (quoted(parent) if parent is not None else ""))
    return reply


def quoted(parent: EmailMessage) -> str:
    """"On <date>, <who> wrote:" and the customer's text, each line after "> "."""
    address, name = parse.sender(parent)
    when = str(parent.get("Date") or "").strip()
    who = f"{name} <{address}>" if name else address
    lines = parse.body_text(parent).splitlines() or [""]
    body = "\n".join(f"> {line}" if line else ">" for line in lines)
    return f"\n{'On ' + when + ', ' if when else ''}{who} wrote:\n{body}\n"


@contextmanager
def session(endpoint: Endpoint, username: str, password: str, context: ssl.SSLContext) -> Iterator[smtplib.SMTP]:
    """A logged-in SMTP session over TLS; SendError before anything is sent: retryable for an outage,
    final for a refused login."""
    try:
        server = _open(endpoint, context)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"Couldn't reach the mail server {endpoint} ({type(exc).__name__}); will try again.",
                        code=type(exc).__name__, retryable=True) from None
    with server:
        try:
            _starttls(server, endpoint, context)
            if username:
                server.login(username, password)
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(f"The mail server {endpoint} refused the login ({exc.smtp_code}); check EMAIL_USERNAME "
                            "and EMAIL_PASSWORD.", code=str(exc.smtp_code)) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"The mail server {endpoint} failed before sending ({type(exc).__name__}); "
                            "will try again.", code=type(exc).__name__, retryable=True) from None
        yield server


def submit(endpoint: Endpoint, username: str, password: str, context: ssl.SSLContext,
           message: EmailMessage) -> None:
    """Send `message` once; SendError in plain words. A failure before the server took the message
    is worth retrying (an outage) or not (a refused address, a wrong password); one while it was
    taking the message may have been delivered, and says so."""
    with session(endpoint, username, password, context) as server:
        _send(server, message)


def login_only(endpoint: Endpoint, username: str, password: str, context: ssl.SSLContext) -> None:
    """Log in and out (`parley check`); SendError in plain words."""
    with session(endpoint, username, password, context):
        pass


def _open(endpoint: Endpoint, context: ssl.SSLContext) -> smtplib.SMTP:
    if endpoint.implicit_tls:
        return smtplib.SMTP_SSL(endpoint.host, endpoint.port, context=context, timeout=TIMEOUT)
    return smtplib.SMTP(endpoint.host, endpoint.port, timeout=TIMEOUT)


def _starttls(server: smtplib.SMTP, endpoint: Endpoint, context: ssl.SSLContext) -> None:
    server.ehlo()
    if endpoint.implicit_tls:
        return
    if server.has_extn("starttls"):
        server.starttls(context=context)
        server.ehlo()
    elif not endpoint.loopback:
        raise SendError(f"The mail server {endpoint} does not offer STARTTLS; use smtps:// so the password and "
                        "the customer's e-mail are not sent in clear.", code="no-starttls")


def _send(server: smtplib.SMTP, message: EmailMessage) -> None:
    try:
        refused = server.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = ", ".join(f"{code}" for code, _ in exc.recipients.values())
        raise SendError(f"The mail server refused the customer's address {message['To']} ({codes}). Nothing was "
                        "sent.", code=codes) from None
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        retry = 400 <= exc.smtp_code < 500  # 4xx: a temporary refusal (RFC 5321 §4.2.1)
        raise SendError(f"The mail server refused the message ({exc.smtp_code} "
                        f"{_text(exc.smtp_error)[:200]})"
                        + ("; will try again." if retry else ". Nothing was sent."),
                        code=str(exc.smtp_code), retryable=retry) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"The connection to the mail server broke while it was taking the message "
                        f"({type(exc).__name__}): it may have been sent. Check the support mailbox's Sent folder "
                        "or the customer's thread before sending again.", code="unknown") from None
    if refused:
        raise SendError(f"The mail server refused {', '.join(refused)}.", code="refused")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
