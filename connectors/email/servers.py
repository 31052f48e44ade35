"""Where the mail servers are and how to talk to them safely: `imaps://host:993`, `imap://host`
(STARTTLS), `smtps://host:465`, `smtp://host:587` (STARTTLS).

A `…s://` URL is TLS from the first byte; a plain one upgrades with STARTTLS, which is required
unless the server is on loopback (a local relay), so a password never crosses a network in clear.
Certificates are verified against the system's CAs, or `ca_file` (a private CA).
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"imap": 143, "imaps": 993, "smtp": 587, "smtps": 465}


@dataclass(frozen=True, slots=True)
class Endpoint:
    scheme: str  # "imap", "imaps", "smtp", "smtps"
    host: str
    port: int

    @property
    def implicit_tls(self) -> bool:
        return self.scheme.endswith("s")

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_url(url: str, protocol: str) -> Endpoint:
    """`url` as an Endpoint of `protocol` ("imap" or "smtp"); ValueError in words naming what is wrong."""
    parts = urlsplit(url.strip())
    schemes = (protocol, protocol + "s")
    if parts.scheme not in schemes:
        raise ValueError(f"{url!r} should start with {protocol}:// (STARTTLS) or {protocol}s:// (TLS)")
    if parts.username or parts.password:
        raise ValueError("put the user name and password in EMAIL_USERNAME / EMAIL_PASSWORD, not in the URL")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{url!r} has a port that is not a number") from None
    if not parts.hostname:
        raise ValueError(f"{url!r} names no host")
    return Endpoint(parts.scheme, unquote(parts.hostname), port or DEFAULT_PORTS[parts.scheme])


def tls_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """Verifying TLS: the system's CAs, or only `ca_file`'s."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
