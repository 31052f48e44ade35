"""Storm mode's builders: the roll-up (Block Kit limits, escaping, the only link is the network's own,
every #N in the fallback text) and the spike alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import ids
from bot.cards import SlackMessage, slack_len
from bot.cards.rollup import (
    BUTTONS_MAX,
    ROLLUP_MAX,
    TEXT_BUDGET,
    RollupEntry,
    SpikeFigures,
    rollup,
    rollup_refs,
    spike_alert,
)

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
HOSTILE = "<!channel> hey <@U999> see <https://evil.example|your bank> & <!here> *bold*"


def entry(n: int, text: str = "nice dashboard", url: str | None = None, handle: str = "dana") -> RollupEntry:
    return RollupEntry(conversation_id=n, ref=n, platform="x", kind="mention", handle=f"{handle}{n}", text=text,
                       url=url if url is not None else f"https://x.com/{handle}{n}/status/{n}")


def entries(msg: SlackMessage) -> list[dict]:
    return [b for b in msg.blocks if b["block_id"].startswith(ids.BLOCK_ROLLUP_ENTRY)]


def assert_within_limits(msg: SlackMessage) -> None:
    assert 1 <= len(msg.blocks) <= 50 and 0 < slack_len(msg.text) <= 4000
    for block in msg.blocks:
        texts = [block["text"]] if "text" in block else block["elements"]
        assert all(0 < slack_len(t["text"]) <= 3000 for t in texts)
        accessory = block.get("accessory")
        if accessory:  # a button, or a menu of at most 100 options (text ≤ 75, value ≤ 150)
            labels = [o["text"] for o in accessory.get("options", [])] or [accessory["text"]]
            assert accessory["action_id"] == ids.ACTION_OPEN_AS_CARD and len(labels) <= 100
            assert all(slack_len(t["text"]) <= 75 for t in labels)
    block_ids = [b["block_id"] for b in msg.blocks]
    assert len(block_ids) == len(set(block_ids))
    # Slack refuses a message whose blocks are too long in total (msg_blocks_too_long, ~13k characters).
    assert sum(slack_len(b["text"]["text"]) for b in msg.blocks if "text" in b) <= TEXT_BUDGET + 500


def test_a_rollup_of_forty_gives_each_case_ref_author_link_and_an_open_as_card_button() -> None:
    msg = rollup([entry(n) for n in range(1, BUTTONS_MAX + 1)], storm_started=NOW)

    assert_within_limits(msg)
    rows = entries(msg)
    assert len(rows) == BUTTONS_MAX
    assert [row["accessory"]["value"] for row in rows] == [str(n) for n in range(1, BUTTONS_MAX + 1)]
    assert rollup_refs(msg.blocks) == list(range(1, BUTTONS_MAX + 1))
    first = rows[0]["text"]["text"]
    assert first.startswith("*#1*") and "@dana1" in first and "<https://x.com/dana1/status/1|open>" in first
    assert all(f"#{n}" in msg.text for n in range(1, BUTTONS_MAX + 1))  # every ref in the fallback text


@pytest.mark.parametrize("n", [47, 72, ROLLUP_MAX])
def test_a_bigger_rollup_lists_a_few_cases_per_section_each_openable_from_its_menu(n: int) -> None:
    msg = rollup([entry(i, text="the new release looks good " * 20) for i in range(1, n + 1)])

    assert_within_limits(msg)
    assert rollup_refs(msg.blocks) == list(range(1, n + 1))  # every case once, in order
    lines = "\n".join(b["text"]["text"] for b in entries(msg))
    assert all(f"*#{i}*" in lines and f"@dana{i}" in lines for i in range(1, n + 1))
    assert "<https://x.com/dana7/status/7|open>" in lines
    menu = entries(msg)[0]["accessory"]
    assert menu["type"] == "static_select" and menu["options"][0]["text"]["text"] == "#1 @dana1"
    assert all(f"#{i}" in msg.text for i in range(1, n + 1))


def test_a_full_rollup_of_the_longest_permalinks_stays_under_what_slack_takes_in_total() -> None:
    handle, status = "a" * 15, "1861234567890123456"  # X's longest handle, a 19-digit post id
    msg = rollup([RollupEntry(conversation_id=n, ref=100_000 + n, platform="x", kind="mention", handle=handle,
                              text="word " * 100, url=f"https://x.com/{handle}/status/{status}")
                  for n in range(ROLLUP_MAX)])
    assert_within_limits(msg)
    assert sum(slack_len(b["text"]["text"]) for b in msg.blocks if "text" in b) <= 12_000


def test_snippets_shrink_as_a_rollup_grows() -> None:
    def snippet(n: int) -> int:
        return max(len(line) for b in entries(rollup([entry(i, text="word " * 100) for i in range(1, n + 1)]))
                   for line in b["text"]["text"].split("\n")[1::2])
    assert snippet(10) > snippet(60) > snippet(ROLLUP_MAX) >= 20


def test_a_complaint_rollup_says_so() -> None:
    msg = rollup([entry(1), entry(2)], complaints=True)
    assert "Complaint storm" in msg.blocks[0]["text"]["text"] and msg.text.startswith("Roll-up of 2 complaints")


def test_more_than_a_hundred_or_none_is_refused_rather_than_cut_silently() -> None:
    with pytest.raises(ValueError):
        rollup([entry(n) for n in range(ROLLUP_MAX + 1)])
    with pytest.raises(ValueError):
        rollup([])


def test_customer_words_and_handles_are_escaped_and_clipped() -> None:
    msg = rollup([entry(1, text=HOSTILE * 40, handle="<!channel>")])
    line = entries(msg)[0]["text"]["text"]
    assert "<!channel>" not in line and "<@U999>" not in line and "<https://evil" not in line
    assert "&lt;!channel&gt;" in line and "&amp;" in line
    assert slack_len(line) < 600 and line.endswith("…")


@pytest.mark.parametrize("url", ["https://evil.example/free-money", "https://x.com.evil.example/1",
                                 "javascript:alert(1)", ""])
def test_only_the_networks_own_permalink_is_linked(url: str) -> None:
    line = entries(rollup([entry(1, url=url)]))[0]["text"]["text"]
    assert "|open>" not in line and "evil" not in line


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=400), min_size=1, max_size=ROLLUP_MAX))
def test_any_text_stays_within_block_kit_limits(texts: list[str]) -> None:
    msg = rollup([entry(n, text=t) for n, t in enumerate(texts, start=1)])
    assert_within_limits(msg)
    assert rollup_refs(msg.blocks) == list(range(1, len(texts) + 1))


def figures(**kw: object) -> SpikeFigures:
    values: dict = dict(channel="C0SUPPORT", started_at=NOW, now=NOW + timedelta(minutes=4), volume=2400,
                        usual_per_hour=3.5, tones={"negative": 300, "neutral": 2000, "positive": 100}, complaints=120,
                        rolled_up=2200, terms=[("dashboard", 2100), ("refund", 120)],
                        authors=[("x", "bigfan", 120_000), ("x", "<!here>", 5000)])
    values.update(kw)
    return SpikeFigures(**values)


def test_the_spike_alert_gives_volume_against_usual_tone_terms_and_reach() -> None:
    msg = spike_alert(figures())
    text = msg.blocks[0]["text"]["text"]
    assert msg.blocks[0]["block_id"] == ids.BLOCK_SPIKE_ALERT and "Storm mode on" in text
    assert "2.4k mentions in 4m (≈36k/h, 10,286 times the usual 3.5/h)" in text
    assert "negative 300" in text and "complaints 120" in text
    assert "dashboard (2100)" in text and "@bigfan (120k)" in text
    assert "<!here>" not in text  # a handle can never ping
    assert_within_limits(msg)


def test_the_final_alert_says_the_storm_is_over() -> None:
    msg = spike_alert(figures(over=True, usual_per_hour=0.0))
    assert "Storm over" in msg.text and "Storm over" in msg.blocks[0]["text"]["text"]
    assert "usually none in a week" in msg.blocks[0]["text"]["text"]
