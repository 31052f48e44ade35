"""Block Kit builders: pure functions from stored rows to Slack messages. No Slack client here.

Everything a customer wrote (text, name, handle) is mrkdwn-escaped (&, <, >) so nobody can inject
`<!channel>`, user mentions or disguised links into our channels. Every message stays within Block
Kit limits (≤50 blocks, section text ≤3000, button text ≤75); a long customer text is cut with "…"
and a "read the rest" link to the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from bot import ids
from bot.cards.mrkdwn import (
    clip,
    cut_mrkdwn,
    fit,
    human_count,
    human_duration,
    plain,
    quote,
    safe_url,
    slack_len,
)
from bot.models import Conversation, Customer, Message, Priority, Status, Tone

SECTION_TEXT_MAX = 3000
BUTTON_TEXT_MAX = 75
FALLBACK_MAX = 1000  # Slack accepts far more; a notification needs far less
_NAME_MAX = 80
_REASONS_MAX = 600
_FALLBACK_QUOTE_MAX = 300

PLATFORM_LABEL = {"x": "🐦 X", "facebook": "📘 Facebook", "messenger": "💬 Messenger"}
_PLATFORM_SITE = {"x": "X", "facebook": "Facebook", "messenger": "Messenger"}
KIND_LABEL = {
    "mention": "mention",
    "search_hit": "search hit",
    "comment": "comment",
    "visitor_post": "visitor post",
    "dm": "DM",
    "messenger": "DM",  # the platform label already says Messenger
}
STATUS_EMOJI = {Status.OPEN: "🔵", Status.PENDING: "🟡", Status.SNOOZED: "💤", Status.RESOLVED: "✅"}
# For attachments/App Home later; Slack's own palette.
STATUS_COLOUR = {
    Status.OPEN: "#1d9bd1",
    Status.PENDING: "#ecb22e",
    Status.SNOOZED: "#9e9ea6",
    Status.RESOLVED: "#2eb67d",
}
TONE_LABEL = {Tone.NEGATIVE: "😠 negative", Tone.NEUTRAL: "😐 neutral", Tone.POSITIVE: "🙂 positive"}
PRIORITY_LABEL = {
    Priority.URGENT: "🔥 *Urgent*",
    Priority.HIGH: "⚠️ *High*",
    Priority.NORMAL: "▫️ Normal",
    Priority.LOW: "▫️ Low",
}
VERIFIED_MARK = "☑️"
COMPLAINT_BADGE = "🚩 *Complaint*"

_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")


@dataclass(frozen=True)
class SlackMessage:
    """What chat.postMessage / chat.update need: fallback/notification `text` and `blocks`."""

    text: str
    blocks: list[dict]


# --- text helpers --------------------------------------------------------------------------------

def _utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def _author_line(customer: Customer) -> str:
    name = clip(customer.name or customer.handle or "unknown", _NAME_MAX)
    parts = [f"*{name}*"]
    # Facebook has no handles: the connector puts the name there, so showing it twice adds nothing.
    if customer.handle and customer.handle != customer.name:
        parts.append(f"@{clip(customer.handle, _NAME_MAX)}")
    if customer.verified:
        parts.append(VERIFIED_MARK)
    line = " ".join(parts)
    if customer.followers is not None:
        line += f" · {human_count(customer.followers)} followers"
    return line


def _platform_key(conversation: Conversation) -> str:
    return "messenger" if conversation.kind == "messenger" else conversation.platform


def _kind_label(conversation: Conversation) -> str:
    label = KIND_LABEL.get(conversation.kind, conversation.kind)
    names = [n.strip() for n in conversation.query_names.split(",") if n.strip()]
    if conversation.kind == "search_hit" and names:
        label += " " + ", ".join(f'"{clip(n, 40)}"' for n in names[:5])
    return label


def _status_label(status: str) -> str:
    return f"{STATUS_EMOJI.get(status, '▫️')} {clip(str(status).capitalize(), 20)}"


def waiting_label(conversation: Conversation, opening: Message, now: datetime) -> str:
    """How long the customer has waited on us, or what the conversation is waiting for instead."""
    now = _utc(now)
    if conversation.status == Status.RESOLVED:
        return "resolved"
    if conversation.status == Status.SNOOZED and conversation.snoozed_until:
        return f"snoozed until {_utc(conversation.snoozed_until):%a %H:%M} UTC"
    last_reply = _utc(conversation.last_response_at)
    last_customer = _utc(conversation.last_customer_message_at)
    if last_reply is None:
        since = _utc(opening.created_at) or _utc(conversation.first_seen_at)
    elif last_customer is not None and last_customer > last_reply:
        since = last_customer
    else:
        return f"answered {human_duration((now - last_reply).total_seconds())} ago"
    return f"waiting {human_duration((now - since).total_seconds())}"


def _assignee(assignee: str | None) -> str:
    if not assignee:
        return "unassigned"
    return f"<@{assignee}>" if _SLACK_USER_ID.match(assignee) else clip(assignee, 40)


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    button = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text[:BUTTON_TEXT_MAX], "emoji": True},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _actions(conversation_id: int, status: str) -> dict:
    value = str(conversation_id)
    resolve = (
        _button("Reopen", ids.ACTION_REOPEN, value)
        if status == Status.RESOLVED
        else _button("Resolve", ids.ACTION_RESOLVE, value, "primary")
    )
    snooze = {
        "type": "static_select",
        "action_id": ids.ACTION_SNOOZE,
        "placeholder": {"type": "plain_text", "text": "Snooze…", "emoji": True},
        "options": [
            {
                "text": {"type": "plain_text", "text": label, "emoji": True},
                "value": ids.snooze_option_value(conversation_id, choice),
            }
            for choice, label in ids.SNOOZE_CHOICES
        ],
    }
    return {
        "type": "actions",
        "block_id": ids.BLOCK_CARD_ACTIONS,
        "elements": [
            _button("Reply", ids.ACTION_REPLY, value),
            _button("Take private", ids.ACTION_TAKE_PRIVATE, value),
            _button("Assign to me", ids.ACTION_ASSIGN_ME, value),
            resolve,
            snooze,
        ],
    }


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def _section(block_id: str, text: str) -> dict:
    return {"type": "section", "block_id": block_id, "text": _mrkdwn(text)}


def _context(block_id: str, *texts: str) -> dict:
    return {"type": "context", "block_id": block_id, "elements": [_mrkdwn(t) for t in texts]}


# --- public builders -----------------------------------------------------------------------------


def conversation_card(
    conversation: Conversation, customer: Customer, opening: Message, *, now: datetime
) -> SlackMessage:
    """The parent message of a conversation's Slack thread, showing its current state.

    Rebuilt from the database on every status change and sent with chat.update, so it always shows
    the latest status, assignee and waiting time as of `now`.
    """
    if conversation.id is None:
        raise ValueError("a card needs a stored conversation (its id goes into the buttons)")
    ref = f"#{conversation.ref if conversation.ref is not None else conversation.id}"
    site = _PLATFORM_SITE.get(_platform_key(conversation), clip(conversation.platform, 20))
    platform = PLATFORM_LABEL.get(_platform_key(conversation), clip(conversation.platform, 20))

    title = [f"*{ref}*", platform, _kind_label(conversation), _status_label(conversation.status)]
    if conversation.complaint:
        title.append(COMPLAINT_BADGE)

    quoted, truncated = quote(opening.text)
    url = safe_url(opening.url or conversation.url)
    if url:
        link = f"<{url}|Read the rest on {site}>" if truncated else f"<{url}|Open on {site}>"
    else:
        link = "_text truncated; no link to the original_" if truncated else "_no public link_"

    meta = [
        TONE_LABEL.get(conversation.tone, clip(conversation.tone, 20)),
        f"🌐 {clip(conversation.language or 'unknown', 8)}",
        f"⏱️ {waiting_label(conversation, opening, now)}",
        f"👤 {_assignee(conversation.assignee)}",
    ]
    priority = PRIORITY_LABEL.get(conversation.priority, clip(conversation.priority, 20))
    if conversation.priority_reasons:
        priority += f" priority: {clip(conversation.priority_reasons, _REASONS_MAX)}"
    else:
        priority += " priority"

    blocks = [
        _section(ids.BLOCK_CARD_TITLE, " · ".join(title)),
        _section(ids.BLOCK_CARD_TEXT, f"{_author_line(customer)}\n{quoted}"),
        _context(ids.BLOCK_CARD_LINK, link),
        _context(ids.BLOCK_CARD_META, " · ".join(meta)),
        _context(ids.BLOCK_CARD_PRIORITY, priority),
        _actions(conversation.id, conversation.status),
    ]
    handle = f"@{customer.handle}" if customer.handle and customer.handle != customer.name else customer.name
    head = f"{ref} {site} {KIND_LABEL.get(conversation.kind, conversation.kind)} from {handle}: "
    text = clip(head, 200) + clip(opening.text, _FALLBACK_QUOTE_MAX)
    return SlackMessage(text=text, blocks=blocks)


def customer_followup(message: Message, customer: Customer) -> SlackMessage:
    """A later customer message in the conversation, posted as a reply in its Slack thread."""
    who = clip(customer.name or customer.handle or "unknown", _NAME_MAX)
    if customer.handle and customer.handle != customer.name:
        who += f" (@{clip(customer.handle, _NAME_MAX)})"
    head = f"💬 *{who}*:"
    body, truncated = fit(message.text or "(no text)", plain, SECTION_TEXT_MAX - slack_len(head) - 1)
    blocks = [_section(ids.BLOCK_FOLLOWUP, f"{head} {body}")]
    url = safe_url(message.url)
    if url:
        label = "Read the rest" if truncated else "Open original"
        blocks.append(_context(ids.BLOCK_FOLLOWUP_LINK, f"<{url}|{label}>"))
    text = f"💬 {who}: " + clip(message.text or "(no text)", _FALLBACK_QUOTE_MAX)
    return SlackMessage(text=text, blocks=blocks)


def notice(text: str) -> SlackMessage:
    """A plain notice from Parley in a thread (receipts, warnings, reminders).

    `text` is our own mrkdwn (it may hold <@U…> mentions and links); escape any customer content
    in it with `escape()` before calling.
    """
    body = cut_mrkdwn(text.strip() or "(empty notice)", SECTION_TEXT_MAX)
    return SlackMessage(text=cut_mrkdwn(body, FALLBACK_MAX), blocks=[_section(ids.BLOCK_NOTICE, body)])
