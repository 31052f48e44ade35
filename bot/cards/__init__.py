"""Block Kit builders — pure functions from stored rows to Slack messages, tested without Slack.

`builders` holds the cards and thread messages; `mrkdwn` the text helpers they share (escaping,
cutting to Block Kit limits, human formats). Import from here: `from bot.cards import notice`.
"""

from bot.cards.builders import (
    BUTTON_TEXT_MAX,
    FALLBACK_MAX,
    SECTION_TEXT_MAX,
    STATUS_COLOUR,
    STATUS_EMOJI,
    SlackMessage,
    conversation_card,
    customer_followup,
    notice,
    waiting_label,
)
from bot.cards.mrkdwn import clip, escape, human_count, human_duration, safe_url, slack_len

__all__ = [
    "BUTTON_TEXT_MAX",
    "FALLBACK_MAX",
    "SECTION_TEXT_MAX",
    "STATUS_COLOUR",
    "STATUS_EMOJI",
    "SlackMessage",
    "clip",
    "conversation_card",
    "customer_followup",
    "escape",
    "human_count",
    "human_duration",
    "notice",
    "safe_url",
    "slack_len",
    "waiting_label",
]
