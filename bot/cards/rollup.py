"""Storm mode's two messages (issue 11): the roll-up, many routine mentions in one message, and the
spike alert, posted once per storm and updated in place.

Pure builders from plain records. A roll-up stays inside Block Kit's limits whatever it is given:
at most `ROLLUP_MAX` entries (one section each, with its "Open as card" button) plus a title and a
footer, under the 50 blocks a message may hold (https://docs.slack.dev/reference/block-kit/blocks),
and every section under 3 000 characters. Customer words are escaped and clipped, so they can
never form a link or a mention; the only link is the network's own permalink (`platform_link`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot import ids
from bot.cards.blocks import FALLBACK_MAX, MESSAGE_BLOCKS_MAX, SlackMessage, button, context, section
from bot.cards.mrkdwn import clip, human_count, human_duration
from bot.cards.records import handle_label, platform_badge, platform_link

ROLLUP_MAX = 40  # entries per roll-up: 40 sections + title + footer, well under 50 blocks
_SNIPPET_MAX = 280  # a tweet's length: enough to triage, short enough for 40 in one message
_TONE_EMOJI = {"negative": "😠", "neutral": "😐", "positive": "🙂"}


@dataclass(frozen=True)
class RollupEntry:
    """One routine case shown in a roll-up: `conversation_id` goes in the button, `ref` is its #N."""

    conversation_id: int
    ref: int
    platform: str
    kind: str
    handle: str
    text: str  # the customer's words, raw; escaped and clipped here
    url: str | None  # the post on its network; linked only if it is on the network's own hosts


def rollup(entries: Sequence[RollupEntry], *, storm_started: datetime | None = None) -> SlackMessage:
    """One message listing `entries` (at most ROLLUP_MAX; ValueError beyond, so nothing is silently
    left out), each with its #N, author, a clipped snippet, its permalink and "Open as card". The
    fallback text names every #N, so a notification or search finds each case."""
    if not entries:
        raise ValueError("a roll-up needs at least one entry")
    if len(entries) > ROLLUP_MAX:
        raise ValueError(f"a roll-up holds at most {ROLLUP_MAX} entries, got {len(entries)}")
    title = f"🌊 *Storm mode* · {len(entries)} routine mention{'s' if len(entries) != 1 else ''} in one message"
    blocks = [section(ids.BLOCK_ROLLUP_TITLE, title)]
    for n, entry in enumerate(entries):
        block = section(f"{ids.BLOCK_ROLLUP_ENTRY}.{n}", _entry_line(entry))
        block["accessory"] = button("Open as card", ids.ACTION_OPEN_AS_CARD, str(entry.conversation_id))
        blocks.append(block)
    since = f" since {storm_started:%H:%M} UTC" if storm_started is not None else ""
    blocks.append(context(ids.BLOCK_ROLLUP_FOOTER, f"Complaints, urgent and private cases still get their own "
                                                   f"cards{since}. Every case here is stored: `/social find`."))
    assert len(blocks) <= MESSAGE_BLOCKS_MAX
    refs = " ".join(f"#{e.ref}" for e in entries)
    return SlackMessage(_fallback(f"Roll-up of {len(entries)} mentions: {refs}"), blocks)


def _entry_line(entry: RollupEntry) -> str:
    ref = f"*#{entry.ref}*"
    link = platform_link(entry.platform, entry.url)
    where = platform_badge(entry.platform, entry.kind)
    opened = f" · <{link}|open>" if link else ""
    snippet = clip(" ".join(entry.text.split()), _SNIPPET_MAX) or "_(no text)_"
    return f"{ref} {where} · {handle_label(entry.platform, entry.handle)}{opened}\n{snippet}"


def _fallback(text: str) -> str:
    # Slack shows the fallback in notifications; every ref fits (40 refs of 8 characters are far under 1 000).
    return text if len(text) <= FALLBACK_MAX else text[: FALLBACK_MAX - 1] + "…"


@dataclass(frozen=True)
class SpikeFigures:
    """What the spike alert says, computed from stored cases (bot/delivery/storm_alert.py)."""

    channel: str
    started_at: datetime
    now: datetime
    volume: int  # mentions queued for the channel since the storm began
    usual_per_hour: float  # the channel's rate over the week before it
    tones: dict[str, int] = field(default_factory=dict)
    complaints: int = 0
    rolled_up: int = 0  # of `volume`, shown in roll-ups rather than cards
    terms: list[tuple[str, int]] = field(default_factory=list)
    authors: list[tuple[str, str, int]] = field(default_factory=list)  # (platform, handle, followers)
    over: bool = False  # the storm has ended: the final update


def spike_alert(figures: SpikeFigures) -> SlackMessage:
    """The storm's alert: volume against the usual rate, tone mix, top terms and top authors by reach."""
    f = figures
    elapsed = (f.now - f.started_at).total_seconds()
    rate = f.volume / max(elapsed / 3600, 1 / 60)  # per hour, over at least a minute
    usual = (f"{rate / f.usual_per_hour:,.0f} times the usual {f.usual_per_hour:.1f}/h" if f.usual_per_hour
             else "usually none in a week")
    state = (f"✅ *Storm over* in <#{f.channel}> — lasted {human_duration(elapsed)}"
             if f.over else f"🌊 *Storm mode on* in <#{f.channel}> since {f.started_at:%H:%M} UTC")
    lines = [
        state,
        f"*Volume:* {human_count(f.volume)} mentions in {human_duration(elapsed)} (≈{human_count(int(rate))}/h, "
        f"{usual})",
        "*Tone:* " + (" · ".join(f"{_TONE_EMOJI.get(t, '')} {t} {n}" for t, n in sorted(f.tones.items()))
                      or "—") + f" · complaints {f.complaints}",
        "*Top terms:* " + (", ".join(f"{clip(term, 30)} ({n})" for term, n in f.terms) or "—"),
        "*Top authors by reach:* " + (", ".join(
            f"{handle_label(p, h)} ({human_count(n)})" for p, h, n in f.authors) or "—"),
    ]
    how = ("Routine mentions were grouped into roll-ups; complaints, urgent and private cases got their own cards."
           if f.over else f"Complaints, urgent and private cases get their own cards; the routine rest "
                          f"({f.rolled_up} so far) go into roll-ups with an *Open as card* button.")
    blocks = [section(ids.BLOCK_SPIKE_ALERT, "\n".join(lines)), context(ids.BLOCK_SPIKE_HOW, how)]
    head = "Storm over" if f.over else "Storm mode on"
    return SlackMessage(_fallback(f"{head}: {f.volume} mentions since {f.started_at:%H:%M} UTC"), blocks)
