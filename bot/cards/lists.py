"""Ephemeral answers to /social list commands: queue, mine, find, customer history, templates.

Rows come in the order the caller wants them shown (the queue: oldest first). Every row names its
"#N"; long lists are cut and end with "…and N more: #…", so no conversation goes unnamed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import ids, placeholders
from bot.cards.blocks import FALLBACK_MAX, SlackMessage, context, pack_lines, section
from bot.cards.mrkdwn import clip, escape, quote
from bot.cards.profile import profile_line
from bot.cards.records import ConversationRow, handle_label, platform_name, row_line, snippet
from bot.store.profile import CustomerProfile

LIST_ROWS_MAX = 60  # a longer list is unreadable in one message; the rest are named by "#N"
LIST_SECTIONS_MAX = 40  # of Slack's 50 blocks; the rest hold the title and the "more" line
TEMPLATES_MAX = 100
ACCOUNTS_SHOWN = 10  # customer history: accounts listed with their profile; the rest are counted
_VARIABLES_HELP = "Variables: " + " ".join(f"`{{{v}}}`" for v in placeholders.VARIABLES)


def _fallback(title: str, rows: Sequence[ConversationRow]) -> str:
    """Notification text from plain `title` (escaped here)."""
    refs = ", ".join(f"#{r.ref}" for r in rows[:30])
    text = f"{title}: {len(rows)} conversation{'s' if len(rows) != 1 else ''}"
    return clip(f"{text} ({refs})" if rows else text, FALLBACK_MAX)


def _row_blocks(rows: Sequence[ConversationRow], now: datetime, *, assignee: bool = True) -> list[dict]:
    return pack_lines(
        [row_line(r, now, assignee=assignee) for r in rows],
        block_id=ids.BLOCK_LIST_ROWS,
        max_sections=LIST_SECTIONS_MAX,
        max_lines=LIST_ROWS_MAX,
        refs=[r.ref for r in rows],
        more_block_id=ids.BLOCK_LIST_MORE,
    )


def conversation_list(
    title: str, rows: Sequence[ConversationRow], now: datetime, empty_text: str
) -> SlackMessage:
    """A list of conversations (queue, mine, find): one line each with #N, platform, customer,
    their words, status, age and SLA state. `title` and `empty_text` are plain text."""
    count = f"{len(rows)} conversation{'s' if len(rows) != 1 else ''}"
    blocks = [section(ids.BLOCK_LIST_TITLE, f"*{clip(title, 200)}* · {count}")]
    if rows:
        blocks += _row_blocks(rows, now)
    else:
        blocks.append(section(f"{ids.BLOCK_LIST_ROWS}.0", clip(empty_text, 2000) or "Nothing here."))
    return SlackMessage(text=_fallback(title, rows), blocks=blocks)


def customer_history(
    handles: Sequence[tuple[str, str, str]], rows: Sequence[ConversationRow], now: datetime,
    profiles: Sequence[CustomerProfile] = (), accounts_total: int | None = None,
) -> SlackMessage:
    """Every conversation with one customer across platforms. `handles`: (platform, handle, name);
    `profiles`, when given, one per handle: each account then gets its own line with its profile,
    and accounts on different networks are said to be matched by name only. `accounts_total`: how many
    accounts there are when `handles` lists only the first (default: as many as `handles`)."""
    who = []
    for i, (platform, handle, name) in enumerate(handles[:ACCOUNTS_SHOWN]):
        label = handle_label(platform, handle)
        if name and name != handle:
            label = f"{clip(name, 60)} ({label})"
        label = f"{label} on {platform_name(platform)}"
        who.append(f"• {label} — {profile_line(profiles[i], on_card=False)}" if i < len(profiles) else label)
    lines = "\n".join(who) if profiles else "; ".join(who)
    head = "*Customer history*:" + ("\n" if profiles else " ") + (lines or "unknown customer")
    total = len(handles) if accounts_total is None else max(accounts_total, len(handles))
    if total > ACCOUNTS_SHOWN:
        head += f"; and {total - ACCOUNTS_SHOWN} more accounts"
    blocks = [section(ids.BLOCK_CUSTOMER_HANDLES, head)]
    if profiles and len({platform for platform, _, _ in handles}) > 1:
        blocks.append(context(f"{ids.BLOCK_CUSTOMER_HANDLES}.linking",
                              "Accounts on different networks are matched by display name only: no id links "
                              "them, so check they are the same person."))
    if rows:
        blocks += _row_blocks(rows, now)
    else:
        blocks.append(section(f"{ids.BLOCK_LIST_ROWS}.0", "No conversations with this customer yet."))
    first = handles[0][1] if handles else "customer"
    return SlackMessage(text=_fallback(f"History of {first}", rows), blocks=blocks)


def template_list(templates: Sequence[tuple[str, str]]) -> SlackMessage:
    """The saved reply templates, one line each: name and the start of its text."""
    if not templates:
        body = ("No templates yet. Add one: `/social template add thanks Thanks {first_name}, we're on it!`")
        blocks = [section(ids.BLOCK_LIST_TITLE, body), context(ids.BLOCK_LIST_MORE, _VARIABLES_HELP)]
        return SlackMessage(text="No templates yet.", blocks=blocks)
    lines = [f"• *{clip(name, 64)}* — {snippet(text, 150)}" for name, text in templates]
    blocks = [section(ids.BLOCK_LIST_TITLE, f"*Reply templates* · {len(templates)}")]
    blocks += pack_lines(
        lines, block_id=ids.BLOCK_TEMPLATE, max_sections=LIST_SECTIONS_MAX, max_lines=TEMPLATES_MAX,
        more_block_id=ids.BLOCK_LIST_MORE,
    )
    show = "show one: `/social template show <name>`"
    blocks.append(context(f"{ids.BLOCK_TEMPLATE}.help", f"{_VARIABLES_HELP} · {escape(show)}"))
    names = ", ".join(n for n, _ in templates[:30])
    return SlackMessage(text=clip(f"{len(templates)} templates: {names}", FALLBACK_MAX), blocks=blocks)


def template_shown(name: str, text: str) -> SlackMessage:
    """One template in full, with a warning for {placeholders} that are not variables."""
    head = f"*Template* `{clip(name, 64)}`"
    quoted, truncated = quote(text, 2800)
    blocks = [section(f"{ids.BLOCK_TEMPLATE}.0", f"{head}\n{quoted}")]
    notes = [_VARIABLES_HELP]
    unknown = placeholders.unknown(text)
    if unknown:
        listed = ", ".join(f"`{{{clip(u, 40)}}}`" for u in unknown[:10])
        notes.append(f"⚠️ {listed} {'is not a variable' if len(unknown) == 1 else 'are not variables'}; "
                     "sent exactly as typed")
    if truncated:
        notes.append("(shortened here)")
    blocks.append(context(f"{ids.BLOCK_TEMPLATE}.help", *notes))
    return SlackMessage(text=clip(f"Template {name}: {text}", FALLBACK_MAX), blocks=blocks)
