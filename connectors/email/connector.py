"""A support mailbox: IMAP to hear (`mailbox.py`), SMTP to answer (`outgoing.py`).

Ears: every folder of `folders` is polled with its own UIDVALIDITY:UID cursor, at most once per
`interval` unless IMAP IDLE on the first folder reports new mail (`watch`, `idle.py`); each message
becomes one customer message threaded by Message-ID / In-Reply-To / References (`parse.py`),
machine-sent mail is dropped. Mouth: a `DirectMessage` answering the
customer's message `in_reply_to` is an e-mail from `address`, its subject, threading headers and
quoted text taken from that message as the mailbox holds it (looked up by Message-ID), its
Message-ID made from the stored reply's `key`.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from imapclient import IMAPClient

from connectors import backfill, checks
from connectors.base import (
    Action,
    Batch,
    Connector,
    DirectMessage,
    InboundMessage,
    SendError,
    SendResult,
    Unsupported,
)
from connectors.checks import Check
from connectors.email import idle, ids, mailbox, outgoing, parse
from connectors.email.mailbox import MailboxError
from connectors.email.rules import RULES
from connectors.email.servers import parse_url, tls_context

log = logging.getLogger(__name__)


class EmailConnector(Connector):
    """One support address: `imap_url` and `smtp_url` as in `servers.py`, one login for both."""

    rules = RULES

    def __init__(self, *, imap_url: str, smtp_url: str, address: str, username: str, password: str,
                 folders: tuple[str, ...] = ("INBOX",), interval: timedelta = timedelta(seconds=60),
                 backfill: timedelta = backfill.DEFAULT_BACKFILL, sender_name: str = "",
                 ca_file: Path | None = None, sent_folder: str | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__()
        self.imap, self.smtp = parse_url(imap_url, "imap"), parse_url(smtp_url, "smtp")
        self.address, self.sender_name = address, sender_name
        self.username, self.password = username, password
        self.folders, self.interval, self.backfill = folders, interval, backfill
        self.context: ssl.SSLContext = tls_context(ca_file)
        self.clock = clock  # the reply's Date header
        self.sent_folder = sent_folder  # where a copy of each reply is filed, as mail clients do
        self._last_poll: datetime | None = None
        self._woken = threading.Event()  # IDLE saw new mail: the next poll skips the interval

    @property
    def streams(self) -> tuple[str, ...]:
        return tuple(mailbox.stream(f) for f in self.folders)

    # --- hearing ------------------------------------------------------------------------------
    def poll(self, cursors: Mapping[str, str | None], now: datetime) -> Iterator[Batch]:
        """Each folder's new mail, in UID order. IMAP trouble ends the poll and is kept in `health`;
        what was stored before it stays stored with its cursor."""
        if self._last_poll is not None and now - self._last_poll < self.interval and not self._woken.is_set():
            return
        self._woken.clear()
        self._last_poll = now
        try:
            session = self._login()
        except MailboxError as exc:
            self._trouble(now, str(exc))
            return
        try:
            def read(raw: bytes) -> InboundMessage | None:
                return parse.inbound_or_unreadable(raw, self.address, now)

            for folder in self.folders:
                yield from mailbox.read_folder(session, folder, cursors.get(mailbox.stream(folder)), now,
                                               self.backfill, read)
        except MailboxError as exc:
            self._trouble(now, str(exc))
            return
        except (imaplib.IMAP4.error, OSError) as exc:
            self._trouble(now, f"the IMAP connection to {self.imap} failed ({type(exc).__name__})")
            return
        finally:
            _logout(session)
        self.health.succeeded(now)

    def watch(self, wake: Callable[[], None], stop: threading.Event) -> None:
        """IMAP IDLE on the first folder (`idle.py`): new mail there makes the next poll run at once."""
        def woken() -> None:
            self._woken.set()
            wake()

        def open_client() -> IMAPClient:
            return idle.connect(self.imap, self.username, self.password, self.context)

        idle.watch(open_client, self.folders[0], woken, stop)

    def _trouble(self, now: datetime, message: str) -> None:
        log.warning("e-mail: %s", message)
        self.health.failed(now, message)

    def _login(self) -> imaplib.IMAP4:
        return mailbox.connect(self.imap, self.username, self.password, self.context)

    # --- answering ----------------------------------------------------------------------------
    def send(self, action: Action) -> SendResult:
        """The e-mail reply (see the module docstring); SendError in plain words, nothing sent."""
        if not isinstance(action, DirectMessage):
            raise Unsupported(self.platform, action)
        parent_id = action.in_reply_to if action.in_reply_to and not ids.is_digest(action.in_reply_to) else None
        parent = self._parent(parent_id)
        to = parse.reply_address(parent) if parent is not None else action.recipient
        if "@" not in to:
            raise SendError("The customer's e-mail address is not known (their message is no longer in the "
                            "mailbox). Nothing was sent.", code="no-address")
        # The stored reply's key always comes with it; without one, a fresh id (no idempotency to keep).
        message_id = ids.reply_id(action.key, self.address) if action.key else make_msgid().strip("<>")
        try:
            reply = outgoing.compose(sender=self.address, sender_name=self.sender_name, to=to, text=action.text,
                                     message_id=message_id, parent=parent, parent_id=parent_id, now=self.clock())
        except (ValueError, TypeError) as exc:  # a header the customer's mail made unwritable
            raise SendError(f"The reply could not be written as an e-mail ({exc}). Nothing was sent.",
                            code="compose") from None
        outgoing.submit(self.smtp, self.username, self.password, self.context, reply)
        if self.sent_folder:
            self._file_copy(reply)
        return SendResult(message_id)

    def _file_copy(self, reply: EmailMessage) -> None:
        """File the sent reply in `sent_folder` (read). The reply is out already: trouble here is
        logged, never a failed send."""
        try:
            session = self._login()
            try:
                mailbox.file_copy(session, self.sent_folder or "", reply.as_bytes(), self.clock())
            finally:
                _logout(session)
        except (MailboxError, imaplib.IMAP4.error, OSError) as exc:
            log.warning("e-mail: the reply was sent but not filed in %r (%s)", self.sent_folder, exc)

    def _parent(self, parent_id: str | None) -> EmailMessage | None:
        """The customer's message being answered, from the mailbox; None if it is gone."""
        if parent_id is None:
            return None
        try:
            session = self._login()
            try:
                raw = mailbox.find(session, self.folders, parent_id)
            finally:
                _logout(session)
        except (MailboxError, imaplib.IMAP4.error, OSError) as exc:
            raise SendError(f"Couldn't read the customer's message from the mailbox ({exc}); will try again.",
                            code="imap", retryable=True) from None
        return parse.read(raw) if raw is not None else None

    # --- parley check -------------------------------------------------------------------------
    def doctor(self, now: datetime, *, subscribe: bool = False) -> list[Check]:
        """Log in to both servers and open every folder; never raises."""
        found: list[Check] = []
        try:
            session = self._login()
            try:
                for folder in self.folders:
                    mailbox.examine(session, folder)
            finally:
                _logout(session)
            found.append(checks.ok("email", "email.imap", f"IMAP login to {self.imap} as {self.username} works; "
                                   f"folders {', '.join(self.folders)} open"))
        except (MailboxError, imaplib.IMAP4.error, OSError) as exc:
            found.append(checks.fail("email", "email.imap", str(exc), "check EMAIL_IMAP_URL, EMAIL_USERNAME, "
                                     "EMAIL_PASSWORD and EMAIL_FOLDERS"))
        try:
            outgoing.login_only(self.smtp, self.username, self.password, self.context)
            found.append(checks.ok("email", "email.smtp", f"SMTP login to {self.smtp} as {self.username} works"))
        except SendError as exc:
            found.append(checks.fail("email", "email.smtp", exc.message, "check EMAIL_SMTP_URL, EMAIL_USERNAME "
                                     "and EMAIL_PASSWORD"))
        return found


def _logout(session: imaplib.IMAP4) -> None:
    with contextlib.suppress(imaplib.IMAP4.error, OSError):  # the server went away: nothing left to close
        session.logout()
