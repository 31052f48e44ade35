"""Can Parley hear Slack right now? `/readyz` asks this.

HTTP mode: Slack reaches Parley, but Parley can only tell whether Slack is reachable by asking it,
so a job calls `auth.test` every few seconds and the last answer counts. Socket Mode: the socket
itself says (slack_sdk's client reconnects on its own; while it is down, Parley hears nothing).
`parley run` has checked Slack before it starts, so the link begins as reachable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

log = logging.getLogger(__name__)

# slack_sdk's built-in Socket Mode client calls a connection stale when no pong came for 4 ping
# intervals, and checks every interval (slack_sdk/socket_mode/builtin/connection.py, `check_state`);
# Bolt's default of 10 s notices a silent drop after 40-50 s. 3 s notices it within 15 s.
SOCKET_PING_INTERVAL = 3.0


class SlackLink:
    """The last verdict on whether Slack is reachable, and why not."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self.socket_connected: Callable[[], bool] | None = None  # set once Socket Mode is started

    def probe(self, client: WebClient) -> None:
        """auth.test once; remembers the failure in plain words (a refused token counts too)."""
        try:
            client.auth_test()
        except SlackApiError as exc:
            data = exc.response.data
            error = data.get("error") if isinstance(data, dict) else None
            self._failed(f"Slack answered {error or f'HTTP {exc.response.status_code}'} to auth.test")
        except (SlackRequestError, OSError) as exc:
            self._failed(f"cannot reach Slack ({type(exc).__name__})")
        else:
            if self.problem is not None:
                log.info("Slack: reachable again")
            self.problem = None

    def _failed(self, problem: str) -> None:
        if self.problem is None:
            log.warning("Slack: %s", problem)
        self.problem = problem

    def status(self) -> tuple[bool, str]:
        """(ready, words): Socket Mode by its socket, HTTP mode by the last auth.test."""
        if self.socket_connected is not None:
            return (True, "Socket Mode connected") if self.socket_connected() else (False, "Socket Mode is not "
                                                                                   "connected")
        return (self.problem is None, self.problem or "reachable")
