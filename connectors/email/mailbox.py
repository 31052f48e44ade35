"""Reading the support mailbox over IMAP (stdlib `imaplib`, RFC 9051), one folder at a time.

Each folder is its own stream, `email:{folder}`, whose cursor is "UIDVALIDITY:UID": the last UID
read in that folder. UIDs only grow within one UIDVALIDITY (RFC 9051 §2.3.1.1,
https://www.rfc-editor.org/rfc/rfc9051#section-2.3.1.1), so `UID SEARCH UID n+1:*` finds exactly
what arrived since; a changed UIDVALIDITY means the server renumbered the folder, and it is read
again from the backfill date (the Message-ID keeps re-read mail from becoming a second case). A
folder with no cursor starts at the backfill date (`SEARCH SINCE`), reports how many older messages
it left out, and persists its starting point even when it is empty. Folders are opened read-only
(`EXAMINE`) and messages fetched with `BODY.PEEK[]`: Parley never marks the team's mail as read.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from imapclient import imap_utf7

from connectors import backfill
from connectors.base import Batch, InboundMessage
from connectors.email.servers import Endpoint

STREAM_PREFIX = "email:"
FETCH_CHUNK = 25  # messages per FETCH and per stored batch
TIMEOUT = 30.0  # seconds for a connection and each reply


class MailboxError(Exception):
    """IMAP trouble in plain words (never a password)."""


def stream(folder: str) -> str:
    return STREAM_PREFIX + folder


def connect(endpoint: Endpoint, username: str, password: str, context: ssl.SSLContext) -> imaplib.IMAP4:
    """A logged-in IMAP session over TLS (or STARTTLS; plain only on loopback without STARTTLS)."""
    try:
        if endpoint.implicit_tls:
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(endpoint.host, endpoint.port, ssl_context=context,
                                                    timeout=TIMEOUT)
        else:
            imap = imaplib.IMAP4(endpoint.host, endpoint.port, timeout=TIMEOUT)
            if "STARTTLS" in imap.capabilities:
                imap.starttls(context)
            elif not endpoint.loopback:
                imap.logout()
                raise MailboxError(f"{endpoint} does not offer STARTTLS; use imaps:// so the password is not "
                                   "sent in clear")
        imap.login(username, password)
    except imaplib.IMAP4.error as exc:
        raise MailboxError(f"the IMAP server {endpoint} refused the login for {username!r} ({_words(exc)})") from None
    except (OSError, ssl.SSLError) as exc:
        raise MailboxError(f"could not reach the IMAP server {endpoint} ({type(exc).__name__}: {exc})") from None
    return imap


def quote(folder: str) -> str:
    """A folder name as IMAP takes it: modified UTF-7 ("Soporte técnico" -> "Soporte t&AOk-cnico",
    RFC 3501 §5.1.3, https://www.rfc-editor.org/rfc/rfc3501#section-5.1.3) in a quoted string."""
    return _quoted(imap_utf7.encode(folder).decode("ascii"))


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def examine(imap: imaplib.IMAP4, folder: str) -> tuple[int, int]:
    """Open `folder` read-only; (UIDVALIDITY, UIDNEXT)."""
    typ, data = imap.select(quote(folder), readonly=True)
    if typ != "OK":
        raise MailboxError(f"the IMAP folder {folder!r} cannot be opened ({_words(data)}); check EMAIL_FOLDERS")
    validity = _number(imap.response("UIDVALIDITY")[1])
    uidnext = _number(imap.response("UIDNEXT")[1])
    if validity is None:
        raise MailboxError(f"the IMAP server gave no UIDVALIDITY for {folder!r}")
    return validity, uidnext or 0


def read_folder(imap: imaplib.IMAP4, folder: str, cursor: str | None, now: datetime, backfill_for: timedelta,
                parse: Callable[[bytes], InboundMessage | None]) -> Iterator[Batch]:
    """Batches of the folder's new customer mail, each with the cursor up to its last UID."""
    name = stream(folder)
    validity, uidnext = examine(imap, folder)
    stored_validity, _, stored_uid = (cursor or "").partition(":")
    if cursor and stored_validity == str(validity):
        last = int(stored_uid)
        uids = [u for u in search(imap, f"UID {last + 1}:*") if u > last]
    else:  # a new folder, or renumbered: read from the backfill date
        last = 0
        since = (now - backfill_for).strftime("%d-%b-%Y")
        uids = search(imap, f"SINCE {since}")
        if cursor is None:
            before = search(imap, f"BEFORE {since}")
            yield from backfill.report(name, len(before), more=False, before=now - backfill_for, now=now)
    persisted = cursor
    for start in range(0, len(uids), FETCH_CHUNK):
        chunk = uids[start:start + FETCH_CHUNK]
        messages = [m for raw in fetch(imap, chunk) if (m := parse(raw)) is not None]
        last = max(last, *chunk)
        persisted = f"{validity}:{last}"
        yield Batch(name, messages, cursor=persisted)
    final = f"{validity}:{max(last, uidnext - 1)}"  # a new folder's starting point, even when empty
    if final != persisted:
        yield Batch(name, [], cursor=final)


def search(imap: imaplib.IMAP4, criteria: str) -> list[int]:
    typ, data = imap.uid("SEARCH", criteria)
    if typ != "OK":
        raise MailboxError(f"the IMAP search {criteria!r} failed ({_words(data)})")
    return sorted(int(u) for u in b" ".join(d for d in data if isinstance(d, bytes)).split())


def fetch(imap: imaplib.IMAP4, uids: list[int]) -> list[bytes]:
    """The raw messages of `uids`, in UID order, without setting \\Seen."""
    typ, data = imap.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
    if typ != "OK":
        raise MailboxError(f"the IMAP fetch failed ({_words(data)})")
    found: list[tuple[int, bytes]] = []
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            match = re.search(rb"UID (\d+)", item[0])
            found.append((int(match.group(1)) if match else 0, item[1]))
    return [raw for _, raw in sorted(found)]


def find(imap: imaplib.IMAP4, folders: tuple[str, ...], message_id: str) -> bytes | None:
    """The raw message whose Message-ID is `message_id`, from the first folder holding it."""
    for folder in folders:
        examine(imap, folder)
        uids = search(imap, f"HEADER Message-ID {_quoted('<' + message_id + '>')}")
        if uids:
            return fetch(imap, uids[-1:])[0]
    return None


def file_copy(imap: imaplib.IMAP4, folder: str, raw: bytes, when: datetime) -> None:
    """APPEND `raw` to `folder` as read (the team's copy of a reply), creating the folder when the
    server asks to (TRYCREATE, RFC 9051 §6.3.12); MailboxError if refused."""
    typ, data = imap.append(quote(folder), "(\\Seen)", imaplib.Time2Internaldate(when), raw)
    if typ != "OK" and "TRYCREATE" in _words(data):
        imap.create(quote(folder))
        typ, data = imap.append(quote(folder), "(\\Seen)", imaplib.Time2Internaldate(when), raw)
    if typ != "OK":
        raise MailboxError(f"the IMAP folder {folder!r} refused the copy ({_words(data)})")


def _number(data: list[bytes | None] | list[bytes] | None) -> int | None:
    value = (data or [None])[0]
    return int(value) if value is not None else None


def _words(value: object) -> str:
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
