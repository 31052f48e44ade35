"""One raw e-mail (RFC 5322 bytes from IMAP) to a customer message, or None for what is no case.

Machine-sent mail is recognised and dropped: `Auto-Submitted` other than "no" (RFC 3834 §5,
https://www.rfc-editor.org/rfc/rfc3834#section-5), `Precedence: bulk / junk / list / auto_reply`
(the de-facto marks RFC 3834 §2 tells responders to respect), `X-Autoreply` / `X-Autorespond`,
delivery and disposition reports (`multipart/report`, RFC 6522, https://www.rfc-editor.org/rfc/rfc6522)
and a null return path (`Return-Path: <>`, what bounces carry). Mail from the support address itself
(our own replies, if a folder holds them) is dropped too.

The text is the plain part, else the HTML part read with BeautifulSoup's `get_text` (scripts and
styles dropped, nothing fetched or run); the customer's quoted history below the new text is cut;
attachments are listed by name and size, not mirrored.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from bs4 import BeautifulSoup

from connectors.base import Author, InboundMessage, Kind
from connectors.email import ids
from connectors.email.rules import PLATFORM

log = logging.getLogger(__name__)

AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_ATTRIBUTION = re.compile(r"^(On .{0,300} wrote:|-----\s*Original Message\s*-----)\s*$", re.IGNORECASE)


def read(raw: bytes) -> EmailMessage:
    """Parse with the modern policy (headers decoded, `get_body` available)."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)  # policy.default always makes EmailMessage
    return message


def automatic(message: EmailMessage) -> str | None:
    """Why `message` was sent by a machine (an auto-reply, a bounce, list mail), or None."""
    submitted = _header(message, "Auto-Submitted").lower()
    if submitted and submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {submitted}"
    precedence = _header(message, "Precedence").lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if _header(message, name):
            return name
    if message.get_content_type() == "multipart/report":
        return f"a delivery report ({message.get_param('report-type') or 'multipart/report'})"
    if _header(message, "Return-Path") == "<>":
        return "a null return path (a bounce)"
    return None


def sender(message: EmailMessage) -> tuple[str, str]:
    """(address, display name) of the From header; ("", "") when there is none."""
    found = getaddresses([_header(message, "From")])
    name, address = found[0] if found else ("", "")
    return address.strip().lower(), name.strip()


def reply_address(message: EmailMessage) -> str:
    """Where an answer goes: the Reply-To, else the From address."""
    found = [a for _, a in getaddresses([_header(message, "Reply-To")]) if "@" in a]
    return found[0] if found else sender(message)[0]


def message_id(message: EmailMessage, raw: bytes) -> str:
    """The Message-ID; for mail without one, a stable digest of its bytes (re-reading is a no-op)."""
    found = ids.ids_in(_header(message, "Message-ID"))
    return found[0] if found else f"{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id"


def inbound(raw: bytes, own_address: str, now: datetime) -> InboundMessage | None:
    """The customer message in `raw`, or None (machine-sent, from ourselves, or no sender)."""
    message = read(raw)
    address, name = sender(message)
    if not address or address == own_address.lower() or automatic(message) is not None:
        return None
    own = message_id(message, raw)
    parents, refs = ids.ids_in(_header(message, "In-Reply-To")), ids.ids_in(_header(message, "References"))
    body = body_text(message)
    subject = _header(message, "Subject")
    if subject and not (parents or refs):  # a new conversation: its subject says what it is about
        body = f"Subject: {subject}\n\n{body}"
    listed = attachments(message)
    if listed:
        body = f"{body}\n\n📎 Attachments (not mirrored; open them in the mailbox): {', '.join(listed)}"
    return InboundMessage(
        platform=PLATFORM, kind=Kind.DM, external_id=ids.key(own),
        thread_key=ids.thread_key(own, parents, refs), text=body.strip(),
        author=Author(external_id=ids.key(address, 64), handle=address, name=name or address),
        created_at=_date(message, now), in_reply_to=ids.key(parents[0]) if parents else None,
        lang_hint=(_header(message, "Content-Language").split(",")[0].strip() or None))


def inbound_or_unreadable(raw: bytes, own_address: str, now: datetime) -> InboundMessage | None:
    """`inbound`, and for bytes the parser cannot take, a case that says so rather than a folder
    stuck on one message or a customer silently dropped."""
    try:
        return inbound(raw, own_address, now)
    except Exception as exc:  # the stdlib parser on hostile input; the class only, never the text
        log.warning("an e-mail could not be read (%s); stored as unreadable", type(exc).__name__)
    digest = f"{hashlib.sha256(raw).hexdigest()[:40]}@unreadable"
    return InboundMessage(
        platform=PLATFORM, kind=Kind.DM, external_id=digest, thread_key=ids.key(digest, ids.MAX_THREAD_KEY),
        text="(An e-mail Parley could not read: open it in the support mailbox.)",
        author=Author(external_id="unreadable", handle="", name="unknown sender"), created_at=now)


def body_text(message: EmailMessage) -> str:
    """The new text of the message: plain part, else HTML as text; quoted history cut."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset or a broken transfer encoding
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")  # type: ignore[union-attr]
    text = str(content)
    if part.get_content_type() == "text/html":
        text = html_text(text)
    return without_quote(text)


def html_text(html: str) -> str:
    """Readable text of an HTML body: scripts, styles and heads dropped, blank runs collapsed."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def without_quote(text: str) -> str:
    """`text` up to the quoted history below it ("On … wrote:" then "> " lines, or a forwarded
    original); a message that is all quote is kept whole."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        rest = [ln for ln in lines[i + 1:] if ln.strip()]
        quoted_below = bool(rest) and all(ln.lstrip().startswith(">") for ln in rest)
        if (_ATTRIBUTION.match(line.strip()) or (line.lstrip().startswith(">") and quoted_below)) and i > 0:
            kept = "\n".join(lines[:i]).strip()
            if kept:
                return kept
    return text.strip()


def attachments(message: EmailMessage) -> list[str]:
    """"invoice.pdf (120 KB)" for each attached file."""
    listed = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() not in ("attachment", "inline"):
            continue
        filename = part.get_filename()
        if not filename:
            continue
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        listed.append(f"{filename} ({_size(size)})")
    return listed


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def _date(message: EmailMessage, now: datetime) -> datetime:
    """The Date header in UTC, never later than `now` (a sender's clock may be ahead); `now` if absent."""
    try:
        when = parsedate_to_datetime(_header(message, "Date"))
    except (TypeError, ValueError, IndexError):
        return now
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return min(when, now)


def _header(message: EmailMessage, name: str) -> str:
    """A header's decoded value, "" when absent or unreadable (a malformed header never stops a poll)."""
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):
        return ""
    return str(value).strip() if value is not None else ""
