"""The three emulators started together, and the environment that points Parley at them.

Used by `parley demo` and by the end-to-end tests, so both exercise the same wiring.
"""

from __future__ import annotations

import random
import socket
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.emulators.graph_api import GraphEmulator
from sandbox.emulators.slack_api import SlackEmulator
from sandbox.emulators.x_api import XEmulator

SIGNING_SECRET = "sandbox-signing-secret"
FACEBOOK_APP_SECRET = "sandbox-app-secret"
FACEBOOK_VERIFY_TOKEN = "sandbox-verify-token"
X_CREDENTIALS = {
    "X_BEARER_TOKEN": "sandbox-bearer",
    "X_CONSUMER_KEY": "sandbox-consumer-key",
    "X_CONSUMER_SECRET": "sandbox-consumer-secret",
    "X_ACCESS_TOKEN": "sandbox-access-token",
    "X_ACCESS_TOKEN_SECRET": "sandbox-access-secret",
}


# Ports handed out below the kernel's ephemeral range (Linux default 32768-60999): a port picked with
# bind(0) and closed again can be handed by the kernel to the next bind(0) — an emulator starting
# before the server that was promised the port. Picking outside that range, never twice per process,
# removes the race (CI once failed with "Address already in use" exactly so).
_PORTS = range(20000, 32000)
_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback TCP port nobody listens on, not handed out before in this process."""
    for _ in range(200):
        port = random.choice(_PORTS)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free loopback port between 20000 and 32000")


@dataclass
class EmulatorStack:
    slack: SlackEmulator = field(default_factory=SlackEmulator)
    x: XEmulator = field(default_factory=XEmulator)
    graph: GraphEmulator = field(default_factory=GraphEmulator)

    def start(self) -> EmulatorStack:
        for emulator in (self.slack, self.x, self.graph):
            emulator.start()
        return self

    def stop(self) -> None:
        for emulator in (self.slack, self.x, self.graph):
            emulator.stop()

    def __enter__(self) -> EmulatorStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def environment(self, *, database_url: str, channel: str, port: int, config: Path | None = None,
                    search_queries: dict[str, str] | None = None) -> dict[str, str]:
        """Environment variables that run the real app against these emulators."""
        env = {
            "SLACK_BOT_TOKEN": SlackEmulator.TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.base_url + "/api/",
            "PARLEY_CHANNEL": channel,
            "PORT": str(port),
            "X_API_URL": self.x.base_url,
            "FACEBOOK_PAGE_ID": self.graph.page_id,
            "FACEBOOK_PAGE_TOKEN": self.graph.page_token,
            "FACEBOOK_APP_SECRET": FACEBOOK_APP_SECRET,
            "FACEBOOK_VERIFY_TOKEN": FACEBOOK_VERIFY_TOKEN,
            "FACEBOOK_GRAPH_URL": self.graph.base_url + "/",
            "INSTAGRAM_ACCOUNT_ID": self.graph.instagram.id,  # through the Page token
            "DATABASE_URL": database_url,
            **X_CREDENTIALS,
        }
        if search_queries:
            env["X_SEARCH_QUERIES"] = "; ".join(f"{name}: {query}" for name, query in search_queries.items())
        if config is not None:
            env["PARLEY_CONFIG"] = str(config)
        return env
