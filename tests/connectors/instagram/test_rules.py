"""Instagram's reply rules: what each conversation kind allows, and the refusals with their reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.schedule.due import window_due, windows_for
from connectors.contract import Heard, Refusal, ReplyRequest
from connectors.instagram.rules import DM, PRIVATE, REPLY, RULES, mention_target

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def request(kind: str, heard: list[Heard], *, mode: str = "public", thread: str = "c1", text: str = "Hola",
            replied: frozenset[str] = frozenset()) -> ReplyRequest:
    return ReplyRequest(conversation_kind=kind, thread_key=thread, mode=mode,  # type: ignore[arg-type]
                        text=text, heard=heard, private_replied=replied, nudge_text="", now=NOW)


def test_a_comment_is_answered_under_its_top_level_comment_or_by_one_private_reply() -> None:
    heard = [Heard("comment", "c1", NOW - timedelta(hours=2)), Heard("comment", "c2", NOW - timedelta(hours=1))]
    assert RULES.plan(request("comment", heard)).op == REPLY
    assert RULES.plan(request("comment", heard)).in_reply_to == "c1"  # Instagram files replies to replies there
    private = RULES.plan(request("comment", heard, mode="private"))
    assert (private.op, private.in_reply_to) == (PRIVATE, "c2")
    with pytest.raises(Refusal, match="only one private reply per comment"):
        RULES.plan(request("comment", heard, mode="private", replied=frozenset({"c2"})))


def test_a_private_reply_after_seven_days_is_refused() -> None:
    old = [Heard("comment", "c1", NOW - timedelta(days=7, minutes=1))]
    with pytest.raises(Refusal, match="only within 7 days"):
        RULES.plan(request("comment", old, mode="private"))
    assert RULES.plan(request("comment", old)).op == REPLY  # a public reply still goes


def test_a_mention_is_answered_publicly_on_the_media_or_under_its_comment_never_privately() -> None:
    caption = [Heard("mention", "m1", NOW)]
    assert RULES.plan(request("mention", caption, thread="m1")).in_reply_to == mention_target("m1")
    in_comment = [Heard("mention", "c9", NOW)]
    assert RULES.plan(request("mention", in_comment, thread="m1")).in_reply_to == "mention:m1:c9"
    with pytest.raises(Refusal, match="only be answered publicly"):
        RULES.plan(request("mention", caption, thread="m1", mode="private"))


def test_dms_go_within_24_hours_as_human_agent_up_to_7_days_and_then_not_at_all() -> None:
    fresh = RULES.plan(request("dm", [Heard("dm", "d1", NOW - timedelta(hours=3))]))
    late = RULES.plan(request("dm", [Heard("dm", "d1", NOW - timedelta(hours=30))]))
    assert (fresh.op, fresh.human_agent_tag, late.human_agent_tag) == (DM, False, True)
    with pytest.raises(Refusal, match="7 days as a human agent"):
        RULES.plan(request("dm", [Heard("dm", "d1", NOW - timedelta(days=8))]))


def test_lengths_are_instagrams() -> None:
    with pytest.raises(Refusal, match="2,200 characters"):
        RULES.plan(request("comment", [Heard("comment", "c1", NOW)], text="x" * 2_201))
    with pytest.raises(Refusal, match="1,000 characters"):
        RULES.plan(request("dm", [Heard("dm", "d1", NOW)], text="x" * 1_001))


def test_the_window_reminders_cover_instagram_through_the_shipped_rules() -> None:
    assert [w.name for w in windows_for("instagram", "dm")] == ["ig_dm_24h", "ig_dm_human_agent"]
    due = window_due(7, "C1", "instagram", "dm", NOW - timedelta(hours=23), NOW)
    assert due is not None and due.window is not None and due.window.label == "Instagram 24-hour messaging window"
    comment = window_due(7, "C1", "instagram", "comment", NOW - timedelta(days=6, hours=1), NOW)
    assert comment is not None and comment.what == "ig_private_reply"
    assert window_due(7, "C1", "instagram", "mention", NOW - timedelta(days=6, hours=1), NOW) is None
