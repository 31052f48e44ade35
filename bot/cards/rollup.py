"""Storm mode's two messages (issue 11): the roll-up, many mentions in one message, and the spike
alert, posted once per storm and updated in place.

Pure builders from plain records. A roll-up stays inside Block Kit's limits whatever it is given
(https://docs.slack.dev/reference/block-kit/blocks: at most 50 blocks a message, a section's text at
most 3 000 characters): up to 46 entries get a section each with its "Open as card" button; a
bigger roll-up (up to `ROLLUP_MAX`) puts a few entries in each section, with a select menu
of those entries as the section's "Open as card" (a static select holds up to 100 options,
https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element). Snippets shrink as
entries grow so the whole message stays under `TEXT_BUDGET`: Slack refuses a message whose blocks
are too long in total (`msg_blocks_too_long`, seen from about 13 000 characters:
https://github.com/slackapi/bolt-js/issues/2509); the spike's CSV has every text in full. Customer
words are escaped and clipped, so they can never form a link or a mention; the only link is the
network's own permalink (`platform_link`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot import ids
from bot.cards.blocks import FALLBACK_MAX, MESSAGE_BLOCKS_MAX, SlackMessage, button, context, plain_text, section
from bot.cards.mrkdwn import clip, human_count, human_duration
from bot.cards.records import handle_label, platform_badge, platform_link

BUTTONS_MAX = 40  # the smallest storm roll-up: a section and a button each, easy to read
ROLLUP_MAX = 80  # a few entries per section, a menu of them each; 80 heads with long X links: ~8 000 characters
_SECTIONS_MAX = MESSAGE_BLOCKS_MAX - 4  # room for the title, the footer and spare: up to 46 get a button each
TEXT_BUDGET = 11_000  # all entry lines together, well under where Slack answers msg_blocks_too_long
_SNIPPET_MAX = 280  # a tweet's length: enough to triage
_SNIPPET_MIN = 20
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


def rollup(entries: Sequence[RollupEntry], *, storm_started: datetime | None = None,
           complaints: bool = False) -> SlackMessage:
    """One message listing `entries` (at most ROLLUP_MAX; ValueError beyond, so nothing is silently
    left out), each with its #N, author, a clipped snippet, its permalink and "Open as card". The
    fallback text names every #N, so a notification or search finds each case. `complaints`: a
    complaint roll-up (a complaint storm: more complaints than the pace can card within the target)."""
    if not entries:
        raise ValueError("a roll-up needs at least one entry")
    if len(entries) > ROLLUP_MAX:
        raise ValueError(f"a roll-up holds at most {ROLLUP_MAX} entries, got {len(entries)}")
    n, plural = len(entries), "s" if len(entries) != 1 else ""
    title = (f"🚨 *Complaint storm* · {n} complaint{plural} in one message — more than the channel can card one "
             f"by one in time; open one as a card to reply" if complaints
             else f"🌊 *Storm mode* · {n} routine mention{plural} in one message")
    blocks = [section(ids.BLOCK_ROLLUP_TITLE, title)]
    lines = _entry_lines(entries)
    per = math.ceil(n / _SECTIONS_MAX)  # entries per section: 1 up to 46 entries
    for start in range(0, n, per):
        group, block_id = entries[start:start + per], f"{ids.BLOCK_ROLLUP_ENTRY}.{start}"
        block = section(block_id, "\n".join(lines[start:start + per]))
        block["accessory"] = (button("Open as card", ids.ACTION_OPEN_AS_CARD, str(group[0].conversation_id))
                              if per == 1 else _picker(group))
        blocks.append(block)
    since = f" since {storm_started:%H:%M} UTC" if storm_started is not None else ""
    blocks.append(context(ids.BLOCK_ROLLUP_FOOTER, f"Urgent, high-reach and private cases still get their own "
                                                   f"cards{since}. Every case here is stored: `/social find`."))
    assert len(blocks) <= MESSAGE_BLOCKS_MAX
    refs = " ".join(f"#{e.ref}" for e in entries)
    what = "complaints" if complaints else "mentions"
    return SlackMessage(_fallback(f"Roll-up of {n} {what}: {refs}"), blocks)


def rollup_refs(blocks: Sequence[dict]) -> list[int]:
    """The conversation ids a roll-up's blocks offer to open as cards (buttons or select options)."""
    found: list[int] = []
    for block in blocks:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") != ids.ACTION_OPEN_AS_CARD:
            continue
        values = [o["value"] for o in accessory["options"]] if "options" in accessory else [accessory["value"]]
        found += [int(v) for v in values]
    return found


def _picker(group: Sequence[RollupEntry]) -> dict:
    """A section's "Open as card…" menu: one option per entry it lists (a handful, far under 100)."""
    return {"type": "static_select", "action_id": ids.ACTION_OPEN_AS_CARD, "placeholder": plain_text("Open as card…"),
            "options": [{"text": plain_text(f"#{e.ref} {handle_label(e.platform, e.handle)}"),
                         "value": str(e.conversation_id)} for e in group]}


def _entry_lines(entries: Sequence[RollupEntry]) -> list[str]:
    """Each entry's line; the snippets share what `TEXT_BUDGET` leaves after the heads."""
    heads = [_head(e) for e in entries]
    share = (TEXT_BUDGET - sum(len(h) + 1 for h in heads)) // len(entries)
    budget = max(min(share, _SNIPPET_MAX), _SNIPPET_MIN)
    return [f"{head}\n{clip(' '.join(e.text.split()), budget) or '_(no text)_'}" for head, e in zip(heads, entries,
                                                                                              strict=True)]


def _head(entry: RollupEntry) -> str:
    link = platform_link(entry.platform, entry.url)
    opened = f" · <{link}|open>" if link else ""
    who = handle_label(entry.platform, entry.handle)
    return f"*#{entry.ref}* {platform_badge(entry.platform, entry.kind)} · {who}{opened}"


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
    how = ("Routine mentions were grouped into roll-ups; urgent, high-reach and private cases and complaints got their "
           "own cards (complaints beyond what the pace could card in time: complaint roll-ups). The whole spike is in "
           "the CSV in this thread." if f.over else
           "Urgent, high-reach and private cases get their own cards, complaints too as long as the pace can post "
           f"them in time (the rest in complaint roll-ups); the routine rest ({f.rolled_up} so far) go into "
           "roll-ups with *Open as card*. A CSV of the whole spike follows in this thread when it ends.")
    blocks = [section(ids.BLOCK_SPIKE_ALERT, "\n".join(lines)), context(ids.BLOCK_SPIKE_HOW, how)]
    head = "Storm over" if f.over else "Storm mode on"
    return SlackMessage(_fallback(f"{head}: {f.volume} mentions since {f.started_at:%H:%M} UTC"), blocks)
