"""Seeding for bench/large_store.py: N conversations with their customers, messages, audit entries and
search-query matches, written in bulk (SQLite executemany, PostgreSQL COPY), in chunks so memory stays
flat. Deterministic (seeded RNG), relative to the `now` it is given.

The shape (a store that grew over `days`, default four years: ~685 new cases a day at 1M):
- customers: one per three conversations, repeat customers skewed (a few write hundreds of times);
- conversations: X, Facebook, Instagram, e-mail; ids grow with time; old cases are resolved (a few
  abandoned ones stay open or pending), recent ones open/pending/snoozed/resolved in realistic shares;
- messages: the customer's first words (English, Spanish, a product name, an order number), our reply
  when answered, sometimes a follow-up, a second reply and an internal note (~2.8 per case);
- audit: a "resolve" entry per resolved case, a "snooze" per snoozed one; matches: 10% of X mentions.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

import sqlalchemy as sa

CHUNK = 20_000  # conversations per insert batch
AGENTS = [f"U0AGENT{i}" for i in range(1, 9)]
CHANNELS = ["C0SUPPORT", "C0SUPPORT", "C0SUPPORT", "C0VIP", "C0ES"]
PLATFORMS = [("x", ("mention", "mention", "dm", "search_hit"), "x_reply"),
             ("facebook", ("comment", "messenger", "visitor_post"), "fb_comment"),
             ("instagram", ("comment", "dm", "mention"), "ig_reply"), ("email", ("dm",), "email_reply")]
FIRST = ["dana", "walter", "kim", "fox", "maría", "josé", "lucía", "ahmed", "yuki", "olga", "pat", "sam"]
LAST = ["scully", "skinner", "mulder", "garcía", "pérez", "lópez", "tanaka", "ivanova", "smith", "doe"]
EN = ("where is my {p} order {o}? it is late and nobody answered", "I was charged twice for {p}, refund please",
      "the {p} app crashes on login since yesterday", "love the new {p} dashboard, great work",
      "package with {p} arrived damaged, tracking {o} says delivered", "how do I cancel my {p} subscription",
      "still waiting for my refund for order {o}", "password reset email never arrives")
ES = ("¿dónde está mi pedido {o}? llega tarde", "quiero una devolución del {p}, llegó roto",
      "me cobraron dos veces la suscripción {p}", "gracias por la ayuda con {p}")
REPLIES = ("Sorry about that! Could you DM us the order number?", "Thanks, we have refunded order {o}.",
           "We are looking into it and will update you today.")
NOTE = "Escalated to the {p} team, waiting on logistics"
PRODUCTS = [f"{a}{b}" for a in ("zor", "pla", "vex", "qua", "lum", "tri", "mon", "kel") for b in
            ("blex", "tron", "ora", "ix", "pad", "go", "max", "lite")]

CUSTOMER_COLUMNS = ("id", "platform", "external_id", "handle", "name", "followers", "verified", "created_at",
                    "updated_at")
CONVERSATION_COLUMNS = (
    "id", "ref", "platform", "kind", "thread_key", "customer_id", "query_names", "url", "status", "priority",
    "priority_reasons", "tone", "complaint", "language", "assignee", "channel", "slack_ts", "first_seen_at",
    "last_customer_message_at", "first_response_at", "last_response_at", "resolved_at", "snoozed_until",
    "waiting_since", "sla_paused_seconds", "csat_asked_at", "csat_score", "csat_at", "created_at", "updated_at")
MESSAGE_COLUMNS = ("id", "conversation_id", "platform", "external_id", "direction", "kind", "text", "author_id",
                   "author_name", "language", "tone", "complaint", "priority", "priority_reasons", "created_at",
                   "received_at", "delivered_at", "delivery_status")
AUDIT_COLUMNS = ("id", "at", "actor", "action", "conversation_id", "platform", "external_id", "outcome", "detail")
MATCH_COLUMNS = ("message_id", "query_name")


def customer_platform(customer_id: int) -> tuple[str, tuple[str, ...], str]:
    return PLATFORMS[(0, 0, 0, 1, 1, 2, 2, 3)[customer_id % 8]]


def customers(count: int, now: datetime) -> Iterator[tuple]:
    rng = random.Random(7)
    for cid in range(1, count + 1):
        platform = customer_platform(cid)[0]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        yield (cid, platform, f"{platform}-{cid}", f"{first}_{last}{cid}", f"{first.title()} {last.title()}",
               int(rng.paretovariate(1.2) * 50), rng.random() < 0.01, now, now)


def _status(rng: random.Random, age: timedelta) -> str:
    days = age.total_seconds() / 86400
    shares = ((0.40, 0.30, 0.25) if days < 1 else (0.80, 0.08, 0.10) if days < 7 else
              (0.95, 0.02, 0.03) if days < 30 else (0.9985, 0.0005, 0.001))
    roll = rng.random()
    if roll < shares[0]:
        return "resolved"
    if roll < shares[0] + shares[1]:
        return "open"
    return "pending" if roll < shares[0] + shares[1] + shares[2] else "snoozed"


def _text(rng: random.Random, spanish: bool) -> str:
    template = rng.choice(ES if spanish else EN)
    return template.format(p=rng.choice(PRODUCTS), o=f"#A{rng.randrange(10_000, 99_999)}")


def conversations(first: int, last: int, total: int, customers_count: int, now: datetime, days: int
                  ) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
    """Rows for conversations first..last (inclusive): (conversations, messages, audit, matches)."""
    rng = random.Random(first)
    convs, msgs, audit, matches = [], [], [], []
    for cid in range(first, last + 1):
        customer = 1 + int(customers_count * rng.random() ** 2)  # repeat customers: a skewed few
        platform, kinds, reply_kind = customer_platform(customer)
        seen = now - timedelta(days=days) * (1 - cid / total) - timedelta(seconds=rng.randrange(60))
        status = _status(rng, now - seen)
        spanish = rng.random() < 0.2
        answered = status != "open" and rng.random() < 0.97
        first_response = seen + timedelta(minutes=rng.expovariate(1 / 90)) if answered else None
        if first_response is not None and first_response > now:
            first_response = now - timedelta(seconds=1)
        resolved = (first_response or seen) + timedelta(hours=rng.expovariate(1 / 20)) if status == "resolved" else None
        resolved = min(resolved, now) if resolved else None
        follow_up = seen + timedelta(minutes=rng.randrange(5, 600)) if rng.random() < 0.4 else seen
        follow_up = min(follow_up, now)
        waiting = follow_up if status == "open" else None
        snoozed_until = now + timedelta(hours=rng.randrange(1, 48)) if status == "snoozed" else None
        complaint, tone = rng.random() < 0.15, rng.choice(("negative", "neutral", "positive", "neutral"))
        assignee = rng.choice(AGENTS) if rng.random() < 0.6 else None
        csat = resolved is not None and rng.random() < 0.05
        convs.append((cid, cid, platform, rng.choice(kinds), f"t{cid}", customer, "", None, status,
                      rng.choice(("urgent", "high", "normal", "normal", "normal", "low")), "", tone, complaint,
                      "es" if spanish else "en", assignee, rng.choice(CHANNELS), f"{seen.timestamp():.6f}", seen,
                      follow_up, first_response, first_response, resolved, snoozed_until, waiting, 0.0,
                      resolved if csat else None, rng.randint(1, 5) if csat else None, resolved if csat else None,
                      seen, resolved or seen))
        author = f"{platform}-{customer}"
        said = [("inbound", convs[-1][3], _text(rng, spanish), author, seen, None, "received")]
        if first_response is not None:
            said.append(("outbound", reply_kind, rng.choice(REPLIES).format(o=f"#A{rng.randrange(10_000, 99_999)}"),
                         assignee or AGENTS[0], first_response, first_response, "sent"))
        if follow_up > seen:
            said.append(("inbound", convs[-1][3], _text(rng, spanish), author, follow_up, None, "received"))
        if rng.random() < 0.1:
            said.append(("note", "note", NOTE.format(p=rng.choice(PRODUCTS)), AGENTS[1], seen, None, "received"))
        for i, (direction, kind, text, who, at, delivered, delivery) in enumerate(said):
            mid = cid * 4 + i  # unique, growing with the conversation (4 at most each)
            msgs.append((mid, cid, platform, f"m{mid}", direction, kind, text, who, "", "es" if spanish else "en",
                         tone if direction == "inbound" else None, complaint and direction == "inbound", None, "",
                         at, at, delivered, delivery))
        if platform == "x" and rng.random() < 0.1:
            matches.append((cid * 4, rng.choice(("brand", "competitor"))))
        if resolved is not None:
            audit.append((cid, resolved, assignee or "parley", "resolve", cid, platform, None, "ok", ""))
        elif status == "snoozed":
            audit.append((cid, now - timedelta(hours=1), AGENTS[0], "snooze", cid, platform, None, "ok", ""))
    return convs, msgs, audit, matches


def _sqlite_value(value: object) -> object:
    # SQLAlchemy's SQLite DateTime storage format (what UTCDateTime reads back and compares against).
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


def write(conn: sa.Connection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Bulk-insert rows: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    raw.cursor().executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                             [tuple(_sqlite_value(v) for v in row) for row in rows])


def seed(engine: sa.Engine, total: int, now: datetime, days: int) -> None:
    """Write `total` conversations and everything around them (see the module docstring)."""
    customers_count = max(1, total // 3)
    with engine.begin() as conn:
        batch: list[tuple] = []
        for row in customers(customers_count, now):
            batch.append(row)
            if len(batch) >= CHUNK * 2:
                write(conn, "customers", CUSTOMER_COLUMNS, batch)
                batch = []
        write(conn, "customers", CUSTOMER_COLUMNS, batch)
    for first in range(1, total + 1, CHUNK):
        convs, msgs, audit, matches = conversations(first, min(total, first + CHUNK - 1), total, customers_count,
                                                    now, days)
        with engine.begin() as conn:
            write(conn, "conversations", CONVERSATION_COLUMNS, convs)
            write(conn, "messages", MESSAGE_COLUMNS, msgs)
            write(conn, "audit_log", AUDIT_COLUMNS, audit)
            write(conn, "message_matches", MATCH_COLUMNS, matches)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("customers", "conversations", "messages", "audit_log"):
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))"))
