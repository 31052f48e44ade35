"""Storm mode end to end (issue 11): a few hundred mentions at once against a Slack emulator that
answers 429 beyond its per-channel limit, the real app polling X and delivering with its own worker.

Scaled down to run in seconds: Slack allows 10 posts/s per channel here, Parley paces at 100 ms,
and the storm window is 2 s, so the storm threshold is 20 routine cards (as 60 would be at 1/s
over a minute).
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from sqlmodel import col, select

from bot import ids
from bot.cards.rollup import rollup_refs
from bot.runtime import Parley
from bot.store.models import Conversation, Customer, OutboxItem, OutboxKind, OutboxStatus
from sandbox.emulators.slack_api import SlackEmulator
from sandbox.emulators.slack_workspace import Post
from sandbox.emulators.stack import EmulatorStack
from tests.e2e.conftest import CHANNEL
from tests.e2e.slack_requests import serve  # noqa: F401
from tests.e2e.test_social_lookup import Asker, listed

pytestmark = pytest.mark.e2e
MANAGERS = "C0MANAGERS"
COMPLAINT = "@acme you charged me twice and nobody answers, I want a refund now ({n})"
ROUTINE = "@acme nice dashboard, the new release looks good ({n})"
STORM_ENV = {"PARLEY_SLACK_MIN_INTERVAL": "100ms", "PARLEY_STORM_WINDOW": "2s", "PARLEY_STORM_ALERT_EVERY": "1s",
             "PARLEY_DIGEST_CHANNEL": MANAGERS}


@pytest.fixture
def stack() -> Iterator[EmulatorStack]:
    """The emulators, Slack enforcing 10 posts per second per channel (429 with Retry-After beyond)."""
    with EmulatorStack(slack=SlackEmulator(channel_rate_limit=(10, 1.0))) as stack:
        stack.slack.add_channel("social-support", id=CHANNEL)
        stack.slack.add_channel("managers", id=MANAGERS)
        yield stack


def seed(stack: EmulatorStack, n: int, *, every: int = 10, start: int = 0) -> dict[str, tuple[str, bool]]:
    """n mentions from n authors, every `every`-th a complaint: tweet id -> (author id, complaint)."""
    seeded = {}
    for i in range(start, start + n):
        author = stack.x.add_user(f"fan{i}", f"Fan {i}", followers=i * 10)
        complaint = i % every == every - 1
        seeded[stack.x.add_tweet(author, (COMPLAINT if complaint else ROUTINE).format(n=i))] = (author, complaint)
    return seeded


def drain_until(parley: Parley, done: Callable[[], bool], timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "storm did not settle in time"
        parley.outbox.drain()
        time.sleep(0.05)


def shown(posts: list[Post], keys: dict[str, int]) -> Counter[int]:
    """How often each conversation is shown top-level: its own card (by outbox key) or a roll-up entry."""
    seen: Counter[int] = Counter()
    for post in posts:
        if post.thread_ts:
            continue
        key = (post.metadata or {}).get("event_payload", {}).get("key", "")
        if key in keys:
            seen[keys[key]] += 1
        seen.update(rollup_refs(post.blocks))
    return seen


def card_keys(parley: Parley) -> dict[str, int]:
    with parley.store.transaction() as session:
        return dict(session.exec(select(OutboxItem.key, OutboxItem.conversation_id)
                                 .where(OutboxItem.kind == OutboxKind.POST_CARD)).all())


def test_a_storm_cards_complaints_rolls_up_the_rest_alerts_once_ends_and_files_the_spike(stack, serve) -> None:  # noqa: F811
    session = serve(**STORM_ENV)
    parley = session.parley
    parley.poll_all()  # the stream's starting point
    seeded = seed(stack, 300)
    parley.poll_all()
    with parley.store.transaction() as s:
        cases = {c.thread_key: (c.id, c.complaint) for c in s.exec(select(Conversation)).all()}
    assert len(cases) == 300  # nothing dropped: every mention is a stored case
    complaints = {cid for cid, complaint in cases.values() if complaint}
    assert len(complaints) == 30

    drain_until(parley, lambda: not parley.outbox.storms.storming(CHANNEL) and _settled(parley))

    posts = stack.slack.posts(CHANNEL)
    keys = card_keys(parley)
    seen = shown(posts, keys)
    assert set(seen) == {cid for cid, _ in cases.values()} and set(seen.values()) == {1}  # each exactly once
    carded = {keys[p.metadata["event_payload"]["key"]] for p in posts if p.metadata
              and p.metadata["event_payload"]["key"] in keys}
    assert complaints <= carded  # every complaint has its own card
    rollups = [p for p in posts if any(b.get("block_id") == ids.BLOCK_ROLLUP_TITLE for b in p.blocks)]
    assert rollups and all(len(p.blocks) <= 50 for p in rollups)
    assert sum(1 for p in posts if not p.thread_ts) < 100  # far fewer than 300 cards
    for post in rollups:  # the fallback text names every case it holds
        refs = [int(b["accessory"]["value"]) for b in post.blocks if "accessory" in b]
        assert all(f"#{ref}" in post.text for ref in refs)

    for channel in (CHANNEL, MANAGERS):  # the alert: posted once, edited in place, closed at the end
        [alert] = [m for m in stack.slack.workspace.messages[channel]
                   if any(b.get("block_id") == ids.BLOCK_SPIKE_ALERT for b in m.blocks)]
        final = alert.blocks[0]["text"]["text"]
        assert alert.versions and "Storm over" in final and "*Volume:* 300 mentions" in final
        assert "complaints 30" in final and "dashboard (270)" in final and "@fan299" in final  # the most followed
    # The whole spike as CSV, uploaded with files_upload_v2 into the alert's thread in the channel.
    [alert] = [p for p in posts if any(b.get("block_id") == ids.BLOCK_SPIKE_ALERT for b in p.blocks)]
    [upload] = stack.slack.uploads
    assert (upload.channel, upload.thread_ts) == (CHANNEL, alert.ts) and upload.data is not None
    rows = list(csv.DictReader(io.StringIO(upload.data.decode("utf-8-sig"))))
    assert sorted(int(r["#"]) for r in rows) == sorted(cid for cid, _ in cases.values())
    assert {int(r["#"]) for r in rows if r["complaint"] == "yes"} == complaints
    assert {r["shown as"] for r in rows} == {"card", "roll-up"} and all(r["link"].startswith("https://") for r in rows)
    with parley.store.transaction() as s:
        statuses = Counter(s.exec(select(OutboxItem.status).where(OutboxItem.kind == OutboxKind.POST_CARD)).all())
    assert set(statuses) == {OutboxStatus.SENT, OutboxStatus.ROLLED_UP}

    rolled = sorted(set(seen) - carded)
    with parley.store.transaction() as s:  # a case shown only in a roll-up is found like any other
        handle = s.get_one(Customer, s.get_one(Conversation, rolled[2]).customer_id).handle
    assert listed(Asker(session)(f"find @{handle}")) == [rolled[2]]
    # "Open as card" on a roll-up entry posts that case's own card, once however often it is clicked.
    for _ in range(2):
        assert session.click(ids.ACTION_OPEN_AS_CARD, str(rolled[0])).status_code == 200
    drain_until(parley, lambda: _own_cards(stack, rolled[0]) > 0)  # the click's work runs after the ack
    drain_until(parley, lambda: _settled(parley))
    assert _own_cards(stack, rolled[0]) == 1
    # The same from a big roll-up's menu (a static select option per entry).
    assert session.click(ids.ACTION_OPEN_AS_CARD, "", selected_value=str(rolled[3])).status_code == 200
    drain_until(parley, lambda: _own_cards(stack, rolled[3]) > 0)

    # A follow-up from a rolled-up case gets it its own card, then the follow-up in its thread.
    tweet, (author, _) = next((t, a) for t, a in seeded.items() if cases[t][0] == rolled[1])
    stack.x.add_tweet(author, "@acme also, where is the export button?", in_reply_to=tweet)
    parley.poll_all()
    drain_until(parley, lambda: _settled(parley))
    assert _own_cards(stack, rolled[1]) == 1
    with parley.store.transaction() as s:
        card_ts = s.get_one(Conversation, rolled[1]).slack_ts
    assert card_ts and len(stack.slack.workspace.thread(CHANNEL, card_ts)) == 2

    # The inflow has fallen: a handful of new mentions get cards of their own, and no new alert.
    before = len(stack.slack.posts(CHANNEL))
    seed(stack, 5, start=1000, every=1000)
    parley.poll_all()
    drain_until(parley, lambda: _settled(parley))
    new = stack.slack.posts(CHANNEL)[before:]
    assert len(new) == 5 and all(p.metadata["event_payload"]["key"].startswith("post_card:") for p in new)
    assert not parley.outbox.storms.storming(CHANNEL)


def _settled(parley: Parley) -> bool:
    with parley.store.transaction() as session:
        return session.exec(select(OutboxItem.id).where(
            col(OutboxItem.status).in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))).first() is None


def _own_cards(stack: EmulatorStack, conversation_id: int) -> int:
    return sum(1 for p in stack.slack.posts(CHANNEL)
               if p.metadata and p.metadata["event_payload"]["key"].startswith(f"post_card:{conversation_id}:"))
