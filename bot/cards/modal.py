"""The Reply / Take private modal and reply templates.

The modal shows the customer's message, what sending will do on this network (in the words its
connector's `Rules.explain` gives), a template picker, the text box and, for a public reply on a
network with a length limit, a live count as the network weighs it (X: links 23, emoji and CJK 2):
the text box dispatches an action on every character so the handler can rebuild the count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot import ids
from bot.cards.blocks import context, plain_text, section, user
from bot.cards.mrkdwn import clip, cut_mrkdwn, escape, human_duration, quote
from bot.cards.suggestions import SuggestedAnswer, suggestion_blocks
from bot.store.models import Conversation, Customer
from connectors.base import Rules
from connectors.registry import UnknownPlatform, shipped_rules

MODES = ("public", "private")
TEXT_INPUT_MAX = 3000  # Slack's ceiling for plain_text_input max_length and initial_value
METADATA_MAX = 3000
_CONTEXT_QUOTE_MAX = 1500
_TEMPLATES_MAX = 100  # Slack's limit on a select's options


def rules_of(conversation: Conversation, rules: Rules | None) -> Rules:
    """`rules` if given (the registry's), else the shipped network's; UnknownPlatform otherwise."""
    found = rules or shipped_rules(conversation.platform)
    if found is None:
        raise UnknownPlatform(conversation.platform, ())
    return found


def _who(customer: Customer, rules: Rules) -> str:
    """The customer as plain text (for plain_text fields); escape() it for mrkdwn."""
    if rules.handle_prefix and customer.handle:
        return rules.handle(customer.handle[:60])
    return (customer.name or customer.handle or "the customer")[:60]


def explain(conversation: Conversation, customer: Customer, mode: str, rules: Rules | None = None) -> str:
    """What sending will do on this network, in one or two sentences, in its connector's words."""
    network = rules_of(conversation, rules)
    who = escape(_who(customer, network))
    return network.explain(conversation.kind, "private" if mode == "private" else "public", who)


def _template_picker(templates: Sequence[tuple[str, str]], selected: str | None) -> dict:
    options = []
    for name, text in templates[:_TEMPLATES_MAX]:
        option = {"text": plain_text(name), "value": name[:150]}
        flat = " ".join(text.split())
        if flat:
            option["description"] = plain_text(flat)
        options.append(option)
    select = {
        "type": "static_select",
        "action_id": ids.ACTION_MODAL_TEMPLATE,
        "placeholder": plain_text("Insert a template…"),
        "options": options,
    }
    chosen = next((o for o in options if o["value"] == selected), None)
    if chosen is not None:
        select["initial_option"] = chosen
    # An actions block: choosing sends block_actions at once, and it is never a required field.
    return {"type": "actions", "block_id": ids.BLOCK_MODAL_TEMPLATE, "elements": [select]}


def reply_modal(
    *,
    conversation: Conversation,
    customer: Customer,
    latest_text: str,
    mode: str,
    templates: Sequence[tuple[str, str]],
    agent_id: str,
    text: str = "",
    replying_warning: str | None = None,
    private_metadata: str,
    nudge_text: str | None = None,
    selected_template: str | None = None,
    text_version: int = 0,
    rules: Rules | None = None,
    suggestions: Sequence[SuggestedAnswer] = (),
    selected_suggestion: int | None = None,
) -> dict:
    """The Reply (mode "public") or Take private (mode "private") modal for views.open/update.

    `text` pre-fills the box. To replace what the agent already typed (a template was picked),
    pass a new `text_version`: Slack keeps typed input while the box's block_id is unchanged.
    `replying_warning` is our mrkdwn ("⚠️ <@U2> opened this reply 1m ago"). `nudge_text` is the
    public notice a take-private posts where the network has one (X); its count is shown. `agent_id`
    is the Slack user the modal is for (named in the header context). `rules` are the network's
    (from the registry); left out, a shipped network's are used. `suggestions` are answers to
    similar past cases, offered below the templates (`bot/cards/suggestions.py`).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if len(private_metadata) > METADATA_MAX:
        raise ValueError("private_metadata is over Slack's 3000 characters")
    ref = conversation.ref if conversation.ref is not None else conversation.id
    network = rules_of(conversation, rules)
    in_chat = network.is_private(conversation.kind)
    private = mode == "private"
    who = _who(customer, network)
    quoted, _ = quote(latest_text, _CONTEXT_QUOTE_MAX)
    blocks = [section(ids.BLOCK_MODAL_CONTEXT, f"*#{ref}* · *{escape(who)}* wrote:\n{quoted}"),
              context(ids.BLOCK_MODAL_EXPLAIN, explain(conversation, customer, mode, network))]
    if replying_warning:
        blocks.append(context(ids.BLOCK_MODAL_WARNING, cut_mrkdwn(replying_warning, 500)))
    if templates:
        blocks.append(_template_picker(templates, selected_template))
    blocks.extend(suggestion_blocks(suggestions, selected_suggestion))
    blocks += _text_blocks(network, who, text, text_version, private=private, in_chat=in_chat)
    # A public post with a length limit: the count as the network weighs it, also for the notice.
    if network.public_limit is not None and not in_chat and private and nudge_text is not None:
        blocks.append(context(
            ids.BLOCK_MODAL_NUDGE,
            f"Public notice after the DM: “{clip(nudge_text, 400)}” · {network.count_hint(nudge_text)}",
        ))
    blocks.append(context(f"{ids.BLOCK_MODAL_EXPLAIN}.agent", f"Sending as {user(agent_id, 'you')}"))
    return _view(ref, blocks, private_metadata, private=private, in_chat=in_chat)


def _view(ref: int | None, blocks: list[dict], private_metadata: str, *, private: bool, in_chat: bool) -> dict:
    """The modal around its blocks: title, callback and the submit words for this kind of send."""
    title = f"Reply to #{ref}" if not private else f"Take #{ref} private"
    return {
        "type": "modal",
        "callback_id": ids.CALLBACK_PRIVATE_MODAL if private else ids.CALLBACK_REPLY_MODAL,
        "private_metadata": private_metadata,
        "title": plain_text(title, 24),
        "submit": plain_text("Send privately" if private else "Send publicly" if not in_chat
                             else "Send", 24),
        "close": plain_text("Cancel", 24),
        "blocks": blocks,
    }


def _text_blocks(network: Rules, who: str, text: str, text_version: int, *, private: bool,
                 in_chat: bool) -> list[dict]:
    """The text box, and under it the live count for a public reply on a network with a length limit
    (the box then dispatches an action on every character so the handler can rebuild the count)."""
    element: dict = {
        "type": "plain_text_input",
        "action_id": ids.ACTION_MODAL_TEXT,
        "multiline": True,
        "max_length": TEXT_INPUT_MAX,
        "placeholder": plain_text("Your private message" if private else "Your reply"),
    }
    if text:
        element["initial_value"] = text[:TEXT_INPUT_MAX]
    live_count = network.public_limit is not None and not in_chat and not private
    if live_count:
        element["dispatch_action_config"] = {"trigger_actions_on": ["on_character_entered"]}
    label = f"Private message to {who}" if private or in_chat else f"Public reply to {who}"
    block: dict = {
        "type": "input",
        "block_id": ids.modal_text_block(text_version),
        "label": plain_text(label, 2000),
        "element": element,
    }
    if not live_count:
        return [block]
    block["dispatch_action"] = True
    return [block, context(ids.BLOCK_MODAL_COUNT, network.count_hint(text))]


def modal_text(state_values: Mapping[str, Mapping[str, Mapping]]) -> tuple[str, str]:
    """(block_id, typed text) of the modal's text box from `view.state.values`, whichever version
    of the box is shown; use the block_id for `response_action: errors`. ("", "") if absent."""
    for block_id, actions in state_values.items():
        if ids.is_modal_text_block(block_id):
            value = (actions.get(ids.ACTION_MODAL_TEXT) or {}).get("value")
            return block_id, value or ""
    return "", ""


def replying_warning_text(other_agent: str, opened_at: datetime, now: datetime) -> str:
    """"⚠️ <@U2> opened this reply 1m ago — check the thread before sending." (our mrkdwn)."""
    when = escape(human_duration((now - opened_at).total_seconds()))
    return f"⚠️ {user(other_agent, 'someone')} opened this reply {when} ago — check the thread before sending."
