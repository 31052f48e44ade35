"""From a stored outbound message to the typed action its connector performs: platform-neutral.

A message's `kind` is an operation its network's `Rules.ops` declares; the op names the action type
(`PublicReply`, `PrivateReply`, `DirectMessage`). Whether a message can be sent at all is decided
here, before the Sender marks it in progress.
"""

from __future__ import annotations

from datetime import datetime

from bot.store.models import Message
from bot.triage import rating
from connectors.base import Action, DirectMessage, PrivateReply, PublicReply, Rules
from connectors.registry import Registry, UnknownPlatform


def unsendable(registry: Registry, message: Message) -> str | None:
    """Why a stored message cannot go out at all (network not registered, operation unknown to
    it), in plain words; None when it can."""
    try:
        connector = registry.connector(message.platform)
    except UnknownPlatform as unknown:
        return f"{unknown} Nothing was sent."
    if message.kind not in connector.rules.ops:
        return f"{connector.rules.name} has no '{message.kind}' operation. Nothing was sent."
    return None


def action_for(network: Rules, message: Message, recipient: str, customer_wrote_at: datetime,
               now: datetime) -> Action:
    """The typed action for a stored message, by its op's declared action type. A direct message's
    human-agent tag is decided now, not when it was queued: time has passed since. The satisfaction
    question (a survey op) carries the 1-5 scale as choices and is never tagged."""
    spec = network.ops[message.kind]
    kind, target, text = spec.action, message.in_reply_to or "", message.text
    if spec.survey:  # Parley's own question: never tagged as a human agent's, with the scale as buttons
        return DirectMessage(recipient, text, choices=rating.CHOICES)
    if kind is PublicReply:
        return PublicReply(target, text)
    if kind is PrivateReply:
        return PrivateReply(target, text)
    return DirectMessage(recipient, text, human_agent_tag=network.human_agent_tag(customer_wrote_at, now),
                         in_reply_to=message.in_reply_to, key=message.send_key or "")


def private_reply_ops(registry: Registry, platform: str) -> list[str]:
    """The ops of a registered network that are private replies to a public message (one per message
    on Facebook); none for a network that is not registered."""
    if platform not in registry:
        return []
    return [name for name, spec in registry.rules(platform).ops.items() if spec.action is PrivateReply]
