"""Storm mode's sizing (bot/delivery/storm_plan.py) and the spike's CSV (bot/delivery/spike_file.py),
through the outbox worker: complaints before everything routine, a complaint storm's overflow in
complaint roll-ups while urgent, high-reach and private cases keep their own cards, roll-ups that
grow with the backlog, and the whole spike as CSV in the alert's thread when the storm ends. The
store (SQLite and PostgreSQL), the real WebClient and a SlackEmulator, with a fake clock."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlmodel import col, select, update

from bot import ids
from bot.cards.rollup import BUTTONS_MAX, ROLLUP_MAX, rollup_refs
from bot.delivery import storm_plan
from bot.delivery.storm import StormPolicy
from bot.store.models import Conversation, Customer, OutboxItem
from sandbox.emulators.slack_workspace import Post
from tests.bot.delivery.test_storm import POLICY, case, worker
from tests.bot.delivery.test_worker import CHANNEL, FakeClock

CARD_WITHIN = timedelta(seconds=2)  # 20 posts at the tests' 100 ms pace, as 60 s is at 1/s


def policy(**kw) -> StormPolicy:
    return StormPolicy(window=POLICY.window, update_every=timedelta(hours=1), card_within=CARD_WITHIN, **kw)


def big(store, conversation_id: int) -> int:
    """Make the case's author a large account (high reach)."""
    with store.transaction() as s:
        s.get_one(Customer, s.get_one(Conversation, conversation_id).customer_id).followers = 50_000
    return conversation_id


def arrived_at_once(store, clock: FakeClock) -> None:
    """Every queued item arrived now (as in a spike), whatever time creating them took."""
    with store.transaction() as s:
        s.exec(update(OutboxItem).values(created_at=clock()))


def own_card(post: Post) -> int | None:
    key = (post.metadata or {}).get("event_payload", {}).get("key", "")
    return int(key.split(":")[1]) if key.startswith("post_card:") else None


def is_rollup(post: Post, *, complaints: bool) -> bool:
    title = next((b for b in post.blocks if b.get("block_id") == ids.BLOCK_ROLLUP_TITLE), None)
    return title is not None and ("Complaint storm" in title["text"]["text"]) is complaints


def test_rollup_size_grows_with_the_storm_between_forty_and_the_most_a_message_holds() -> None:
    assert storm_plan.rollup_size(0) == storm_plan.rollup_size(800) == BUTTONS_MAX
    assert storm_plan.rollup_size(1200) == 60
    assert storm_plan.rollup_size(1600) == storm_plan.rollup_size(9500) == ROLLUP_MAX


def test_a_complaint_storm_cards_what_fits_in_time_and_rolls_up_the_rest_ahead_of_routine(
        store, slack, clock) -> None:
    routine = [case(store) for _ in range(30)]
    complaints = [case(store, complaint=True) for _ in range(40)]
    reach = big(store, case(store, complaint=True))  # a complaint from a large account: always its own card
    dm = case(store, kind="dm")
    arrived_at_once(store, clock)
    start = clock.epoch()

    worker(store, slack, clock, storm=policy()).drain()

    posts = slack.posts(CHANNEL)
    assert ids.BLOCK_SPIKE_ALERT in {b["block_id"] for b in posts[0].blocks}
    [late] = [n for n, p in enumerate(posts) if is_rollup(p, complaints=True)]
    rolled = rollup_refs(posts[late].blocks)
    carded = [own_card(p) for p in posts if own_card(p) is not None]
    # 18 slots in time (20 with the pace's margin), 3 kept for the alert and roll-ups, 1 for the complaint
    # roll-up, 1 for the high-reach complaint (urgent like them; the DM queues after complaints and takes
    # no slot): the 13 oldest plain complaints get their own cards.
    assert carded == [*complaints[:13], reach, dm] and rolled == complaints[13:]
    # The late ones wait a sixth of the 2 s for company (they are fewer than a full batch), then go
    # before any other card: visible within half a second of arriving.
    assert posts[late].at - start <= CARD_WITHIN.total_seconds() / 6 + 0.2
    assert all(own_card(p) in complaints for p in posts[1:late])
    last_card = max(p.at for p in posts if own_card(p) is not None)
    assert last_card - start <= CARD_WITHIN.total_seconds()  # every own card in time
    tail = posts[1 + len(carded) + 1:]
    assert tail and all(is_rollup(p, complaints=False) for p in tail)  # routine only once no card waits
    assert sorted(r for p in tail for r in rollup_refs(p.blocks)) == routine


def test_without_a_complaint_storm_every_complaint_gets_its_own_card_first(store, slack, clock) -> None:
    routine = [case(store) for _ in range(30)]
    complaints = [case(store, complaint=True) for _ in range(5)]

    worker(store, slack, clock, storm=policy()).drain()

    posts = slack.posts(CHANNEL)
    assert [own_card(p) for p in posts[1:6]] == complaints
    assert sorted(rollup_refs(posts[6].blocks)) == routine and len(posts) == 7


def test_rollups_hold_more_each_when_the_spike_is_larger(store, slack, clock, monkeypatch) -> None:
    monkeypatch.setattr(storm_plan, "ROLLUPS_PER_BACKLOG", 2)  # a storm of 130: roll-ups of 65, not 40
    routine = [case(store) for _ in range(130)]

    worker(store, slack, clock, storm=policy()).drain()

    sizes = [len(rollup_refs(p.blocks)) for p in slack.posts(CHANNEL) if is_rollup(p, complaints=False)]
    assert sizes == [65, 65] and sum(sizes) == len(routine)


def test_when_the_storm_ends_the_whole_spike_is_a_csv_in_the_alerts_thread(store, slack, clock) -> None:
    routine = [case(store) for _ in range(25)]
    formula = case(store, complaint=True, text="=HYPERLINK(\"https://evil.example\")")
    w = worker(store, slack, clock, storm=policy())
    w.drain()
    clock.advance(POLICY.window.total_seconds() * 3)  # nothing more arrives: the storm ends
    w.drain()
    assert not w.storms.storming(CHANNEL)

    alert = slack.posts(CHANNEL)[0]
    [upload] = slack.uploads
    assert (upload.channel, upload.thread_ts) == (CHANNEL, alert.ts)  # in the thread: not a top-level message
    assert upload.filename.endswith(".csv") and "26 mentions" in upload.title
    rows = list(csv.DictReader(io.StringIO(upload.data.decode("utf-8-sig"))))
    assert [int(r["#"]) for r in rows] == [*routine, formula]  # every case, in arrival order
    with store.transaction() as s:
        handles = dict(s.exec(select(Conversation.id, Customer.handle).join(
            Customer, Customer.id == Conversation.customer_id)).all())
    first = rows[0]
    assert (first["network"], first["author"], first["complaint"], first["shown as"]) == (
        "x", handles[routine[0]], "no", "roll-up")
    assert first["link"] == f"https://x.com/{first['author']}/status/{first['author'].removeprefix('fan')}"
    assert first["text"].startswith("nice dashboard") and first["reach"].isdigit() and first["tone"]
    last = rows[-1]
    assert (last["complaint"], last["shown as"]) == ("yes", "card")
    assert last["text"].startswith("'=HYPERLINK")  # a spreadsheet never runs customer words as a formula


def test_late_complaints_too_few_for_a_rollup_wait_a_little_while_other_cards_go(store, slack, clock) -> None:
    complaints = [case(store, complaint=True) for _ in range(5)]
    reach = big(store, case(store, complaint=True))  # urgent too, queued after them
    with store.transaction() as s:  # … but it has waited past the deadline: no card slot is in time
        s.exec(update(OutboxItem).where(col(OutboxItem.conversation_id) == reach)
               .values(created_at=clock() - 2 * CARD_WITHIN))
    routine = [case(store) for _ in range(30)]

    worker(store, slack, clock, storm=policy()).drain()

    posts = slack.posts(CHANNEL)
    # The five fresh complaints were held (too few for a roll-up, not waiting long), so the old
    # high-reach one went first; then, it gone, they were in time again and got their own cards.
    assert [own_card(p) for p in posts[1:7]] == [reach, *complaints]
    assert sorted(rollup_refs(posts[7].blocks)) == routine and len(posts) == 8
