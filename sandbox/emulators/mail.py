"""Real mail servers on loopback for tests and the demo: Dovecot (IMAP) and aiosmtpd (SMTP).

Not emulators: the connector's `imaplib` and `smtplib` talk to real servers. `Dovecot` runs the
Debian `dovecot-imapd` binary with a throwaway configuration in a temporary directory (one user in
a passwd-file, Maildir storage, STARTTLS with a certificate from a throwaway CA made by `trustme`),
and mail is delivered into it with IMAP APPEND, the way any client files a message. `SmtpServer` is
aiosmtpd with AUTH (required, only after STARTTLS) and records every message it accepted.
"""

from __future__ import annotations

import imaplib
import logging
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from imapclient import imap_utf7

from sandbox.emulators.stack import free_port

USER, PASSWORD = "support@example.com", "sandbox-mail-password"
DOVECOT = "/usr/sbin/dovecot"


class Certificates:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost, written as PEM files."""

    def __init__(self, directory: Path) -> None:
        self.ca = trustme.CA()
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file, self.cert_file = directory / "ca.pem", directory / "cert.pem"
        self.key_file = directory / "key.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        cert.cert_chain_pems[0].write_to_path(str(self.cert_file))
        cert.private_key_pem.write_to_path(str(self.key_file))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


_CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain login
first_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u
mail_fsync = never
default_login_user = {login_user}
default_internal_user = {internal_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    """A Dovecot IMAP server on 127.0.0.1:`port` (STARTTLS), one user (`USER` / `PASSWORD`)."""

    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="parley-dovecot-")))
    certificates: Certificates | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"imap://127.0.0.1:{self.port}"

    def start(self) -> Dovecot:
        if not Path(DOVECOT).exists():
            raise RuntimeError("Dovecot is not installed: apt-get install dovecot-imapd (scripts/test.sh does it)")
        self.certificates = self.certificates or Certificates(self.root)
        (self.root / "mail").mkdir()
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        # Dovecot never serves mail as root: as root, mail belongs to `nobody` and Dovecot's own
        # unprivileged users do the rest; as anyone else, that user does everything.
        me = pwd.getpwnam("nobody") if os.getuid() == 0 else pwd.getpwuid(os.getuid())
        login_user, internal_user = ("dovenull", "dovecot") if os.getuid() == 0 else (me.pw_name, me.pw_name)
        os.chown(self.root / "mail", me.pw_uid, me.pw_gid)
        config = self.root / "dovecot.conf"
        config.write_text(_CONFIG.format(root=self.root, cert=self.certificates.cert_file,
                                         key=self.certificates.key_file, uid=me.pw_uid, gid=me.pw_gid,
                                         port=self.port, login_user=login_user, internal_user=internal_user))
        os.chmod(self.root, 0o755)
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        self._wait()
        return self

    def _wait(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"Dovecot exited: {self._log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"Dovecot did not answer on port {self.port}: {self._log()}")

    def _log(self) -> str:
        log = self.root / "dovecot.log"
        return log.read_text()[-2000:] if log.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def client(self) -> imaplib.IMAP4:
        assert self.certificates is not None
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.starttls(self.certificates.client_context())
        imap.login(USER, PASSWORD)
        return imap

    def deliver(self, message: EmailMessage | bytes, folder: str = "INBOX", received: datetime | None = None) -> None:
        """File a message into `folder` (created if missing) with IMAP APPEND, received (its
        INTERNALDATE) now or at `received`."""
        raw = message if isinstance(message, bytes) else message.as_bytes(policy=policy.SMTP)
        imap = self.client()
        try:
            name = '"' + imap_utf7.encode(folder).decode("ascii") + '"'  # IMAP's modified UTF-7
            imap.create(name)  # NO when it exists: fine
            typ, data = imap.append(name, None, received and imaplib.Time2Internaldate(received), raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {data!r}")
        finally:
            imap.logout()


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos]))
        return "250 OK"


def _authenticate(server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login.decode() == USER and data.password.decode() == PASSWORD
    return AuthResult(success=ok, handled=False)


class SmtpServer:
    """aiosmtpd on 127.0.0.1: STARTTLS, then AUTH PLAIN/LOGIN required; `messages` holds what it took."""

    def __init__(self, certificates: Certificates) -> None:
        # aiosmtpd logs every connection at INFO from its own thread, and a deprecation of its own at
        # WARNING on every AUTH: noise in test and demo output, nothing Parley did.
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        self.recorder = _Recorder()
        self.port = free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port,
                                     tls_context=certificates.server_context(), require_starttls=True,
                                     auth_required=True, auth_require_tls=True, authenticator=_authenticate)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        return self.recorder.messages

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


class MailServers:
    """Dovecot and aiosmtpd together (one throwaway CA), and the EMAIL_* environment for Parley."""

    def __init__(self) -> None:
        self.imap = Dovecot()
        self.smtp: SmtpServer | None = None

    @staticmethod
    def available() -> bool:
        """Whether Dovecot is installed (Debian: dovecot-imapd)."""
        return Path(DOVECOT).exists()

    def start(self) -> MailServers:
        self.imap.start()
        assert self.imap.certificates is not None
        self.smtp = SmtpServer(self.imap.certificates).start()
        return self

    def stop(self) -> None:
        if self.smtp is not None:
            self.smtp.stop()
        self.imap.stop()

    def environment(self) -> dict[str, str]:
        assert self.smtp is not None and self.imap.certificates is not None
        return {"EMAIL_IMAP_URL": self.imap.url, "EMAIL_SMTP_URL": self.smtp.url, "EMAIL_ADDRESS": USER,
                "EMAIL_PASSWORD": PASSWORD, "EMAIL_CA_FILE": str(self.imap.certificates.ca_file)}
