"""Block Kit builders — pure functions from stored rows and plain records to Slack payloads, tested
without Slack. Import from here: `from bot.cards import notice`.

- `builders`: the conversation card and thread messages; `receipts`: delivery receipts (Retry).
- `modal`: the Reply / Take private modal, templates, X's weighted count.
- `lists`: /social queue, mine, find, customer, template; `reminders`: SLA and window pings.
- `reports`: digest and stats; `home`: the App Home tab.
- `records`: the plain dataclasses the builders take; `blocks` and `mrkdwn`: shared pieces.
"""

from bot.cards.blocks import (
    BUTTON_TEXT_MAX,
    FALLBACK_MAX,
    MESSAGE_BLOCKS_MAX,
    SECTION_TEXT_MAX,
    VIEW_BLOCKS_MAX,
    SlackMessage,
)
from bot.cards.builders import (
    STATUS_COLOUR,
    STATUS_EMOJI,
    conversation_card,
    customer_followup,
    notice,
    waiting_label,
)
from bot.cards.csat import rating_line
from bot.cards.home import home_view
from bot.cards.lists import (
    conversation_list,
    customer_history,
    template_list,
    template_shown,
)
from bot.cards.modal import (
    modal_text,
    reply_modal,
    replying_warning_text,
)
from bot.cards.mrkdwn import clip, escape, human_count, human_duration, safe_url, slack_len
from bot.cards.receipts import delivery_receipt
from bot.cards.records import (
    ConversationRow,
    Hidden,
    LastReply,
    PlatformHealthRow,
    ReportFigures,
    SlaBadge,
    sla_text,
)
from bot.cards.reminders import escalation_dm, sla_breach, sla_warning, window_reminder
from bot.cards.reports import digest, stats

__all__ = [
    "BUTTON_TEXT_MAX",
    "FALLBACK_MAX",
    "MESSAGE_BLOCKS_MAX",
    "SECTION_TEXT_MAX",
    "STATUS_COLOUR",
    "STATUS_EMOJI",
    "VIEW_BLOCKS_MAX",
    "ConversationRow",
    "Hidden",
    "LastReply",
    "PlatformHealthRow",
    "ReportFigures",
    "SlaBadge",
    "SlackMessage",
    "clip",
    "conversation_card",
    "conversation_list",
    "customer_followup",
    "customer_history",
    "delivery_receipt",
    "digest",
    "escalation_dm",
    "escape",
    "home_view",
    "human_count",
    "human_duration",
    "modal_text",
    "notice",
    "rating_line",
    "reply_modal",
    "replying_warning_text",
    "safe_url",
    "sla_breach",
    "sla_text",
    "sla_warning",
    "slack_len",
    "stats",
    "template_list",
    "template_shown",
    "waiting_label",
    "window_reminder",
]
