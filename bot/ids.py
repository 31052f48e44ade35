"""Every Slack identifier Parley uses: action_id, block_id, callback_id, the slash command and its
subcommands. Cards (bot/cards/) set them; handlers (commands/) match on them. Nothing else
spells these strings, so renaming one can never break a button silently.

Buttons on a conversation card carry the conversation id in `value`. The snooze select has no
per-button value, so each of its options carries "<conversation id>|<choice>"; use
`snooze_option_value` / `parse_snooze_option_value` rather than building or splitting it by hand.
"""

from __future__ import annotations

from typing import Final

# --- slash command -------------------------------------------------------------------------------
SLASH_COMMAND: Final = "/social"

SUB_HELP: Final = "help"
SUB_REPLY: Final = "reply"
SUB_PRIVATE: Final = "private"
SUB_NOTE: Final = "note"
SUB_ASSIGN: Final = "assign"
SUB_UNASSIGN: Final = "unassign"
SUB_RESOLVE: Final = "resolve"
SUB_REOPEN: Final = "reopen"
SUB_SNOOZE: Final = "snooze"
SUB_HIDE: Final = "hide"
SUB_QUEUE: Final = "queue"
SUB_MINE: Final = "mine"
SUB_FIND: Final = "find"
SUB_CUSTOMER: Final = "customer"
SUB_TEMPLATE: Final = "template"
SUB_STATS: Final = "stats"
SUB_EXPORT: Final = "export"

SUBCOMMANDS: Final = (
    SUB_HELP, SUB_REPLY, SUB_PRIVATE, SUB_NOTE, SUB_ASSIGN, SUB_UNASSIGN, SUB_RESOLVE, SUB_REOPEN,
    SUB_SNOOZE, SUB_HIDE, SUB_QUEUE, SUB_MINE, SUB_FIND, SUB_CUSTOMER, SUB_TEMPLATE, SUB_STATS, SUB_EXPORT,
)

# --- conversation card: action_ids ---------------------------------------------------------------
ACTION_REPLY: Final = "parley.card.reply"
ACTION_TAKE_PRIVATE: Final = "parley.card.take_private"
ACTION_ASSIGN_ME: Final = "parley.card.assign_me"
ACTION_RESOLVE: Final = "parley.card.resolve"
ACTION_REOPEN: Final = "parley.card.reopen"
ACTION_SNOOZE: Final = "parley.card.snooze"
ACTION_HIDE: Final = "parley.card.hide"  # only where the network's rules can hide the case's comments
ACTION_OPEN_ORIGINAL: Final = "parley.card.open_original"  # link button; Slack still sends an action
ACTION_RETRY_SEND: Final = "parley.thread.retry_send"  # on a ❌ delivery receipt (issue 3)
ACTION_OPEN_AS_CARD: Final = "parley.rollup.open_as_card"  # on a storm roll-up entry (issue 11)

CARD_ACTIONS: Final = (
    ACTION_REPLY, ACTION_TAKE_PRIVATE, ACTION_ASSIGN_ME, ACTION_RESOLVE, ACTION_REOPEN, ACTION_SNOOZE, ACTION_HIDE,
)

# --- conversation card: block_ids ----------------------------------------------------------------
BLOCK_CARD_TITLE: Final = "parley.card.title"
BLOCK_CARD_TEXT: Final = "parley.card.text"
BLOCK_CARD_LINK: Final = "parley.card.link"
BLOCK_CARD_META: Final = "parley.card.meta"
BLOCK_CARD_PRIORITY: Final = "parley.card.priority"
BLOCK_CARD_ACTIONS: Final = "parley.card.actions"
BLOCK_FOLLOWUP: Final = "parley.thread.followup"
BLOCK_FOLLOWUP_LINK: Final = "parley.thread.followup_link"
BLOCK_NOTICE: Final = "parley.thread.notice"
BLOCK_CARD_SLA: Final = "parley.card.sla"  # SLA countdown (issue 4)
BLOCK_CARD_REPLYING: Final = "parley.card.replying"  # "✍️ <@U> is replying"
BLOCK_CARD_LAST_REPLY: Final = "parley.card.last_reply"
BLOCK_CARD_PROFILE: Final = "parley.card.profile"  # the customer's earlier cases, tone, reach
BLOCK_CARD_HIDDEN: Final = "parley.card.hidden"  # "🙈 Comment hidden on Instagram by …"
BLOCK_CARD_WINDOW: Final = "parley.card.window"  # the network's reply window left (Rules.windows)
BLOCK_CARD_NOTICE: Final = "parley.card.notice"  # what the network will not do for this kind (Rules.card_notice)
BLOCK_CARD_CSAT: Final = "parley.card.csat"  # the customer's satisfaction rating (CSAT)
BLOCK_RECEIPT: Final = "parley.thread.receipt"  # delivery receipt of a staff reply
BLOCK_RECEIPT_ACTIONS: Final = "parley.thread.receipt_actions"  # holds the Retry button
# --- storm mode: roll-ups and the spike alert (issue 11) -----------------------------------------
BLOCK_ROLLUP_TITLE: Final = "parley.rollup.title"
BLOCK_ROLLUP_ENTRY: Final = "parley.rollup.entry"  # one per case: "parley.rollup.entry.<n>"
BLOCK_ROLLUP_FOOTER: Final = "parley.rollup.footer"
BLOCK_SPIKE_ALERT: Final = "parley.spike.alert"
BLOCK_SPIKE_HOW: Final = "parley.spike.how"

# --- modals: callback_ids and their inputs (issue 3) ---------------------------------------------
CALLBACK_REPLY_MODAL: Final = "parley.modal.reply"
CALLBACK_PRIVATE_MODAL: Final = "parley.modal.private"
BLOCK_MODAL_TEMPLATE: Final = "parley.modal.template"
ACTION_MODAL_TEMPLATE: Final = "parley.modal.template_select"
BLOCK_MODAL_TEXT: Final = "parley.modal.text"
ACTION_MODAL_TEXT: Final = "parley.modal.text_input"
BLOCK_MODAL_CONTEXT: Final = "parley.modal.context"  # the customer's message
BLOCK_MODAL_EXPLAIN: Final = "parley.modal.explain"  # what sending will do on this platform
BLOCK_MODAL_WARNING: Final = "parley.modal.warning"  # someone else opened this reply
BLOCK_MODAL_COUNT: Final = "parley.modal.count"  # X weighted character count
BLOCK_MODAL_NUDGE: Final = "parley.modal.nudge"  # X take-private: the public DM notice
BLOCK_MODAL_SUGGESTIONS: Final = "parley.modal.suggestions"  # similar past answers, with thread links
BLOCK_MODAL_SUGGESTION: Final = "parley.modal.suggestion"  # the picker that inserts one
ACTION_MODAL_SUGGESTION: Final = "parley.modal.suggestion_select"


def modal_text_block(version: int = 0) -> str:
    """block_id of the modal's text box. Slack keeps what was typed in an input whose block_id is
    unchanged and ignores a new initial_value, so filling the box from a template needs a new id."""
    return BLOCK_MODAL_TEXT if version == 0 else f"{BLOCK_MODAL_TEXT}.{version}"


def is_modal_text_block(block_id: str) -> bool:
    return block_id == BLOCK_MODAL_TEXT or block_id.startswith(BLOCK_MODAL_TEXT + ".")


# --- lists, reminders, reports, App Home (issues 3 and 4): block_ids --------------------------------
BLOCK_LIST_TITLE: Final = "parley.list.title"
BLOCK_LIST_ROWS: Final = "parley.list.rows"  # + ".<n>": rows are packed into several sections
BLOCK_LIST_MORE: Final = "parley.list.more"
BLOCK_CUSTOMER_HANDLES: Final = "parley.customer.handles"
BLOCK_TEMPLATE: Final = "parley.template"  # + ".<n>" in a list
BLOCK_REMINDER_HEAD: Final = "parley.reminder.head"
BLOCK_REPORT_TITLE: Final = "parley.report.title"
BLOCK_REPORT_FIGURES: Final = "parley.report.figures"
BLOCK_REPORT_OLDEST: Final = "parley.report.oldest"
BLOCK_REPORT_VOICE: Final = "parley.report.voice"
BLOCK_REPORT_SPEND: Final = "parley.report.spend"
BLOCK_SPEND_WARNING: Final = "parley.spend.warning"  # + ".head", ".spent", ".next", ".fix"
BLOCK_HOME: Final = "parley.home"  # + ".<section>..." for each App Home block
CALLBACK_HOME: Final = "parley.home.view"

# --- snooze choices ------------------------------------------------------------------------------
SNOOZE_30M: Final = "30m"
SNOOZE_2H: Final = "2h"
SNOOZE_TOMORROW_9: Final = "tomorrow_9"
SNOOZE_NEXT_WEEK: Final = "next_week"

# (choice, label shown in the select), in menu order
SNOOZE_CHOICES: Final = (
    (SNOOZE_30M, "30 minutes"),
    (SNOOZE_2H, "2 hours"),
    (SNOOZE_TOMORROW_9, "Tomorrow 9:00"),
    (SNOOZE_NEXT_WEEK, "Next week"),
)

_SNOOZE_SEP: Final = "|"


def snooze_option_value(conversation_id: int, choice: str) -> str:
    """The `value` of one snooze option: "<conversation id>|<choice>"."""
    if choice not in dict(SNOOZE_CHOICES):
        raise ValueError(f"unknown snooze choice {choice!r}")
    return f"{conversation_id}{_SNOOZE_SEP}{choice}"


def parse_snooze_option_value(value: str) -> tuple[int, str]:
    """(conversation id, choice) from a snooze option value; ValueError if it is not one of ours."""
    conv, sep, choice = value.partition(_SNOOZE_SEP)
    if not sep or not conv.isdigit() or choice not in dict(SNOOZE_CHOICES):
        raise ValueError(f"not a snooze option value: {value!r}")
    return int(conv), choice
