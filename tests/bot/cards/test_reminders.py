"""Card SLA/replying/last-reply lines, SLA reminders, escalation, window reminders, digest, stats and
App Home — built without Slack, within Block Kit limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import ids
from bot.cards import (
    LastReply,
    PlatformHealthRow,
    ReportFigures,
    SlaBadge,
    conversation_card,
    digest,
    escalation_dm,
    home_view,
    sla_breach,
    sla_warning,
    stats,
    window_reminder,
)
from bot.cards.blocks import RED
from bot.store.models import Conversation, Customer, Message, Status
from tests.bot.cards.test_modal import (
    HOSTILE,
    NOW,
    assert_no_pings,
    block,
    check_blocks,
    check_message,
    row,
    row_lines,
    strings,
    text_of,
)


def card(**kw: object):
    conversation = Conversation(id=42, ref=42, platform="x", kind="mention", thread_key="1", customer_id=1,
                                channel="C1", status=kw.pop("status", Status.OPEN),
                                first_seen_at=NOW - timedelta(minutes=42))
    customer = Customer(platform="x", external_id="9", handle="maria_gz", name="María")
    opening = Message(conversation_id=42, platform="x", external_id="1", direction="inbound", kind="mention",
                      text="my invoice is wrong", author_id="9", created_at=NOW - timedelta(minutes=42))
    msg = conversation_card(conversation, customer, opening, now=NOW, **kw)
    check_message(msg)
    return msg


# --- the conversation card -----------------------------------------------------------------------


def test_card_without_new_arguments_is_unchanged_in_shape():
    msg = card()
    assert [b["block_id"] for b in msg.blocks] == [
        ids.BLOCK_CARD_TITLE, ids.BLOCK_CARD_TEXT, ids.BLOCK_CARD_LINK, ids.BLOCK_CARD_META,
        ids.BLOCK_CARD_PRIORITY, ids.BLOCK_CARD_ACTIONS,
    ]
    assert msg.colour is None
    assert msg.payload() == {"text": msg.text, "blocks": msg.blocks}


@pytest.mark.parametrize(
    ("state", "label", "shown", "red"),
    [
        ("ok", "12m left", "⏱️ 12m left", False),
        ("warning", "3m left", "⚠️ 3m left", False),
        ("breached", "overdue by 1h 05m", "🔴 overdue by 1h 05m", True),
        ("breached", "1h 05m late", "🔴 overdue · 1h 05m late", True),
        ("escalated", "overdue by 5h", "🚨 overdue by 5h · escalated", True),
        ("paused", "snoozed", "⏸️ SLA paused · snoozed", False),
        ("met", "answered in 9m", "✅ SLA met · answered in 9m", False),
    ],
)
def test_card_sla_line_and_colour(state: str, label: str, shown: str, red: bool):
    msg = card(sla=SlaBadge(state, label))
    assert shown in text_of(msg.blocks, ids.BLOCK_CARD_SLA)
    assert (msg.colour == RED) is red
    assert ("overdue" in msg.text) is red
    if red:  # the whole card moves into a red attachment; an update's blocks=[] clears an older version
        attachments = [{"color": RED, "blocks": msg.blocks, "fallback": msg.text}]
        assert msg.payload() == {"text": msg.text, "attachments": attachments}
        assert msg.update_payload() == {"text": msg.text, "blocks": [], "attachments": attachments}
    else:
        assert msg.colour is None
        assert msg.update_payload() == {"text": msg.text, "blocks": msg.blocks, "attachments": []}
    # The SLA line sits above the buttons, which stay last.
    assert msg.blocks[-1]["block_id"] == ids.BLOCK_CARD_ACTIONS


def test_card_no_sla_state_shows_no_line_and_unknown_state_is_refused():
    assert all(b["block_id"] != ids.BLOCK_CARD_SLA for b in card(sla=SlaBadge("none", "")).blocks)
    with pytest.raises(ValueError, match="SLA state"):
        SlaBadge("late", "x")


def test_card_shows_who_is_replying_and_the_last_reply():
    msg = card(
        status=Status.PENDING, replying_by="U0TWO",
        last_reply=LastReply(agent_id="U0ABC", public=False, at=NOW - timedelta(minutes=5),
                             url="https://x.com/messages/1"),
    )
    assert text_of(msg.blocks, ids.BLOCK_CARD_REPLYING) == "✍️ <@U0TWO> is replying"
    last = text_of(msg.blocks, ids.BLOCK_CARD_LAST_REPLY)
    assert last == "↪ Last reply by <@U0ABC> 5m ago (private) · <https://x.com/messages/1|view>"
    public = card(last_reply=LastReply(agent_id="U0ABC", public=True, at=NOW - timedelta(seconds=5)))
    assert text_of(public.blocks, ids.BLOCK_CARD_LAST_REPLY) == "↪ Last reply by <@U0ABC> &lt;1m ago (public)"


def test_card_replying_by_that_is_not_a_user_id_cannot_ping():
    msg = card(replying_by="<!channel>")
    assert_no_pings(msg.blocks)


# --- reminders -----------------------------------------------------------------------------------


def test_single_warning_mentions_and_names_the_conversation():
    msg = sla_warning([row(12, sla=SlaBadge("warning", "3m left"))], "<@U0ABC>")
    check_message(msg)
    head = text_of(msg.blocks, ids.BLOCK_REMINDER_HEAD)
    assert head.startswith("⚠️ <@U0ABC> #12 is close to its SLA target: ⚠️ 3m left")
    assert "#12" in msg.text and "<@U0ABC>" in msg.text
    assert "#12" in row_lines(msg)[0]


def test_breach_groups_many_conversations_in_one_message_within_limits():
    rows = [row(i, snippet=HOSTILE * 20, sla=SlaBadge("breached", f"overdue by {i}m")) for i in range(1, 201)]
    msg = sla_breach(rows, "<!subteam^S0TEAM> <@U0ABC>")
    check_message(msg)
    assert_no_pings(msg.blocks)
    head = text_of(msg.blocks, ids.BLOCK_REMINDER_HEAD)
    assert head.startswith("🔴 <!subteam^S0TEAM> <@U0ABC> 200 conversations are overdue")
    lines = row_lines(msg)
    named = " ".join(lines) + " " + text_of(msg.blocks, ids.BLOCK_LIST_MORE)
    for i in range(1, 201):
        assert f"#{i}>" in named or f"#{i}," in named or named.endswith(f"#{i}")
    assert all("🔴 overdue by" in line for line in lines)


def test_escalation_dm_names_each_breached_conversation_and_its_wait():
    rows = [row(5, waiting_since=NOW - timedelta(hours=6, minutes=10), sla=SlaBadge("escalated", "overdue by 2h")),
            row(9, waiting_since=NOW - timedelta(days=1, hours=2), sla=SlaBadge("escalated", "overdue by 20h"))]
    msg = escalation_dm(rows, NOW)
    check_message(msg)
    lines = row_lines(msg)
    assert "#5" in lines[0] and "waiting 6h 10m" in lines[0] and "escalated" in lines[0]
    assert "#9" in lines[1] and "waiting 1d 2h" in lines[1]
    assert "#5" in msg.text and "#9" in msg.text


def test_window_reminder_says_when_and_what_after():
    msg = window_reminder([row(3, platform="facebook", kind="messenger", handle="Ana")],
                          "Messenger 24-hour window", NOW + timedelta(hours=2),
                          "only HUMAN_AGENT replies up to 7 days", now=NOW)
    check_message(msg)
    head = text_of(msg.blocks, ids.BLOCK_REMINDER_HEAD)
    assert head.startswith("⏳ Messenger 24-hour window closes in 2h (<!date^")
    assert "for #3; after that only HUMAN_AGENT replies up to 7 days." in head
    many = window_reminder([row(1), row(2)], "Private reply {window} <!here>", NOW, "no private reply")
    check_message(many)
    assert "closes at <!date^" in many.blocks[0]["text"]["text"]
    assert "<!here>" not in many.blocks[0]["text"]["text"]


def test_reminders_need_rows():
    with pytest.raises(ValueError):
        sla_warning([], "<@U0ABC>")


# --- digest and stats ----------------------------------------------------------------------------


def figures(**kw: object) -> ReportFigures:
    fields = dict(
        period_label="Mon 3 Mar", open=12, overdue=3, answered=40,
        median_first_response_business=timedelta(minutes=14), p90_first_response_business=timedelta(hours=2),
        median_first_response_calendar=timedelta(minutes=20), p90_first_response_calendar=timedelta(hours=9),
        sla_compliance_pct=96.4, complaint_response_rate_pct=100.0, oldest_waiting=row(7),
        new_conversations=30, resolved=28, share_of_voice={"acme": 124, "rival": 76},
    )
    fields.update(kw)
    return ReportFigures(**fields)


def test_digest_shows_every_figure():
    msg = digest(figures(), now=NOW)
    check_message(msg)
    everything = " ".join(strings(msg.blocks))
    for expected in ("Daily digest · Mon 3 Mar", "*Open*\n12", "*Overdue*\n3", "*Answered*\n40", "30 / 28",
                     "96.4%", "100%", "median 14m · p90 2h", "median 20m · p90 9h", "acme 62% (124)",
                     "rival 38% (76)"):
        assert expected in everything, expected
    oldest = text_of(msg.blocks, ids.BLOCK_REPORT_OLDEST)
    assert "#7" in oldest and "waiting 42m" in oldest
    assert "12 open, 3 overdue, 40 answered" in msg.text


def test_missing_figures_show_a_dash_and_stats_uses_its_own_title():
    msg = stats(figures(
        median_first_response_business=None, p90_first_response_business=None,
        median_first_response_calendar=None, p90_first_response_calendar=None,
        sla_compliance_pct=None, complaint_response_rate_pct=None, oldest_waiting=None, share_of_voice={},
        period_label="last 7 days",
    ))
    check_message(msg)
    fields = [f["text"] for f in block(msg.blocks, ids.BLOCK_REPORT_FIGURES)["fields"]]
    assert "*SLA compliance*\n—" in fields and "*Complaints answered*\n—" in fields
    assert "*First response, business hours*\nmedian — · p90 —" in fields
    assert "—" in text_of(msg.blocks, ids.BLOCK_REPORT_OLDEST)
    assert msg.blocks[0]["text"]["text"] == "📊 Stats · last 7 days"
    assert all(b["block_id"] != ids.BLOCK_REPORT_VOICE for b in msg.blocks)


# --- App Home ------------------------------------------------------------------------------------


def health() -> list[PlatformHealthRow]:
    return [
        PlatformHealthRow("X", True, NOW - timedelta(minutes=2)),
        PlatformHealthRow("Facebook", False, NOW - timedelta(hours=3), "token expired <!channel>"),
        PlatformHealthRow("Messenger", True, NOW, None, NOW + timedelta(minutes=15)),
    ]


def test_home_view_sections_and_health():
    view = home_view(user_id="U0ABC", mine=[row(1, sla=SlaBadge("warning", "3m left"))], unassigned=[],
                     overdue=[row(2, sla=SlaBadge("breached", "overdue by 5m"))], today=figures(),
                     platforms=health(), now=NOW)
    assert view["type"] == "home" and view["callback_id"] == ids.CALLBACK_HOME
    check_blocks(view["blocks"], 100)
    assert_no_pings(view["blocks"])
    mine = text_of(view["blocks"], f"{ids.BLOCK_HOME}.mine.rows.0")
    assert "#1" in mine and "⚠️ 3m left" in mine
    assert "Every open conversation has an owner" in text_of(view["blocks"], f"{ids.BLOCK_HOME}.unassigned.empty")
    assert "🔴 overdue by 5m" in text_of(view["blocks"], f"{ids.BLOCK_HOME}.overdue.rows.0")
    lines = text_of(view["blocks"], f"{ids.BLOCK_HOME}.health.0").splitlines()
    assert lines[0] == "✅ *X* · last successful poll 2m ago"
    assert lines[1].startswith("❌ *Facebook* · last successful poll 3h ago · token expired &lt;!channel&gt;")
    assert lines[2].startswith("⏸️ *Messenger* · paused for 15m more")


def test_home_view_lists_the_failing_checks_under_connections():
    line = "✗ facebook: the Page token has expired — generate a non-expiring Page token"
    view = home_view(user_id="U0ABC", mine=[], unassigned=[], overdue=[], today=figures(), platforms=health(),
                     now=NOW, checks=[line, "⚠ database: 2 customer messages could not be stored"])
    check_blocks(view["blocks"], 100)
    lines = text_of(view["blocks"], f"{ids.BLOCK_HOME}.health.0").splitlines()
    assert lines[3:] == [line, "⚠ database: 2 customer messages could not be stored"]


def test_busy_home_view_stays_within_100_blocks_and_names_the_rest():
    rows = [row(i, snippet="😡" * 3000) for i in range(1, 1001)]
    platforms = [PlatformHealthRow(f"p{i}", False, None, "e" * 5000) for i in range(60)]
    view = home_view(user_id="U0ABC", mine=rows, unassigned=rows, overdue=rows, today=figures(),
                     platforms=platforms, now=NOW)
    check_blocks(view["blocks"], 100)
    for key in ("mine", "unassigned", "overdue"):
        more = text_of(view["blocks"], f"{ids.BLOCK_HOME}.{key}.more")
        assert more.startswith("…and 985 more: #16, #17")
    assert text_of(view["blocks"], f"{ids.BLOCK_HOME}.health.more").startswith("…and 40 more")
