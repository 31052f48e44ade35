"""How fast Slack gets its acknowledgement: p50/p99 over concurrent signed requests.

Serves the real Parley HTTP endpoint (Bolt dispatch in Starlette's thread pool, under uvicorn) on
SQLite (or --database-url) against the emulators, with one mirrored X conversation, and fires
`--concurrency` signed requests at once, `--rounds` times: a mix of `/social` subcommands (help,
queue, find, assign, reply — the reply's platform call runs after the ack) and card button clicks.
Then the same load against a bare Bolt app behind the same server that only acks. Slack's limit
is 3 s. Prints numbers; asserts nothing.

    python bench/ack_latency.py [--concurrency 50] [--rounds 4] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import requests
import uvicorn
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from app import build
from bot import ids
from bot.settings import load_settings
from bot.web import build_http_app
from sandbox.emulators.server import Emulator
from sandbox.emulators.stack import SIGNING_SECRET, EmulatorStack, free_port

CHANNEL = "C0SUPPORT"


def serve(asgi_app: object) -> tuple[uvicorn.Server, str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(asgi_app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, f"http://127.0.0.1:{port}"


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    return {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)}


def requests_mix(n: int, ref: int, response_url: str, round_no: int) -> list[str]:
    def command(text: str, i: int) -> str:
        return urlencode({"command": "/social", "text": text, "user_id": f"U0AGENT{i % 5}", "channel_id": CHANNEL,
                          "team_id": "T0", "response_url": response_url, "trigger_id": f"{round_no}.{i}.t"})

    def click(action_id: str, i: int) -> str:
        payload = {"type": "block_actions", "user": {"id": f"U0AGENT{i % 5}"}, "team": {"id": "T0"},
                   "api_app_id": "A0", "trigger_id": f"{round_no}.{i}.c", "channel": {"id": CHANNEL},
                   "container": {"type": "message", "message_ts": "1.1", "channel_id": CHANNEL},
                   "response_url": response_url,
                   "actions": [{"type": "button", "action_id": action_id, "value": str(ref), "block_id": "b",
                                "action_ts": "1"}]}
        return urlencode({"payload": json.dumps(payload)})

    kinds = [
        lambda i: command("help", i),
        lambda i: command("queue", i),
        lambda i: command("find order", i),
        lambda i: command(f"assign #{ref} me", i),
        lambda i: command(f"reply #{ref} Thanks for waiting, update {round_no}-{i} coming", i),
        lambda i: click(ids.ACTION_ASSIGN_ME, i),
    ]
    return [kinds[i % len(kinds)](i) for i in range(n)]


def fire(base: str, bodies: list[str]) -> list[float]:
    def one(body: str) -> float:
        started = time.perf_counter()
        response = requests.post(f"{base}/slack/events", data=body.encode(), headers=signed(body), timeout=30)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        return elapsed

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, bodies))


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"{name:<28} n={len(samples):<4} p50={statistics.median(ordered) * 1000:7.1f} ms   "
          f"p99={p99 * 1000:7.1f} ms   max={ordered[-1] * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    receiver = Emulator()
    receiver.route("POST", r"/respond", lambda request: {"ok": True})
    with tempfile.TemporaryDirectory() as tmp, EmulatorStack() as stack, receiver:
        stack.slack.add_channel("support", id=CHANNEL)
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        env = stack.environment(database_url=url, channel=CHANNEL, port=free_port())
        env |= {"PARLEY_SLACK_MIN_INTERVAL": "1ms"}
        parley = build(load_settings(_env_file=None, **{k.lower(): v for k, v in env.items() if v}))
        user = stack.x.add_user("dana", "Dana Scully", followers=120)
        stack.x.add_tweet(user, "@acme my order never arrived", created_at=datetime.now(UTC) - timedelta(minutes=5))
        parley.poll_all()
        parley.outbox.drain()
        parley_server, parley_base = serve(parley.http)

        # Same Slack emulator behind it, so Bolt's per-request authorization costs both apps the same.
        bare = App(signing_secret=SIGNING_SECRET,
                   client=WebClient(token=env["SLACK_BOT_TOKEN"], base_url=env["SLACK_API_URL"]))
        bare.command(ids.SLASH_COMMAND)(lambda ack: ack())
        bare.action(ids.ACTION_ASSIGN_ME)(lambda ack: ack())
        bare_server, bare_base = serve(build_http_app(bolt=bare, facebook=None, health=lambda: (True, {}),
                                                          slack_signing_secret=SIGNING_SECRET))

        respond_url = receiver.base_url + "/respond"
        fire(parley_base, requests_mix(6, 1, respond_url, 0))  # warm up: imports, pools, first queries
        fire(bare_base, requests_mix(6, 1, respond_url, 0))
        ours, theirs = [], []
        for round_no in range(1, args.rounds + 1):
            ours += fire(parley_base, requests_mix(args.concurrency, 1, respond_url, round_no))
            theirs += fire(bare_base, requests_mix(args.concurrency, 1, respond_url, round_no))
        print(f"{args.concurrency} concurrent signed requests x {args.rounds} rounds, "
              f"database {url.split(':')[0]}; Slack's ack limit is 3000 ms")
        report("Parley (/social + buttons)", ours)
        report("bare Bolt (ack only)", theirs)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(stack.x.created_tweets) < args.rounds * args.concurrency // 6:
            time.sleep(0.1)
        print(f"replies sent to X after their acks: {len(stack.x.created_tweets)}")
        for server in (parley_server, bare_server):
            server.should_exit = True
        parley.stop()


if __name__ == "__main__":
    main()
