"""What a Parley process holds in memory (RSS), stage by stage, beside the floor of a bare Bolt app.

Each process is measured in a child of its own, against the emulators (run in this process):
- **bare Bolt floor**: `slack_bolt.App` with a Web API client, served by uvicorn's modules, no work;
- **Parley**: after `import app`; after `build(settings)` and `start_background()` (outbox worker,
  schedule), on a schema migrated beforehand as on every start but the first; after N X mentions
  were polled, classified (tone, complaint, language), stored and their cards posted. `peak` is the
  process's high-water mark (VmHWM) so far.

Prints numbers; asserts nothing.

    PYTHONPATH=. python bench/memory.py [--mentions 500] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the children import this tree
CHANNEL = "C0SUPPORT"


def status(field: str) -> float:
    """A VmRSS/VmHWM line of /proc/self/status, in MB."""
    with open("/proc/self/status") as lines:
        for line in lines:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status (Linux only)")


def stage(name: str) -> None:
    print(json.dumps({"stage": name, "rss": status("VmRSS"), "peak": status("VmHWM")}), flush=True)


# --- the measured processes (each runs as `memory.py --child KIND`) --------------------------------
def child_bolt(env: dict[str, str]) -> None:
    stage("python")
    import uvicorn  # noqa: PLC0415, F401 (what is measured is the import itself)
    from slack_bolt import Ack, App  # noqa: PLC0415
    from slack_sdk import WebClient  # noqa: PLC0415

    bolt = App(signing_secret=env["SLACK_SIGNING_SECRET"],
               client=WebClient(token=env["SLACK_BOT_TOKEN"], base_url=env["SLACK_API_URL"]))

    def only_ack(ack: Ack) -> None:
        ack()

    bolt.command("/social")(only_ack)
    stage("built")


def child_parley(env: dict[str, str]) -> None:
    stage("python")
    from app import build  # noqa: PLC0415 (what is measured is the import itself)
    from bot.settings import load_settings  # noqa: PLC0415

    stage("import app")
    parley = build(load_settings(_env_file=None, **{k.lower(): v for k, v in env.items() if v}))
    parley.start_background()
    stage("built and started")
    parley.poll_all()
    parley.outbox.drain()
    stage("after the mentions")
    parley.stop()


def run_child(kind: str, env: dict[str, str]) -> list[dict]:
    done = subprocess.run([sys.executable, __file__, "--child", kind], capture_output=True, text=True, check=True,
                          env=os.environ | {"BENCH_ENV": json.dumps(env), "PYTHONPATH": str(ROOT)})
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def measure(args: argparse.Namespace) -> None:
    from bot.store.database import Store  # noqa: PLC0415 (only the parent needs them)
    from sandbox.emulators.stack import EmulatorStack, free_port  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp, EmulatorStack() as stack:
        stack.slack.add_channel("support", id=CHANNEL)
        url = args.database_url or f"sqlite:///{Path(tmp) / 'memory.db'}"
        Store.from_url(url).dispose()  # the first start's migration, not measured
        env = stack.environment(database_url=url, channel=CHANNEL, port=free_port())
        env |= {"PARLEY_SLACK_MIN_INTERVAL": "1ms", "PARLEY_STORM_MODE": "false"}
        env = {k: v for k, v in env.items() if v}
        floor = run_child("bolt", env)
        start = datetime.now(UTC) - timedelta(minutes=30)
        phrases = ["my order never arrived, this is the third time", "love the new dashboard, great work",
                   "mi pedido no ha llegado todavía", "how do I reset my password?", "refund please, charged twice"]
        for i in range(args.mentions):
            user = stack.x.add_user(f"user{i}", f"User {i}", followers=10 + i)
            stack.x.add_tweet(user, f"@acme {phrases[i % len(phrases)]} #{i}", created_at=start + timedelta(seconds=i))
        stages = run_child("parley", env)
    print(f"RSS in MB, database {url.split(':')[0]}, {args.mentions} mentions; each process measured alone")
    for name, rows in (("bare Bolt floor", floor), ("Parley", stages)):
        for row in rows:
            print(f"{name:<16} {row['stage']:<24} rss={row['rss']:6.1f}   peak={row['peak']:6.1f}")
    base = floor[-1]["rss"]
    print(f"Parley after the mentions / bare Bolt floor: {stages[-1]['rss'] / base:.2f}x "
          f"(+{stages[-1]['rss'] - base:.1f} MB); the spike goal is a peak under 150 MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=500)
    parser.add_argument("--database-url")
    parser.add_argument("--child", choices=("bolt", "parley"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        {"bolt": child_bolt, "parley": child_parley}[args.child](json.loads(os.environ["BENCH_ENV"]))
    else:
        measure(args)


if __name__ == "__main__":
    main()
