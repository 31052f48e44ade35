"""The App Home tab: my open conversations, unassigned, overdue, today's figures, connections.

Published with views.publish on app_home_opened and after changes. Each list is capped (the rest
named by "#N"), so the view stays well inside Slack's 100 blocks however busy the team is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import ids
from bot.cards.blocks import VIEW_BLOCKS_MAX, context, divider, header, mrkdwn, pack_lines, section
from bot.cards.blocks import utc as _utc
from bot.cards.headline import Headline, headline_fields
from bot.cards.mrkdwn import clip
from bot.cards.records import ConversationRow, PlatformHealthRow, ReportFigures, ago, row_line
from bot.cards.reports import figure_fields

HOME_ROWS_MAX = 15  # per list
_HOME_SECTIONS_MAX = 6  # per list
PLATFORMS_MAX = 20
_ERROR_MAX = 200


def _list(key: str, title: str, rows: Sequence[ConversationRow], now: datetime, empty: str,
          *, assignee: bool = True) -> list[dict]:
    prefix = f"{ids.BLOCK_HOME}.{key}"
    blocks = [section(f"{prefix}.title", f"*{title}* · {len(rows)}")]
    if not rows:
        return [*blocks, context(f"{prefix}.empty", empty)]
    # Rows past HOME_ROWS_MAX are only named by "#N": their lines are never drawn, only counted.
    lines = [row_line(r, now, assignee=assignee) for r in rows[:HOME_ROWS_MAX]]
    return blocks + pack_lines(
        lines + [""] * (len(rows) - len(lines)),
        block_id=f"{prefix}.rows",
        max_sections=_HOME_SECTIONS_MAX,
        max_lines=HOME_ROWS_MAX,
        refs=[r.ref for r in rows],
        more_block_id=f"{prefix}.more",
    )


def health_line(p: PlatformHealthRow, now: datetime) -> str:
    """"✅ *X* · last successful poll 2m ago", or ❌ with the error, or ⏸️ with the pause end."""
    name = clip(p.name, 60)
    seen = f"last successful poll {ago(_utc(p.last_success_at), now)} ago" if p.last_success_at else "never polled"
    if p.paused_until is not None and _utc(p.paused_until) > now:
        until = ago(now, _utc(p.paused_until))
        line = f"⏸️ *{name}* · paused for {until} more (rate limit) · {seen}"
    elif p.ok:
        line = f"✅ *{name}* · {seen}"
    else:
        line = f"❌ *{name}* · {seen}"
    if p.last_error and not p.ok:
        line += f" · {clip(' '.join(p.last_error.split()), _ERROR_MAX)}"
    if p.usage:
        line += f" · {clip(p.usage, _ERROR_MAX)}"
    return line


def home_view(
    *,
    user_id: str,
    mine: Sequence[ConversationRow],
    unassigned: Sequence[ConversationRow],
    overdue: Sequence[ConversationRow],
    today: ReportFigures,
    platforms: Sequence[PlatformHealthRow],
    now: datetime,
    headline: tuple[Headline, Headline] | None = None,
    checks: Sequence[str] = (),
) -> dict:
    """The App Home view (type "home") for `user_id` as of `now`; `headline` (today, last 7 days)
    adds the headline KPIs below today's figures; `checks` are the failing and warning lines of the
    latest scheduled `parley check`, listed under Connections."""
    now = _utc(now)
    blocks: list[dict] = [
        header(f"{ids.BLOCK_HOME}.header", "Parley · social support"),
        context(f"{ids.BLOCK_HOME}.hello", f"Hi <@{clip(user_id, 32)}> · updated {now:%a %H:%M} UTC"),
        divider(),
    ]
    blocks += _list("mine", "Your open conversations", mine, now, "Nothing assigned to you is open. 🎉",
                    assignee=False)
    blocks.append(divider())
    blocks += _list("unassigned", "Unassigned", unassigned, now, "Every open conversation has an owner.",
                    assignee=False)
    blocks.append(divider())
    blocks += _list("overdue", "Overdue", overdue, now, "Nothing is overdue.")
    blocks.append(divider())
    blocks.append(section(f"{ids.BLOCK_HOME}.today.title", f"*Team today* · {clip(today.period_label, 80)}"))
    blocks.append({
        "type": "section",
        "block_id": f"{ids.BLOCK_HOME}.today",
        "fields": [mrkdwn(t) for t in figure_fields(today)],
    })
    if headline is not None:
        blocks.append(section(f"{ids.BLOCK_HOME}.headline.title", "*Headline* · today and the last 7 days"))
        blocks.append({"type": "section", "block_id": f"{ids.BLOCK_HOME}.headline",
                       "fields": [mrkdwn(t) for t in headline_fields(*headline)]})
    blocks.append(divider())
    health = [health_line(p, now) for p in platforms] + [clip(line, _ERROR_MAX * 2) for line in checks]
    blocks.append(section(f"{ids.BLOCK_HOME}.health.title", "*Connections*"))
    blocks += pack_lines(
        health or ["No platform is configured."],
        block_id=f"{ids.BLOCK_HOME}.health",
        max_sections=3,
        max_lines=PLATFORMS_MAX,
        more_block_id=f"{ids.BLOCK_HOME}.health.more",
    )
    if len(blocks) > VIEW_BLOCKS_MAX:  # cannot happen with the caps above; a guard for edits to them
        raise AssertionError(f"home view has {len(blocks)} blocks")
    return {"type": "home", "callback_id": ids.CALLBACK_HOME, "blocks": blocks}
