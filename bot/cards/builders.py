"""Block Kit builders: pure functions from stored rows to Slack messages. No Slack client here.

Everything a customer wrote (text, name, handle) is mrkdwn-escaped (&, <, >) so nobody can inject
`<!channel>`, user mentions or disguised links into our channels. Every message stays within Block
Kit limits (≤50 blocks, section text ≤3000, button text ≤75); a long customer text is cut with "…"
and a "read the rest" link to the original.
"""

from __future__ import annotations

from datetime import datetime

from bot import ids
from bot.cards.blocks import (
    BUTTON_TEXT_MAX,
    FALLBACK_MAX,
    RED,
    SECTION_TEXT_MAX,
    SlackMessage,
    context,
    section,
    user,
)
from bot.cards.blocks import utc as _utc
from bot.cards.card_buttons import card_buttons
from bot.cards.csat import card_line as csat_line
from bot.cards.moderation import hidden_block
from bot.cards.mrkdwn import (
    clip,
    cut_mrkdwn,
    escape,
    fit,
    human_count,
    human_duration,
    plain,
    quote,
    safe_url,
    slack_len,
)
from bot.cards.profile import profile_line
from bot.cards.records import (
    KIND_LABEL,
    Hidden,
    LastReply,
    SlaBadge,
    handle_prefix,
    platform_badge,
    platform_link,
    platform_name,
    sla_text,
)
from bot.cards.window import window_label
from bot.store.models import Conversation, Customer, Message, Priority, Status, Tone
from bot.store.profile import CustomerProfile

__all__ = ["BUTTON_TEXT_MAX", "FALLBACK_MAX", "SECTION_TEXT_MAX", "SlackMessage"]

_NAME_MAX = 80
_REASONS_MAX = 600
_FALLBACK_QUOTE_MAX = 300

STATUS_EMOJI: dict[str, str] = {Status.OPEN: "🔵", Status.PENDING: "🟡", Status.SNOOZED: "💤", Status.RESOLVED: "✅"}
# Slack's own palette, for App Home and attachments. An overdue card's side bar is red (blocks.RED).
STATUS_COLOUR = {
    Status.OPEN: "#1d9bd1",
    Status.PENDING: "#ecb22e",
    Status.SNOOZED: "#9e9ea6",
    Status.RESOLVED: "#2eb67d",
}
TONE_LABEL: dict[str, str] = {Tone.NEGATIVE: "😠 negative", Tone.NEUTRAL: "😐 neutral",
                             Tone.POSITIVE: "🙂 positive", Tone.UNKNOWN: "❔ tone unknown"}
PRIORITY_LABEL: dict[str, str] = {
    Priority.URGENT: "🔥 *Urgent*",
    Priority.HIGH: "⚠️ *High*",
    Priority.NORMAL: "▫️ Normal",
    Priority.LOW: "▫️ Low",
}
VERIFIED_MARK = "☑️"
COMPLAINT_BADGE = "🚩 *Complaint*"


# --- text helpers --------------------------------------------------------------------------------

def _author_line(customer: Customer) -> str:
    name = clip(customer.name or customer.handle or "unknown", _NAME_MAX)
    parts = [f"*{name}*"]
    # Facebook has no handles: the connector puts the name there, so showing it twice adds nothing.
    if customer.handle and customer.handle != customer.name:
        parts.append(f"{handle_prefix(customer.platform)}{clip(customer.handle, _NAME_MAX)}")
    if customer.verified:
        parts.append(VERIFIED_MARK)
    line = " ".join(parts)
    if customer.followers is not None:
        line += f" · {human_count(customer.followers)} followers"
    return line


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


# --- public builders -----------------------------------------------------------------------------


def conversation_card(
    conversation: Conversation,
    customer: Customer,
    opening: Message,
    *,
    now: datetime,
    sla: SlaBadge | None = None,
    replying_by: str | None = None,
    last_reply: LastReply | None = None,
    profile: CustomerProfile | None = None,
    notice: str | None = None,
    hidden: Hidden | None = None,
    can_hide: bool = False,
) -> SlackMessage:
    """The parent message of a conversation's Slack thread, showing its current state.

    Rebuilt from the database on every status change and sent with chat.update, so it always shows
    the latest status, assignee, waiting time, SLA countdown, who is replying and the last reply as
    of `now`. An overdue (breached or escalated) SLA turns the card's colour red. `profile` adds
    one line about the customer (bot/cards/profile.py); `notice` one line from the network's rules about
    what it will not do for this case (`Rules.card_notice`), shown until the case is resolved;
    `hidden` the comments staff hid, and `can_hide` a "Hide comment" button while the network can
    hide a comment still visible.
    """
    if conversation.id is None:
        raise ValueError("a card needs a stored conversation (its id goes into the buttons)")
    ref = f"#{conversation.ref if conversation.ref is not None else conversation.id}"
    site = platform_name(conversation.platform, conversation.kind)
    blocks = _summary_blocks(conversation, customer, opening, ref, site, now)
    if profile is not None:
        blocks.append(context(ids.BLOCK_CARD_PROFILE, profile_line(profile)))
    blocks += _state_blocks(sla, replying_by, last_reply, now)
    if hidden is not None:
        blocks.append(hidden_block(hidden, site, now))
    window = window_label(conversation, now)
    if window:
        blocks.append(context(ids.BLOCK_CARD_WINDOW, escape(window)))
    if notice and conversation.status != Status.RESOLVED:
        blocks.append(context(ids.BLOCK_CARD_NOTICE, escape(notice)))
    rated = csat_line(conversation)
    if rated:
        blocks.append(context(ids.BLOCK_CARD_CSAT, rated))
    blocks.append(card_buttons(conversation.id, conversation.status, can_hide, site))
    # The network's own prefix ("@" on X and Instagram, none for an e-mail address); the name where no handle.
    handle = (f"{handle_prefix(conversation.platform)}{customer.handle}"
              if customer.handle and customer.handle != customer.name else customer.name)
    head = f"{ref} {site} {KIND_LABEL.get(conversation.kind, conversation.kind)} from {handle}: "
    text = clip(head, 200) + clip(opening.text, _FALLBACK_QUOTE_MAX)
    if sla is not None and sla.overdue:
        text = "🔴 overdue · " + text
    return SlackMessage(text=text, blocks=blocks, colour=_card_colour(sla))


def _summary_blocks(conversation: Conversation, customer: Customer, opening: Message, ref: str, site: str,
                    now: datetime) -> list[dict]:
    """Title line, the customer's words with a link to the original, triage and waiting time."""
    title = [f"*{ref}*", platform_badge(conversation.platform, conversation.kind), _kind_label(conversation),
             _status_label(conversation.status)]
    if conversation.complaint:
        title.append(COMPLAINT_BADGE)

    quoted, truncated = quote(opening.text)
    url = platform_link(conversation.platform, opening.url or conversation.url)
    if url:
        link = f"<{url}|Read the rest on {site}>" if truncated else f"<{url}|Open on {site}>"
    else:
        link = "_text truncated; no link to the original_" if truncated else "_no public link_"

    meta = [
        TONE_LABEL.get(conversation.tone, clip(conversation.tone, 20)),
        f"🌐 {clip(conversation.language or 'unknown', 8)}",
        f"⏱️ {escape(waiting_label(conversation, opening, now))}",
        f"👤 {user(conversation.assignee)}",
    ]
    priority = PRIORITY_LABEL.get(conversation.priority, clip(conversation.priority, 20))
    if conversation.priority_reasons:
        priority += f" priority: {clip(conversation.priority_reasons, _REASONS_MAX)}"
    else:
        priority += " priority"
    return [
        section(ids.BLOCK_CARD_TITLE, " · ".join(title)),
        section(ids.BLOCK_CARD_TEXT, f"{_author_line(customer)}\n{quoted}"),
        context(ids.BLOCK_CARD_LINK, link),
        context(ids.BLOCK_CARD_META, " · ".join(meta)),
        context(ids.BLOCK_CARD_PRIORITY, priority),
    ]


def _state_blocks(sla: SlaBadge | None, replying_by: str | None, last_reply: LastReply | None,
                  now: datetime) -> list[dict]:
    """The lines that change while staff work the case: SLA countdown, who is replying, last reply."""
    blocks = []
    badge = sla_text(sla)
    if badge and sla is not None:  # sla_text gives "" for no badge
        blocks.append(context(ids.BLOCK_CARD_SLA, f"*SLA* {badge}" if sla.overdue else f"SLA {badge}"))
    if replying_by:
        blocks.append(context(ids.BLOCK_CARD_REPLYING, f"✍️ {user(replying_by, 'someone')} is replying"))
    if last_reply is not None:
        blocks.append(context(ids.BLOCK_CARD_LAST_REPLY, _last_reply_line(last_reply, now)))
    return blocks


def _card_colour(sla: SlaBadge | None) -> str | None:
    # Only an overdue card is coloured: a coloured card travels as an attachment (see
    # SlackMessage.payload), and an ordinary one is better left as plain blocks.
    return RED if sla is not None and sla.overdue else None


def _last_reply_line(reply: LastReply, now: datetime) -> str:
    how = "public" if reply.public else "private"
    when = escape(human_duration((_utc(now) - _utc(reply.at)).total_seconds()))
    line = f"↪ Last reply by {user(reply.agent_id, 'someone')} {when} ago ({how})"
    url = safe_url(reply.url)
    return f"{line} · <{url}|view>" if url else line


def customer_followup(message: Message, customer: Customer) -> SlackMessage:
    """A later customer message in the conversation, posted as a reply in its Slack thread."""
    who = clip(customer.name or customer.handle or "unknown", _NAME_MAX)
    if customer.handle and customer.handle != customer.name:
        who += f" ({handle_prefix(customer.platform)}{clip(customer.handle, _NAME_MAX)})"
    head = f"💬 *{who}*:"
    body, truncated = fit(message.text or "(no text)", plain, SECTION_TEXT_MAX - slack_len(head) - 1)
    blocks = [section(ids.BLOCK_FOLLOWUP, f"{head} {body}")]
    url = platform_link(message.platform, message.url)
    if url:
        label = "Read the rest" if truncated else "Open original"
        blocks.append(context(ids.BLOCK_FOLLOWUP_LINK, f"<{url}|{label}>"))
    text = f"💬 {who}: " + clip(message.text or "(no text)", _FALLBACK_QUOTE_MAX)
    return SlackMessage(text=text, blocks=blocks)


def notice(text: str) -> SlackMessage:
    """A plain notice from Parley in a thread (receipts, warnings, reminders).

    `text` is our own mrkdwn (it may hold <@U…> mentions and links); escape any customer content
    in it with `escape()` before calling.
    """
    body = cut_mrkdwn(text.strip() or "(empty notice)", SECTION_TEXT_MAX)
    return SlackMessage(text=cut_mrkdwn(body, FALLBACK_MAX), blocks=[section(ids.BLOCK_NOTICE, body)])
