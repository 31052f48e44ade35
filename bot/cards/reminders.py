"""SLA warning, breach, escalation and platform-window reminders (issue 4).

One message covers one or many conversations: when many cross a threshold together they are
grouped into one message per channel (or one DM per manager), never a flood. Every row names its
"#N"; past the cap, the rest are still listed by "#N" in a last line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bot import ids
from bot.cards.blocks import FALLBACK_MAX, SlackMessage, pack_lines, section
from bot.cards.blocks import utc as _utc
from bot.cards.mrkdwn import clip, cut_mrkdwn, escape, human_duration
from bot.cards.records import ConversationRow, row_line, sla_text

REMINDER_ROWS_MAX = 100
_REMINDER_SECTIONS_MAX = 45  # of 50 blocks: the head and the "more" line need room
_MENTION_MAX = 600


def _refs(rows: Sequence[ConversationRow]) -> str:
    return ", ".join(f"#{r.ref}" for r in rows)


def _group(
    one: Callable[[str, str], str],
    many: Callable[[int], str],
    rows: Sequence[ConversationRow],
    now: datetime | None,
) -> SlackMessage:
    """Head line `one("#N", sla text)` for a single row, else `many(count)`; then the rows."""
    if not rows:
        raise ValueError("a reminder needs at least one conversation")
    single = len(rows) == 1
    head = one(f"#{rows[0].ref}", sla_text(rows[0].sla) or "no SLA state") if single else many(len(rows))
    blocks = [section(ids.BLOCK_REMINDER_HEAD, head)]
    blocks += pack_lines(
        [row_line(r, now) for r in rows],
        block_id=ids.BLOCK_LIST_ROWS,
        max_sections=_REMINDER_SECTIONS_MAX,
        max_lines=REMINDER_ROWS_MAX,
        refs=[r.ref for r in rows],
        more_block_id=ids.BLOCK_LIST_MORE,
    )
    text = cut_mrkdwn(f"{head} {_refs(rows)}" if len(rows) > 1 else head, FALLBACK_MAX)
    return SlackMessage(text=text, blocks=blocks)


def _mention(mention: str) -> str:
    # Our own mrkdwn ("<@U1>", "<!subteam^S1>"): kept as is, but never cut half-way.
    return cut_mrkdwn(mention.strip(), _MENTION_MAX) or "Team"


def sla_warning(rows: Sequence[ConversationRow], mention: str) -> SlackMessage:
    """The one warning for conversations near their SLA target (default 75% of it), pinging
    `mention`: the assignee, or the channel's on-duty people when unassigned."""
    who = _mention(mention)
    return _group(
        lambda ref, sla: f"⚠️ {who} {ref} is close to its SLA target: {sla}. Answer soon or hand it over.",
        lambda n: f"⚠️ {who} {n} conversations are close to their SLA target:",
        rows, None,
    )


def sla_breach(rows: Sequence[ConversationRow], mention: str) -> SlackMessage:
    """The one notice that conversations are past their SLA target; their cards turn red."""
    who = _mention(mention)
    return _group(
        lambda ref, sla: f"🔴 {who} {ref} is overdue: {sla}. The customer is still waiting for an answer.",
        lambda n: f"🔴 {who} {n} conversations are overdue: their customers are still waiting.",
        rows, None,
    )


def escalation_dm(rows: Sequence[ConversationRow], now: datetime) -> SlackMessage:
    """The one DM to a manager naming each breached #N and how long its customer has waited."""
    return _group(
        lambda ref, sla: f"🚨 {ref} is long past its SLA and still unanswered ({sla}).",
        lambda n: f"🚨 {n} conversations are long past their SLA and still unanswered:",
        rows, _utc(now),
    )


def _slack_date(at: datetime) -> str:
    """A date Slack shows in each reader's own time zone, with a UTC fallback."""
    at = _utc(at).astimezone(UTC)
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def window_reminder(
    rows: Sequence[ConversationRow],
    platform_window: str,
    closes_at: datetime,
    after_text: str,
    *,
    now: datetime | None = None,
) -> SlackMessage:
    """A platform reply window is about to close on unanswered conversations, and what happens after.

    e.g. platform_window="Messenger 24-hour window", after_text="only HUMAN_AGENT replies up to 7
    days" → "⏳ Messenger 24-hour window closes in 2h (…) for #12; after that only HUMAN_AGENT …".
    With `now` the time left is given too. Both texts are plain (escaped here).
    """
    when = _slack_date(closes_at)
    if now is not None:
        left = (_utc(closes_at) - _utc(now)).total_seconds()
        when = f"in {escape(human_duration(left))} ({when})" if left > 0 else f"now ({when})"
    else:
        when = f"at {when}"
    window = clip(platform_window, 200) or "The reply window"
    after = clip(after_text, 400)
    tail = f"; after that {after}." if after else "."
    return _group(
        lambda ref, _sla: f"⏳ {window} closes {when} for {ref}{tail}",
        lambda n: f"⏳ {window} closes {when} for {n} unanswered conversations{tail}",
        rows, _utc(now),
    )


def token_expiry(network: str, what: str, at: datetime, renew: str, now: datetime) -> SlackMessage:
    """"🔑 Instagram: the Instagram token (…) expires in 3 days (Mon 7 Dec 09:00 UTC). Renew it: …" (or
    "has expired"), for managers once a day (bot/schedule/expiry.py)."""
    left = (_utc(at) - _utc(now)).total_seconds()
    when = _utc(at).astimezone(UTC).strftime("%a %d %b %H:%M UTC")
    state = f"expires in {human_duration(left)} ({when})" if left > 0 else f"has expired ({when})"
    text = (f"🔑 *{escape(network)}*: {escape(what)} {escape(state)}. Parley stops hearing and answering "
            f"{escape(network)} customers {'then' if left > 0 else 'until it is renewed'}.\n"
            f"Renew it: {escape(renew)}, then restart Parley.")
    return SlackMessage(text=cut_mrkdwn(text, FALLBACK_MAX), blocks=[section(ids.BLOCK_REMINDER_HEAD, text)])
