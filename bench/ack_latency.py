"""How fast Slack gets its acknowledgement: p50/p99 over concurrent signed requests.

Three servers, each in its own process under uvicorn as in production (so the load generator, the
emulators and the other servers do not share its interpreter lock; the load comes from a process of
its own too), measured in the same run:
- **Parley**: the real HTTP endpoint (`parley run` wiring: outbox worker and schedule started) on
  SQLite (or --database-url) against the emulators, with one mirrored X conversation;
- **bare async Bolt**: `slack_bolt.async_app.AsyncApp` behind `AsyncSlackRequestHandler` on
  Starlette, whose listeners only `await ack()` — the floor the issue names;
- **bare threaded Bolt**: the synchronous `App` behind Parley's own endpoint, only acking.

Each round fires `--concurrency` signed requests at once at each server in turn: a mix of `/social`
subcommands (help, queue, find, assign, reply — their work, the reply's platform call included, runs
after the ack) and card button clicks. Between servers the bench waits until Parley's post-ack work
is done — no call to any emulator (response_url answers, Slack cards and receipts, X replies) for
half a second — so one server's leftovers never load the next one's measurement, and the order of
the servers turns each round, so none always runs right after Parley. Slack's limit is 3 s.
Prints numbers; asserts nothing.

    PYTHONPATH=. python bench/ack_latency.py [--concurrency 50] [--rounds 4] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import SplitResult, urlencode, urlsplit

import requests
import uvicorn
from slack_bolt import Ack, App
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import build
from bot import ids
from bot.settings import load_settings
from bot.web import build_http_app
from sandbox.emulators.server import Emulator
from sandbox.emulators.stack import SIGNING_SECRET, EmulatorStack, free_port

ROOT = Path(__file__).resolve().parent.parent  # the servers import this tree
# In every trigger id: a reply is stored once per trigger id, so a second run against the same
# --database-url would otherwise find its replies stored and send nothing.
RUN = uuid.uuid4().hex[:8]
CHANNEL = "C0SUPPORT"
SERVERS = ("parley", "async-bolt", "threaded-bolt")
LABELS = {"parley": "Parley (/social + buttons)", "async-bolt": "bare async Bolt (ack only)",
          "threaded-bolt": "bare threaded Bolt (ack only)"}


# --- the servers (each runs as `ack_latency.py --serve KIND`, in its own process) -------------------
def serve_parley(env: dict[str, str], port: int) -> None:
    parley = build(load_settings(_env_file=None, **{k.lower(): v for k, v in env.items() if v}))
    parley.poll_all()  # the mirrored conversation the commands and clicks name
    parley.outbox.drain()
    parley.start_background()
    parley.serve(host="127.0.0.1")


def serve_async_bolt(env: dict[str, str], port: int) -> None:
    bolt = AsyncApp(signing_secret=SIGNING_SECRET,
                    client=AsyncWebClient(token=env["SLACK_BOT_TOKEN"], base_url=env["SLACK_API_URL"]))

    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    bolt.command(ids.SLASH_COMMAND)(only_ack)
    bolt.action(ids.ACTION_ASSIGN_ME)(only_ack)
    handler = AsyncSlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    uvicorn.run(Starlette(routes=[Route("/slack/events", events, methods=["POST"])]), host="127.0.0.1", port=port,
                log_level="warning", access_log=False)


def serve_threaded_bolt(env: dict[str, str], port: int) -> None:

    bolt = App(signing_secret=SIGNING_SECRET, client=WebClient(token=env["SLACK_BOT_TOKEN"],
                                                               base_url=env["SLACK_API_URL"]))

    def only_ack(ack: Ack) -> None:
        ack()

    bolt.command(ids.SLASH_COMMAND)(only_ack)
    bolt.action(ids.ACTION_ASSIGN_ME)(only_ack)
    asgi = build_http_app(bolt=bolt, facebook=None, health=lambda: (True, {}), slack_signing_secret=SIGNING_SECRET)
    uvicorn.run(asgi, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def start(kind: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = int(env["PORT"]) if kind == "parley" else free_port()
    child = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port)],
                             env=os.environ | {"BENCH_ENV": json.dumps(env), "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return child, f"http://127.0.0.1:{port}"
        except OSError:
            if child.poll() is not None:
                raise RuntimeError(f"{kind} server exited with {child.returncode}") from None
            time.sleep(0.05)
    child.kill()
    raise RuntimeError(f"{kind} server did not start")


# --- the load -----------------------------------------------------------------------------------
def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    return {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)}


def requests_mix(n: int, ref: int, response_url: str, round_no: int,
                 kinds: list[tuple[str, Callable[..., str]]]) -> list[str]:
    def command(text: str, i: int) -> str:
        return urlencode({"command": "/social", "text": text, "user_id": f"U0AGENT{i % 5}", "channel_id": CHANNEL,
                          "team_id": "T0", "response_url": response_url, "trigger_id": f"{RUN}.{round_no}.{i}.t"})

    def click(action_id: str, i: int) -> str:
        payload = {"type": "block_actions", "user": {"id": f"U0AGENT{i % 5}"}, "team": {"id": "T0"},
                   "api_app_id": "A0", "trigger_id": f"{RUN}.{round_no}.{i}.c", "channel": {"id": CHANNEL},
                   "container": {"type": "message", "message_ts": "1.1", "channel_id": CHANNEL},
                   "response_url": response_url,
                   "actions": [{"type": "button", "action_id": action_id, "value": str(ref), "block_id": "b",
                                "action_ts": "1"}]}
        return urlencode({"payload": json.dumps(payload)})

    return [kinds[i % len(kinds)][1](command, click, ref, round_no, i) for i in range(n)]


# The request mix, in turn: (label, body maker).
KINDS: list[tuple[str, Callable[..., str]]] = [
    ("help", lambda command, click, ref, round_no, i: command("help", i)),
    ("queue", lambda command, click, ref, round_no, i: command("queue", i)),
    ("find", lambda command, click, ref, round_no, i: command("find order", i)),
    ("assign", lambda command, click, ref, round_no, i: command(f"assign #{ref} me", i)),
    ("reply", lambda command, click, ref, round_no, i: command(
        f"reply #{ref} Thanks for waiting, update {round_no}-{i} coming", i)),
    ("click", lambda command, click, ref, round_no, i: click(ids.ACTION_ASSIGN_ME, i)),
]


def fire(base: str, bodies: list[str]) -> list[float]:
    """Each request's time to its whole response, all sent at once from one event loop over
    connections opened beforehand, as raw HTTP/1.1: the client spends microseconds per request, so
    the time is the server's (a thread per request with `requests` added up to ~90 ms of the
    client's own interpreter time to the last ones, for every server alike)."""
    return asyncio.run(_fire_all(urlsplit(base), bodies))


async def _fire_all(base: SplitResult, bodies: list[str]) -> list[float]:
    host, port = base.hostname or "127.0.0.1", base.port or 80
    raws = [_raw_request(host, port, body) for body in bodies]  # signing is not the server's time
    connections = [await asyncio.open_connection(host, port) for _ in raws]
    try:
        return list(await asyncio.gather(*(_one(conn, raw) for conn, raw in zip(connections, raws, strict=True))))
    finally:
        for _, writer in connections:
            writer.close()


def _raw_request(host: str, port: int, body: str) -> bytes:
    data = body.encode()
    headers = {"Host": f"{host}:{port}", "Content-Length": str(len(data)), "Connection": "close", **signed(body)}
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"POST /slack/events HTTP/1.1\r\n{head}\r\n".encode() + data


async def _one(connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], raw: bytes) -> float:
    reader, writer = connection
    started = time.perf_counter()
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), None)
    if length is None:
        raise RuntimeError(f"no Content-Length in {head[:200]!r}")
    body = await reader.readexactly(length)
    elapsed = time.perf_counter() - started
    status = int(head.split(b" ", 2)[1])
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {body[:200]!r}")
    return elapsed


def fire_threads(base: str, bodies: list[str]) -> list[float]:
    """The earlier client, a `requests` call per thread (`--client threads`), for comparison."""
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=len(bodies)))
    prepared = [(body.encode(), signed(body)) for body in bodies]  # signing is not the server's time
    gate = threading.Barrier(len(bodies))

    def one(item: tuple[bytes, dict[str, str]]) -> float:
        gate.wait()  # all at once
        started = time.perf_counter()
        response = session.post(f"{base}/slack/events", data=item[0], headers=item[1], timeout=30)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        return elapsed

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, prepared))


def fire_from_child(base: str, bodies: list[str], client: str) -> list[float]:
    """`fire` in a process of its own: the emulators answering Parley's post-ack calls live in this
    one, and must not hold up the clock of the requests being measured."""
    done = subprocess.run([sys.executable, __file__, "--load", base, "--client", client], input=json.dumps(bodies),
                          text=True, capture_output=True, env=os.environ | {"PYTHONPATH": str(ROOT)}, check=True)
    return json.loads(done.stdout)


def settle(count: Callable[[], int], quiet: float = 0.5, limit: float = 20.0) -> None:
    """Wait until Parley's post-ack calls stop arriving at the emulators (its work is done)."""
    deadline, last, since = time.monotonic() + limit, -1, time.monotonic()
    while time.monotonic() < deadline:
        if count() != last:
            last, since = count(), time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.05)


def report(name: str, samples: list[float]) -> float:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"{name:<30} n={len(samples):<4} p50={statistics.median(ordered) * 1000:7.1f} ms   "
          f"p99={p99 * 1000:7.1f} ms   max={ordered[-1] * 1000:7.1f} ms")
    return p99


def measure(args: argparse.Namespace) -> None:
    answered = [0]

    def respond(request: object) -> dict:
        answered[0] += 1
        return {"ok": True}

    wanted = args.kinds.split(",") if args.kinds else [label for label, _ in KINDS]
    kinds = [(label, make) for label, make in KINDS if label in wanted]
    if len(kinds) != len(wanted):
        raise SystemExit(f"--kinds: choose among {', '.join(label for label, _ in KINDS)}")
    receiver = Emulator()
    receiver.route("POST", r"/respond", respond)
    children: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as tmp, EmulatorStack() as stack, receiver:
        stack.slack.add_channel("support", id=CHANNEL)
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        env = stack.environment(database_url=url, channel=CHANNEL, port=free_port())
        env |= {"PARLEY_SLACK_MIN_INTERVAL": "1ms"}
        user = stack.x.add_user("dana", "Dana Scully", followers=120)
        stack.x.add_tweet(user, "@acme my order never arrived", created_at=datetime.now(UTC) - timedelta(minutes=5))
        try:
            bases = {}
            for kind in SERVERS:
                child, bases[kind] = start(kind, {k: v for k, v in env.items() if v})
                children.append(child)
            respond_url = receiver.base_url + "/respond"
            samples: dict[str, list[float]] = {kind: [] for kind in SERVERS}
            by_kind: dict[str, list[float]] = {label: [] for label, _ in kinds}  # Parley's, per request kind
            rounds: dict[str, list[float]] = {kind: [] for kind in SERVERS}  # each round's p99
            def calls() -> int:
                return answered[0] + sum(len(emulator.calls) for emulator in (stack.slack, stack.x))

            # Round 0 warms up, unmeasured: imports, thread and connection pools, first queries.
            for round_no in range(0, args.rounds + 1):
                turn = round_no % len(SERVERS)
                for kind in SERVERS[turn:] + SERVERS[:turn]:
                    bodies = requests_mix(args.concurrency, 1, respond_url, round_no, kinds)  # all rounds alike
                    taken = fire_from_child(bases[kind], bodies, args.client)
                    if round_no:
                        samples[kind] += taken
                        if kind == "parley":
                            for i, seconds in enumerate(taken):
                                by_kind[kinds[i % len(kinds)][0]].append(seconds)
                        rounds[kind].append(sorted(taken)[min(len(taken) - 1, int(len(taken) * 0.99))])
                    settle(calls)
            print(f"{args.concurrency} concurrent signed requests x {args.rounds} rounds, database "
                  f"{url.split(':')[0]}, each server in its own process; Slack's ack limit is 3000 ms")
            p99 = {kind: report(LABELS[kind], samples[kind]) for kind in SERVERS}
            for kind in SERVERS:  # a shared machine shows here: one slow round among fast ones
                print(f"  {LABELS[kind]:<30} p99 per round: " + " ".join(f"{p * 1000:.0f}" for p in rounds[kind]))
            print("  Parley by request kind, p50/max ms: " + ", ".join(
                f"{label} {statistics.median(v) * 1000:.0f}/{max(v) * 1000:.0f}" for label, v in by_kind.items() if v))
            print(f"Parley p99 / bare async Bolt p99: {p99['parley'] / p99['async-bolt']:.2f}x "
                  f"(the goal: at most 1.5x and under 100 ms)")
            print(f"answers sent through response_url after the acks: {answered[0]}; "
                  f"replies sent to X: {len(stack.x.created_tweets)}")
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--database-url")
    parser.add_argument("--kinds", help="comma-separated request kinds to mix (default: all of "
                        + ", ".join(label for label, _ in KINDS) + "); the issue measured `queue` alone")
    parser.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=("asyncio", "threads"), default="asyncio",
                        help="the load generator: raw HTTP from one event loop (default), or a thread per request")
    args = parser.parse_args()
    if args.load:
        load = fire if args.client == "asyncio" else fire_threads
        print(json.dumps(load(args.load, json.loads(sys.stdin.read()))))
    elif args.serve:
        {"parley": serve_parley, "async-bolt": serve_async_bolt,
         "threaded-bolt": serve_threaded_bolt}[args.serve](json.loads(os.environ["BENCH_ENV"]), args.port)
    else:
        measure(args)


if __name__ == "__main__":
    main()
