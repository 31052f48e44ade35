"""Kill drill (issue 11): `kill -9` at random moments during a spike; nothing lost, nothing twice.

Real `parley run` processes (HTTP mode, each on its own PORT) against the loopback emulators: one on
SQLite, or `--replicas` sharing one fresh PostgreSQL database (created from PARLEY_TEST_POSTGRES_URL,
dropped at the end). The spike — X mentions from distinct authors, a few Facebook comments and
Messenger DMs — is seeded partly before the start and the rest during the rounds, and public replies
are requested as staff do, with signed `/social reply #N …` commands to a replica's /slack/events
(while it is being killed: a request that got no answer is sent again, as Slack would, to another
replica with the same trigger id). Each round kills one random replica (some rounds all of them) at
a random moment and starts it again. At the end the drill waits for quiescence (nothing queued or in
flight in the database) and checks what the emulators recorded:
- every mention stored once, and every conversation shown once at the top level of the channel:
  its card, or one entry of a storm-mode roll-up (bot/delivery/storm.py) — followed, by design, by
  its own card once staff act on it (bot.store.outbox.open_card), which is no duplicate;
- every reply Slack was answered for posted exactly once on X / Graph.

    python -m bench.kill_drill [--rounds 20] [--database sqlite|postgres] [--replicas 3] [--mentions 600]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import requests
import sqlalchemy as sa
from slack_sdk.signature import SignatureVerifier

from bot import ids
from bot.store.database import make_engine, upgrade
from sandbox.emulators.server import Emulator
from sandbox.emulators.stack import SIGNING_SECRET, EmulatorStack, free_port

ROOT = Path(__file__).resolve().parents[1]
CHANNEL = "C0SUPPORT"
_OWN_ENV = ("SLACK_", "X_", "FACEBOOK_", "PARLEY_", "INSTAGRAM_", "EMAIL_", "DATABASE_URL", "PORT")


@dataclass
class Tally:
    """What one round (or the whole drill) saw; `lost_*` and `duplicate_*` must all be 0."""

    mentions_sent: int = 0
    stored: int = 0
    conversations: int = 0
    carded: int = 0
    duplicate_cards: int = 0
    replies_requested: int = 0
    replies_sent: int = 0
    duplicate_replies: int = 0
    lost_mentions: int = 0
    lost_cards: int = 0
    lost_replies: int = 0
    replies_failed: int = 0  # marked failed in Parley (e.g. "outcome unknown" after a kill)
    killed_mid_flight: int = 0  # kills that landed while mentions, cards or replies were in flight

    @property
    def clean(self) -> bool:
        return not (self.duplicate_cards or self.duplicate_replies or self.lost_mentions or self.lost_cards
                    or self.lost_replies or self.replies_failed)

    def progress(self) -> str:
        """Mid-drill: what is done so far (the rest may still be on its way; only the end counts losses)."""
        return (f"stored {self.stored}/{self.mentions_sent}, carded {self.carded}/{self.conversations}, replies "
                f"posted {self.replies_sent}/{self.replies_requested}; duplicates: cards {self.duplicate_cards}, "
                f"replies {self.duplicate_replies}")

    def line(self) -> str:
        return (f"mentions sent {self.mentions_sent}, stored {self.stored}; conversations {self.conversations}, "
                f"carded {self.carded}, duplicate cards {self.duplicate_cards}; replies requested "
                f"{self.replies_requested}, public replies sent {self.replies_sent}, duplicates "
                f"{self.duplicate_replies}; lost: mentions {self.lost_mentions}, cards {self.lost_cards}, "
                f"replies {self.lost_replies}; replies Parley marked failed {self.replies_failed}")


@dataclass
class Replica:
    index: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['PORT']}"

    def start(self) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_ENV)}
        self.starts += 1
        with self.log.open("a") as sink:  # a file, not a pipe: an unread pipe blocks a chatty process
            sink.write(f"--- start {self.starts}\n")
            sink.flush()
            self.process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env={**clean, **self.env},
                                            stdout=subprocess.DEVNULL, stderr=sink)

    def kill_9(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill_9()

    def serving(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).status_code in (200, 503)
        except requests.RequestException:
            return False


@dataclass
class Drill:
    stack: EmulatorStack
    database_url: str
    replicas: list[Replica]
    rng: random.Random
    respond_url: str
    seeded: dict[tuple[str, str], str] = field(default_factory=dict)  # (platform, external id) → text
    requested: dict[int, str] = field(default_factory=dict)  # conversation id → reply text asked for
    _fb_post: str = ""
    _serial: int = 0

    # --- the spike ----------------------------------------------------------------------------
    def seed(self, n: int) -> None:
        """`n` customer messages: mostly X mentions from distinct authors, every 20th a Facebook
        comment, every 50th a Messenger DM (complaints sprinkled in, so some cards jump the queue)."""
        graph = self.stack.graph
        if not self._fb_post:
            self._fb_post = graph.add_post("Our winter sale starts today")
        for _ in range(n):
            self._serial += 1
            i, tag = self._serial, uuid.uuid4().hex[:6]
            if i % 50 == 0:
                name = f"Dm Writer {i}"
                text = f"Hello, where is my parcel {i} ({tag})?"
                mid = graph.add_messenger_message(graph.user(name), name, text)
                self.seeded[("facebook", mid)] = text
            elif i % 20 == 0:
                name = f"Commenter {i}"
                text = f"My refund {i} is late ({tag})"
                comment = graph.add_comment(self._fb_post, (graph.user(name), name), text)
                self.seeded[("facebook", comment)] = text
            else:
                user = self.stack.x.add_user(f"drill{i}", f"Drill {i}", followers=(i * 37) % 5000)
                text = (f"@acme you charged me twice, refund now {i} ({tag})" if i % 10 == 0
                        else f"@acme nice dashboard {i} ({tag})")
                self.seeded[("x", self.stack.x.add_tweet(user, text))] = text

    # --- staff replies --------------------------------------------------------------------------
    def request_replies(self, n: int) -> None:
        """Ask for `n` public replies to stored X mentions / Facebook comments not answered yet."""
        with self._db() as conn:
            rows = conn.execute(sa.text("SELECT id FROM conversations WHERE kind IN ('mention', 'comment')")).all()
        open_ = [r[0] for r in rows if r[0] not in self.requested]
        for conversation in self.rng.sample(open_, min(n, len(open_))):
            text = f"Sorry about that, we are on it ({uuid.uuid4().hex[:10]})"
            for _ in range(3):  # staff told "Nothing was saved; try again" (e.g. SQLite busy) do try again
                if self._command(f"reply #{conversation} {text}") and self._stored(text):
                    self.requested[conversation] = text
                    break

    def _stored(self, text: str) -> bool:
        """Whether a reply Slack was answered for is stored: a 200 may carry "Nothing was saved" (the
        database was busy), which is no loss — Parley said so — and is not counted as requested."""
        with self._db() as conn:
            return bool(conn.execute(sa.text("SELECT COUNT(*) FROM messages WHERE direction = 'outbound' "
                                             "AND text LIKE :t"), {"t": f"%{text}%"}).scalar_one())

    def _command(self, text: str) -> bool:
        """Send one signed slash command; when a replica gives no answer (being killed), send the same
        request (same trigger id) to another, as Slack's retry would; True once one answered 200."""
        body = urlencode({"command": "/social", "text": text, "user_id": "U0AGENT", "user_name": "agent",
                          "channel_id": CHANNEL, "team_id": "T0PARLEY", "response_url": self.respond_url,
                          "trigger_id": f"{uuid.uuid4().hex}.trigger"})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            replica = self.rng.choice(self.replicas)
            ts = str(int(time.time()))
            headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                       "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts,
                                                                                                 body=body)}
            try:
                answer = requests.post(f"{replica.url}/slack/events", data=body.encode(), headers=headers, timeout=5)
            except requests.RequestException:
                time.sleep(0.2)
                continue
            if answer.status_code == 200:
                return True
            time.sleep(0.2)
        return False

    # --- the checks -----------------------------------------------------------------------------
    @contextmanager
    def _db(self) -> Iterator[sa.Connection]:
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            engine.dispose()

    def in_flight(self) -> tuple[int, int, int]:
        """(mentions not stored yet, outbox items queued, outbound messages not settled)."""
        with self._db() as conn:
            stored = conn.execute(sa.text("SELECT COUNT(*) FROM messages WHERE direction = 'inbound'")).scalar_one()
            queued = conn.execute(sa.text(
                "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')")).scalar_one()
            unsettled = conn.execute(sa.text("SELECT COUNT(*) FROM messages WHERE direction = 'outbound' "
                                             "AND delivery_status IN ('pending', 'sending')")).scalar_one()
        return len(self.seeded) - stored, queued, unsettled

    def quiesce(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.in_flight() == (0, 0, 0) and len(self._replies()) >= len(self.requested):
                return True
            time.sleep(0.5)
        return False

    def _replies(self) -> list[str]:
        """The texts of every public reply the brand posted on X and on Facebook."""
        x = [t["text"] for t in self.stack.x.created_tweets if t.get("in_reply_to_tweet_id")]
        return x + [r["text"] for r in self.stack.graph.comment_replies]

    def tally(self) -> Tally:
        with self._db() as conn:
            inbound = conn.execute(sa.text(
                "SELECT platform, external_id FROM messages WHERE direction = 'inbound'")).all()
            conversations = {r[0] for r in conn.execute(sa.text("SELECT id FROM conversations")).all()}
            failed = conn.execute(sa.text("SELECT COUNT(*) FROM messages WHERE direction = 'outbound' "
                                          "AND delivery_status = 'failed'")).scalar_one()
        stored = Counter((p, e) for p, e in inbound)
        shown = appearances(self.stack.slack.posts(CHANNEL))
        posted = self._replies()
        # A reply may be posted with more around it (X: the customer's @handle first); the text asked
        # for is unique per request, so it is found inside.
        sent = {text: sum(text in p for p in posted) for text in self.requested.values()}
        wanted = list(self.requested.values())
        return Tally(
            mentions_sent=len(self.seeded), stored=sum(1 for k in self.seeded if stored[k]),
            conversations=len(conversations), carded=sum(1 for c in conversations if shown.get(c)),
            duplicate_cards=sum(extra_cards(kinds) for kinds in shown.values()),
            replies_requested=len(self.requested), replies_sent=sum(sent[t] for t in wanted),
            duplicate_replies=sum(sent[t] - 1 for t in wanted if sent[t] > 1),
            lost_mentions=sum(1 for k in self.seeded if not stored[k]),
            lost_cards=sum(1 for c in conversations if not shown.get(c)),
            lost_replies=sum(1 for t in wanted if not sent[t]), replies_failed=failed,
        )


def appearances(posts: list) -> dict[int, list[str]]:
    """Every top-level appearance of each case: "card" (its card), "own" (the card a case shown in a
    roll-up gets when staff act on it or it is opened: bot.store.outbox.open_card) or "rollup" (an
    entry of a storm-mode roll-up, found by its Open-as-card button)."""
    seen: dict[int, list[str]] = {}
    for post in posts:
        if post.thread_ts:
            continue
        key = (post.metadata or {}).get("event_payload", {}).get("key", "")
        if key.startswith("post_card:"):
            _, case, suffix = key.split(":", 2)
            seen.setdefault(int(case), []).append("own" if suffix == "own" else "card")
        for block in post.blocks:
            if block.get("accessory", {}).get("action_id") == ids.ACTION_OPEN_AS_CARD:
                seen.setdefault(int(block["accessory"]["value"]), []).append("rollup")
    return seen


def extra_cards(kinds: list[str]) -> int:
    """How many of a case's appearances are duplicates: at most one card, and at most one roll-up entry
    followed, only after a staff action or "Open as card", by its own card."""
    cards, own, rolled = kinds.count("card"), kinds.count("own"), kinds.count("rollup")
    if rolled == 0:
        return max(cards + own - 1, 0)
    return (rolled - 1) + cards + max(own - 1, 0)


def duplicates_detail(posts: list) -> list[str]:
    """For each case shown more than it may be: where (the post's ts and outbox key), for the report."""
    bad = {case for case, kinds in appearances(posts).items() if extra_cards(kinds)}
    where: dict[int, list[str]] = {}
    for post in posts:
        key = (post.metadata or {}).get("event_payload", {}).get("key", "?")
        for case in appearances([post]):
            if case in bad:
                where.setdefault(case, []).append(f"{post.ts} {key}")
    return [f"case {case}: {', '.join(seen)}" for case, seen in where.items()]


# --- running it ---------------------------------------------------------------------------------
@contextmanager
def fresh_database(kind: str, workdir: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'drill.db'}"
    else:
        admin_url = os.environ.get("PARLEY_TEST_POSTGRES_URL")
        if not admin_url:
            raise SystemExit("--database postgres needs PARLEY_TEST_POSTGRES_URL (source /tmp/devpg/env)")
        name = f"parley_drill_{uuid.uuid4().hex[:10]}"
        admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        if kind != "sqlite":
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def replica_env(stack: EmulatorStack, url: str, index: int) -> dict[str, str]:
    env = stack.environment(database_url=url, channel=CHANNEL, port=free_port())
    env |= {"INSTAGRAM_ACCOUNT_ID": "", "PARLEY_POLL_INTERVAL": "1s", "PARLEY_LEADER_INTERVAL": "1s",
            # Fast pacing so a spike drains within the drill, and a short storm window so storm mode
            # (roll-ups) is part of what gets killed.
            "PARLEY_SLACK_MIN_INTERVAL": "30ms", "PARLEY_STORM_WINDOW": "3s", "X_BEARER_TOKEN": f"replica-{index}"}
    return env


def run(*, rounds: int, database: str, replicas: int, mentions: int, seed: int | None = None,
        settle: float = 300.0, out=print) -> tuple[Tally, list[Tally]]:
    """Run the drill; (the final tally, the tally after each round). `out` receives progress lines."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp, EmulatorStack() as stack, fresh_database(database, Path(tmp)) as url:
        stack.slack.add_channel("social-support", id=CHANNEL)
        receiver = Emulator()
        receiver.route("POST", r"/respond", lambda request: {"ok": True})
        receiver.start()
        group = [Replica(i, replica_env(stack, url, i), Path(tmp) / f"replica-{i}.log") for i in range(replicas)]
        drill = Drill(stack, url, group, rng, receiver.base_url + "/respond")
        per_round: list[Tally] = []
        try:
            drill.seed(mentions * 2 // 5)
            for replica in group:
                replica.start()
            _wait_serving(group)
            for number in range(1, rounds + 1):
                per_round.append(_round(drill, number, mentions, rounds, out))
            if not drill.quiesce(settle):
                out(f"not quiet after {settle:.0f}s: (unstored, queued, unsettled) = {drill.in_flight()}")
            final = drill.tally()
            final.killed_mid_flight = sum(t.killed_mid_flight for t in per_round)
            for line in duplicates_detail(stack.slack.posts(CHANNEL))[:20]:
                out(f"duplicate: {line}")
        finally:
            for replica in group:
                replica.stop()
            receiver.stop()
            if os.environ.get("KILL_DRILL_LOGS"):
                for replica in group:
                    out(replica.log.read_text()[-4000:])
        return final, per_round


def _wait_serving(group: list[Replica], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(r.serving() for r in group):
        for replica in group:
            if replica.process is not None and replica.process.poll() is not None:
                raise RuntimeError(f"replica {replica.index} exited: {replica.log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError("replicas did not start serving")
        time.sleep(0.1)


def _round(drill: Drill, number: int, mentions: int, rounds: int, out) -> Tally:
    """Seed this round's share of the spike and ask for replies, kill -9 at a random moment, restart."""
    rng, group = drill.rng, drill.replicas
    share = (mentions - mentions * 2 // 5) // rounds
    drill.seed(share)
    drill.request_replies(rng.randint(1, 3))
    time.sleep(rng.uniform(0.2, 2.5))
    drill.request_replies(rng.randint(0, 2))
    victims = group if len(group) == 1 or rng.random() < 0.25 else [rng.choice(group)]
    busy = drill.in_flight() != (0, 0, 0)
    for victim in victims:
        victim.kill_9()
    for victim in victims:
        victim.start()
    _wait_serving(group)
    tally = drill.tally()
    tally.killed_mid_flight = int(busy)
    who = "all replicas" if len(victims) == len(group) > 1 else f"replica {victims[0].index}"
    out(f"round {number:2d}: killed {who}{' mid-flight' if busy else ' (idle)'}; so far: {tally.progress()}")
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--replicas", type=int, default=None, help="default: 1 on SQLite, 3 on PostgreSQL")
    parser.add_argument("--mentions", type=int, default=600)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    replicas = args.replicas or (1 if args.database == "sqlite" else 3)
    if args.database == "sqlite" and replicas != 1:
        raise SystemExit("SQLite is one process per database file: --replicas 1")
    started = time.monotonic()
    final, _ = run(rounds=args.rounds, database=args.database, replicas=replicas, mentions=args.mentions,
                   seed=args.seed, out=lambda line: print(line, flush=True))
    print(f"total ({args.database}, {replicas} replica(s), {args.rounds} rounds, {final.killed_mid_flight} kills "
          f"mid-flight, {time.monotonic() - started:.0f}s): {final.line()}")
    print("PASS: 0 lost, 0 duplicates" if final.clean else "FAIL")
    raise SystemExit(0 if final.clean else 1)


if __name__ == "__main__":
    main()
