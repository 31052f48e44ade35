"""`/social stats` and App Home through signed requests to the real HTTP endpoint: the numbers shown
are the ones computed from the database, and Home is published (views.publish, recorded by the Slack
emulator) with the user's sections, inside Block Kit's limits however many conversations there are.

The app's clock is fixed (`sender.clock`), so the figures compared are computed at the same instant.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot import ids
from bot.cards import SECTION_TEXT_MAX, VIEW_BLOCKS_MAX, stats
from bot.reports.export import read_csv
from bot.reports.figures import figures, parse_period
from bot.store.models import Conversation, Customer, Status
from commands.home import republish_homes
from tests.bot.reports.test_figures import add_case
from tests.e2e.conftest import CHANNEL
from tests.e2e.slack_requests import AGENT, SlackSession, serve, wait_for  # noqa: F401

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


def hours_ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def served_at_now(serve) -> SlackSession:  # noqa: F811
    session = serve()
    session.parley.sender.clock = lambda: NOW
    return session


def test_stats_shows_the_figures_computed_from_the_database(serve):  # noqa: F811
    session = served_at_now(serve)
    store = session.parley.store
    add_case(store, seen=hours_ago(30), answered=hours_ago(29.5), status=Status.RESOLVED, resolved=hours_ago(29),
             complaint=True, matches=("acme",))
    add_case(store, seen=hours_ago(50), answered=hours_ago(44), status=Status.PENDING)  # 6h: late
    overdue = add_case(store, seen=hours_ago(5), waiting_since=hours_ago(5), complaint=True)
    add_case(store, seen=hours_ago(24 * 10), answered=hours_ago(24 * 10 - 1), status=Status.PENDING)  # outside 7d

    assert session.command("stats 7d").status_code == 200
    [reply] = session.responses(1)

    with store.transaction() as db:
        expected = figures(db, parse_period("7d", NOW), session.parley.service_level, NOW)
    shown = stats(expected, now=NOW)
    assert reply["response_type"] == "ephemeral"
    assert reply["blocks"] == shown.blocks and reply["text"] == shown.text
    assert (expected.answered, expected.new_conversations, expected.open, expected.overdue) == (2, 3, 1, 1)
    assert expected.sla_compliance_pct == pytest.approx(100 / 3)  # 1 hit of 2 answered + 1 overdue
    assert expected.complaint_response_rate_pct == 50.0
    assert "Last 7 days: 1 open, 1 overdue, 2 answered, SLA compliance 33.3%" in reply["text"]
    assert f"#{overdue}" in json.dumps(reply["blocks"])  # the oldest waiting


def test_stats_defaults_to_7d_and_refuses_an_unknown_period(serve):  # noqa: F811
    session = served_at_now(serve)
    session.command("stats")
    [default] = session.responses(1)
    session.command("stats fortnight")
    refused = session.responses(2)[1]
    assert "Last 7 days" in default["text"]
    assert refused["response_type"] == "ephemeral"
    assert "`fortnight` is not a period" in refused["text"] and "`24h`, `7d`, `30d`" in refused["text"]


def _home_event(user: str, tab: str = "home") -> dict:
    return {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": tab, "event_ts": "1.0"}


def _published(stack, user: str) -> list[dict]:
    return [v["view"] for v in stack.slack.views if v["method"] == "views.publish" and v["user_id"] == user]


def _block_text(view: dict, prefix: str) -> str:
    parts = []
    for block in view["blocks"]:
        if block.get("block_id", "").startswith(prefix):
            parts.append(block.get("text", {}).get("text", ""))
            parts += [e.get("text", "") for e in block.get("elements", [])]
    return "\n".join(parts)


def test_opening_home_publishes_the_users_sections(serve, stack):  # noqa: F811
    stack.slack.add_user(AGENT, "agent")
    session = served_at_now(serve)
    store = session.parley.store
    mine = add_case(store, seen=hours_ago(1), waiting_since=hours_ago(1), assignee=AGENT, channel=CHANNEL)
    unassigned = add_case(store, seen=hours_ago(2), waiting_since=hours_ago(2), channel=CHANNEL)
    late = add_case(store, seen=hours_ago(9), waiting_since=hours_ago(9), assignee="U0OTHER", channel=CHANNEL)

    session.event(_home_event(AGENT, tab="messages"), event_id="Ev0HOME0")
    session.event(_home_event(AGENT), event_id="Ev0HOME1")
    wait_for(lambda: _published(stack, AGENT), what="views.publish")

    [view] = _published(stack, AGENT)  # the Messages tab published nothing
    assert view["type"] == "home" and view["callback_id"] == ids.CALLBACK_HOME
    home = ids.BLOCK_HOME
    assert f"#{mine}" in _block_text(view, f"{home}.mine.rows")
    assert "left" in _block_text(view, f"{home}.mine.rows")  # its SLA state
    assert f"#{unassigned}" in _block_text(view, f"{home}.unassigned.rows")
    assert f"#{mine}" not in _block_text(view, f"{home}.unassigned")
    overdue = _block_text(view, f"{home}.overdue.rows")
    assert f"#{late}" in overdue and f"#{mine}" not in overdue
    today = next(b for b in view["blocks"] if b.get("block_id") == f"{home}.today")
    assert "*Open*\n3" in [f["text"] for f in today["fields"]]
    health = _block_text(view, f"{home}.health")
    assert "X" in health and "Facebook" in health

    # The refresh job republishes for whoever opened Home recently.
    assert republish_homes(session.parley) == 1
    assert len(_published(stack, AGENT)) == 2


def test_a_busy_home_stays_within_block_kit_limits(serve, stack):  # noqa: F811
    stack.slack.add_user(AGENT, "agent")
    session = served_at_now(serve)
    with session.parley.store.transaction() as db:
        for n in range(300):
            customer = Customer(platform="x", external_id=f"busy{n}", handle=f"busy{n}", name=f"Busy {n}")
            db.add(customer)
            db.flush()
            db.add(Conversation(platform="x", kind="mention", thread_key=f"busy{n}", customer_id=customer.id,
                                channel=CHANNEL, first_seen_at=hours_ago(10 + n / 60),
                                waiting_since=hours_ago(10 + n / 60), assignee=AGENT if n % 2 else None))

    session.event(_home_event(AGENT), event_id="Ev0BUSY")
    wait_for(lambda: _published(stack, AGENT), what="views.publish")

    [view] = _published(stack, AGENT)
    assert len(view["blocks"]) <= VIEW_BLOCKS_MAX
    for block in view["blocks"]:
        texts = [block.get("text", {}).get("text", "")] + [f["text"] for f in block.get("fields", [])]
        assert all(len(t) <= SECTION_TEXT_MAX for t in texts)
    assert "more" in _block_text(view, f"{ids.BLOCK_HOME}.overdue.more")


def served_with_agent(serve, stack) -> SlackSession:  # noqa: F811
    stack.slack.add_user(AGENT, "agent")  # conversations.open needs a real user
    return served_at_now(serve)


def _dm(stack, user: str) -> str:
    return next(c.id for c in stack.slack.channels.values() if c.is_im and c.user == user)


def test_stats_sends_the_periods_charts_to_the_persons_dm(serve, stack):  # noqa: F811
    session = served_with_agent(serve, stack)
    add_case(session.parley.store, seen=hours_ago(30), answered=hours_ago(29.5), matches=("acme",))
    session.command("stats 7d")
    session.responses(1)
    wait_for(lambda: len(stack.slack.uploads) == 4, what="four charts uploaded")
    assert [f.filename for f in stack.slack.uploads] == [
        "volume-2026-11-25.png", "sla-2026-11-25.png", "tone-2026-11-25.png", "share-of-voice-2026-11-25.png"]
    assert {f.channel for f in stack.slack.uploads} == {_dm(stack, AGENT)}  # never the shared channel
    assert all(f.data.startswith(b"\x89PNG") for f in stack.slack.uploads)
    assert stack.slack.uploads[0].initial_comment == "Charts: Last 7 days"


def test_export_sends_a_csv_of_the_period_to_the_persons_dm(serve, stack):  # noqa: F811
    session = served_with_agent(serve, stack)
    store = session.parley.store
    inside = add_case(store, seen=hours_ago(30), answered=hours_ago(29.5), status=Status.PENDING)
    add_case(store, seen=hours_ago(24 * 10))  # first seen before the 7 days
    session.command("export 7d")
    [reply] = session.responses(1)
    assert reply["text"] == "Sent 1 conversation(s) as CSV to your DM with Parley."
    [upload] = stack.slack.uploads
    assert upload.channel == _dm(stack, AGENT) and upload.filename == "parley-2026-11-25-7d.csv"
    rows = read_csv(io.StringIO(upload.data.decode("utf-8-sig")))
    assert [(r["ref"], r["first_response_calendar_s"]) for r in rows] == [(inside, 1800)]


def test_export_refuses_an_unknown_period(serve, stack):  # noqa: F811
    session = served_at_now(serve)
    session.command("export fortnight")
    [reply] = session.responses(1)
    assert "is not a period I know" in reply["text"] and stack.slack.uploads == []


def test_an_export_slack_refuses_says_so(serve, stack):  # noqa: F811
    session = served_with_agent(serve, stack)
    stack.slack.fail_next(r"/api/conversations\.open", 200, body={"ok": False, "error": "user_disabled"})
    session.command("export")
    [reply] = session.responses(1)
    assert reply["text"] == "The export could not be sent to your DM (user_disabled)."
    assert stack.slack.uploads == []


def test_home_headline_agrees_with_stats_for_the_same_period(serve, stack):  # noqa: F811
    stack.slack.add_user(AGENT, "agent")
    session = served_at_now(serve)
    store = session.parley.store
    add_case(store, seen=hours_ago(30), answered=hours_ago(29.5), status=Status.RESOLVED, resolved=hours_ago(29))
    add_case(store, seen=hours_ago(50), answered=hours_ago(44), status=Status.PENDING)
    add_case(store, seen=hours_ago(5), waiting_since=hours_ago(5), complaint=True)

    session.command("stats 7d")
    [reply] = session.responses(1)
    stats_fields = {f["text"].split("\n")[0]: f["text"].split("\n", 1)[1]
                    for b in reply["blocks"] for f in b.get("fields", [])}
    session.event(_home_event(AGENT), event_id="Ev0HEAD")
    wait_for(lambda: _published(stack, AGENT), what="views.publish")
    [view] = _published(stack, AGENT)
    [block] = [b for b in view["blocks"] if b.get("block_id") == f"{ids.BLOCK_HOME}.headline"]
    home = {f["text"].split("\n")[0]: f["text"].split("\n", 1)[1] for f in block["fields"]}

    # the 7-day column shows what /social stats 7d shows
    assert home["*SLA compliance*"].endswith(f" · {stats_fields['*SLA compliance*']} 7 days")
    stats_median = stats_fields["*First response, business hours*"].split(" · ")[0].removeprefix("median ")
    assert home["*First response (median)*"].endswith(f" · {stats_median} 7 days")
    assert home["*Backlog*"] == f"{stats_fields['*Open*']} open now"
    assert home["*Response rate*"].endswith(" · 66.7% 7 days")  # 2 of the 3 new cases answered
    assert home["*Resolution (median)*"].endswith(" · 1h 7 days")  # seen 30h ago, resolved 29h ago
