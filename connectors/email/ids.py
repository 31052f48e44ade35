"""Message-IDs as Parley keys them: stored ids, thread keys, and the ids of the replies we send.

A conversation is keyed by the first id of a message's `References` (the thread's root, RFC 5322
§3.6.4: "the contents of the parent's References field … followed by the contents of the parent's
Message-ID"), else its `In-Reply-To`, else its own Message-ID — so every reply in a thread, ours
included, lands in one conversation whichever message Parley heard first.
https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4
"""

from __future__ import annotations

import hashlib
import re

MAX_EXTERNAL_ID = 128  # messages.external_id / in_reply_to
MAX_THREAD_KEY = 64  # conversations.thread_key
MAX_REFERENCES = 20  # ids kept in a reply's References: the root and the latest ones
_ID = re.compile(r"<([^<>\s]+)>")


def ids_in(header: str | None) -> list[str]:
    """The msg-ids of a Message-ID / In-Reply-To / References value, without angle brackets."""
    found = _ID.findall(header or "")
    if not found and header and header.strip() and " " not in header.strip():
        return [header.strip()]  # some senders forget the brackets
    return found


def key(message_id: str, limit: int = MAX_EXTERNAL_ID) -> str:
    """A Message-ID as stored: itself when it fits the column, else a stable digest of it ("h:…")."""
    if len(message_id) <= limit:
        return message_id
    return "h:" + hashlib.sha256(message_id.encode()).hexdigest()[: min(limit, 66) - 2]


def is_digest(stored: str) -> bool:
    return stored.startswith("h:")


def thread_key(own_id: str, in_reply_to: list[str], references: list[str]) -> str:
    """The conversation's key: the thread's root id (see the module docstring)."""
    root = (references or in_reply_to or [own_id])[0]
    return key(root, MAX_THREAD_KEY)


def reply_id(send_key: str, address: str) -> str:
    """The Message-ID of the reply stored under `send_key`: the same key always gives the same id,
    so a reply sent twice by accident is one message to the recipient's mail client."""
    domain = address.rpartition("@")[2] or "parley.invalid"
    return f"parley.{hashlib.sha256(send_key.encode()).hexdigest()[:32]}@{domain}"


def references(parent_references: list[str], parent_id: str) -> list[str]:
    """A reply's References: the parent's, then the parent's own id; long chains keep the root and
    the latest ids (what mail clients do to keep the header short)."""
    chain = [*parent_references, parent_id]
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1):]]
    return chain
