"""Storm mode's builders: the roll-up (Block Kit limits, escaping, the only link is the network's own,
every #N in the fallback text) and the spike alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import ids
from bot.cards import SlackMessage, slack_len
from bot.cards.rollup import ROLLUP_MAX, RollupEntry, SpikeFigures, rollup, spike_alert

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
        if accessory:
            assert accessory["action_id"] == ids.ACTION_OPEN_AS_CARD and slack_len(accessory["text"]["text"]) <= 75
    block_ids = [b["block_id"] for b in msg.blocks]
    assert len(block_ids) == len(set(block_ids))


def test_a_full_rollup_holds_forty_cases_each_with_ref_author_link_and_open_as_card() -> None:
    msg = rollup([entry(n) for n in range(1, ROLLUP_MAX + 1)], storm_started=NOW)

    assert_within_limits(msg)
    rows = entries(msg)
    assert len(rows) == ROLLUP_MAX
    assert [row["accessory"]["value"] for row in rows] == [str(n) for n in range(1, ROLLUP_MAX + 1)]
    first = rows[0]["text"]["text"]
    assert first.startswith("*#1*") and "@dana1" in first and "<https://x.com/dana1/status/1|open>" in first
    assert all(f"#{n}" in msg.text for n in range(1, ROLLUP_MAX + 1))  # every ref in the fallback text


def test_more_than_forty_or_none_is_refused_rather_than_cut_silently() -> None:
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
    assert len(entries(msg)) == len(texts)


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
