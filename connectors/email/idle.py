"""Hearing new mail at once: IMAP IDLE (RFC 2177) on the first folder, where the server offers it.

The poll stays the source of truth (it reads, threads and moves the cursor); IDLE only says "poll
now" when the server reports a new message (`EXISTS`), so mail reaches Slack in seconds instead of
at the next poll. The IDLE connection is re-issued every 25 minutes (servers may drop a client idle
for 30, RFC 2177 §3: https://www.rfc-editor.org/rfc/rfc2177#section-3) and re-opened after trouble,
30 seconds later. IMAPClient (https://imapclient.readthedocs.io, "Watching a Mailbox Using IDLE")
does the IDLE protocol; `imaplib` has no IDLE before Python 3.14.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from connectors.email.servers import Endpoint

log = logging.getLogger(__name__)

REISSUE_SECONDS = 25 * 60
RETRY_SECONDS = 30.0
CHECK_SECONDS = 1.0  # how often the stop flag is looked at while idling
TIMEOUT = 30.0


def connect(endpoint: Endpoint, username: str, password: str, context: ssl.SSLContext) -> IMAPClient:
    """A logged-in IMAPClient, TLS as in `servers.py` (STARTTLS required off loopback)."""
    client = IMAPClient(endpoint.host, endpoint.port, ssl=endpoint.implicit_tls, ssl_context=context,
                        timeout=TIMEOUT)
    if not endpoint.implicit_tls:
        if client.has_capability("STARTTLS"):
            client.starttls(context)
        elif not endpoint.loopback:
            client.shutdown()
            raise IMAPClientError(f"{endpoint} does not offer STARTTLS")
    client.login(username, password)
    return client


def watch(open_client: Callable[[], IMAPClient], folder: str, wake: Callable[[], None],
          stop: threading.Event) -> None:
    """Call `wake` whenever `folder` gets a new message, until `stop` is set. Returns at once when
    the server has no IDLE (polling alone then)."""
    while not stop.is_set():
        try:
            client = open_client()
        except (IMAPClientError, OSError) as exc:
            log.warning("e-mail IDLE: cannot connect (%s); polling until it can", type(exc).__name__)
            stop.wait(RETRY_SECONDS)
            continue
        try:
            if not client.has_capability("IDLE"):
                log.info("e-mail: the IMAP server has no IDLE; polling only")
                return
            client.select_folder(folder, readonly=True)
            _idle(client, wake, stop)
        except (IMAPClientError, OSError) as exc:
            log.warning("e-mail IDLE on %r broke (%s); again in %.0fs", folder, type(exc).__name__, RETRY_SECONDS)
            stop.wait(RETRY_SECONDS)
        finally:
            _close(client)


def _idle(client: IMAPClient, wake: Callable[[], None], stop: threading.Event) -> None:
    """IDLE until `stop`, re-issued every REISSUE_SECONDS; `wake` on EXISTS, and once as soon as
    the first IDLE is accepted: mail may have come while no IDLE was open."""
    first = True
    while not stop.is_set():
        client.idle()
        if first:
            wake()
            first = False
        until = time.monotonic() + REISSUE_SECONDS
        woken = False
        while not stop.is_set() and time.monotonic() < until and not woken:
            responses = client.idle_check(timeout=CHECK_SECONDS)
            woken = any(len(r) > 1 and r[1] == b"EXISTS" for r in responses)
        client.idle_done()
        if woken:
            wake()


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except (IMAPClientError, OSError):
        client.shutdown()
