"""A small loopback HTTP server that the Slack, X and Graph emulators are built on.

Each emulator registers routes, records every request it receives (tests assert on these), and
can be told to fail the next N matching requests (429 storms, 5xx) to exercise retry paths.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]  # last value wins; emulated APIs don't repeat parameters
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, Any] = field(default_factory=dict)  # path regex groups
    at: float = field(default_factory=time.time)

    @property
    def form(self) -> dict[str, str]:
        ctype = self.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" in ctype or (self.body and not ctype):
            return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}
        return {}

    @property
    def json(self) -> Any:
        if "json" in self.headers.get("content-type", "") and self.body:
            return json.loads(self.body)
        return None

    def args(self) -> dict[str, Any]:
        """Query, form and JSON body merged: Slack and Graph accept parameters in any of them."""
        merged: dict[str, Any] = dict(self.query)
        merged.update(self.form)
        body = self.json
        if isinstance(body, dict):
            merged.update(body)
        return merged


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str/bytes -> as is
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response | dict | list]


@dataclass
class _Fault:
    pattern: re.Pattern[str]
    response: Response
    remaining: int


class Emulator:
    """Base class: subclasses call `self.route(...)` in `__init__` and add their own state."""

    name = "emulator"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: list[_Fault] = []
        self._lock = threading.RLock()
        self.calls: list[Request] = []
        self._host, self._port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- wiring -------------------------------------------------------------------------------
    def route(self, method: str, path_regex: str, handler: Handler) -> None:
        self._routes.append((method.upper(), re.compile(f"^{path_regex}$"), handler))

    def fail_next(
        self,
        path_regex: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next `times` requests whose path matches with this status instead."""
        with self._lock:
            self._faults.append(
                _Fault(re.compile(path_regex), Response(status, body or {"error": "injected"}, headers or {}),
                       times)
            )

    def calls_to(self, path_regex: str, method: str | None = None) -> list[Request]:
        pattern = re.compile(path_regex)
        with self._lock:
            return [c for c in self.calls if pattern.search(c.path) and (method is None or c.method == method)]

    # --- lifecycle ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None, "emulator not started"
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):  # the socket API allows bytes; a TCP server reports a str
            host = host.decode()
        return f"http://{host}:{port}"

    def start(self) -> Emulator:
        emulator = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                emulator._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self._server = ThreadingHTTPServer((self._host, self._port), _Handler)
        self._server.daemon_threads = True
        self._port = self._server.server_address[1]  # a restart after stop() comes back at the same address
        # A short poll interval makes stop() quick (the default 0.5 s adds up across many tests).
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- request handling ---------------------------------------------------------------------
    def _dispatch(self, http: BaseHTTPRequestHandler) -> None:
        split = urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        body = http.rfile.read(length) if length else b""
        request = Request(
            method=http.command,
            path=split.path,
            query={k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in http.headers.items()},
            body=body,
        )
        with self._lock:
            self.calls.append(request)
            fault = next((f for f in self._faults if f.remaining > 0 and f.pattern.search(request.path)), None)
            if fault is not None:
                fault.remaining -= 1
        if fault is not None:
            self._write(http, fault.response)
            return
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                request.params = match.groupdict()
                try:
                    result = handler(request)
                except Exception as exc:  # an emulator bug must show up as a 500, not a hang
                    result = Response(500, {"error": f"emulator error: {exc!r}"})
                self._write(http, result if isinstance(result, Response) else Response(200, result))
                return
        self._write(http, self.not_found(request))

    def not_found(self, request: Request) -> Response:
        return Response(404, {"error": f"no route for {request.method} {request.path}"})

    @staticmethod
    def _write(http: BaseHTTPRequestHandler, response: Response) -> None:
        body = response.body
        ctype = "application/json; charset=utf-8"
        if isinstance(body, bytes):
            payload, ctype = body, response.headers.get("Content-Type", "application/octet-stream")
        elif isinstance(body, str):
            payload, ctype = body.encode(), response.headers.get("Content-Type", "text/plain; charset=utf-8")
        else:
            payload = json.dumps(body if body is not None else {}).encode()
        http.send_response(response.status)
        for name, value in response.headers.items():
            if name.lower() != "content-type":
                http.send_header(name, value)
        http.send_header("Content-Type", ctype)
        http.send_header("Content-Length", str(len(payload)))
        http.end_headers()
        http.wfile.write(payload)
