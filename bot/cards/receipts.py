"""The delivery receipt echoed in a conversation's thread after a staff reply, with a Retry button."""

from __future__ import annotations

from bot import ids
from bot.cards.blocks import FALLBACK_MAX, SlackMessage, button, section
from bot.cards.mrkdwn import cut_mrkdwn, safe_url
from connectors.registry import shipped_op


def delivery_receipt(
    *,
    agent_id: str,
    op: str,
    text: str,
    ok: bool,
    url: str | None,
    error: str | None,
    message_id: int,
    retryable: bool,
) -> SlackMessage:
    """"↪ <@U1> replied publicly: “…” ✅ view" or "… ❌ <the platform's error in plain words>".

    A failed send that may be tried again gets a Retry button whose value is the outbound
    message's id; the handler re-sends that stored message (still exactly once). `op` is the stored
    outbound operation of a shipped network (x_reply, x_dm, fb_private, …); ValueError otherwise.
    """
    # Imported here: bot.replies.rules imports bot.cards, so a module-level import would be circular.
    from bot.replies.rules import receipt

    line = receipt(agent_id=agent_id, op=shipped_op(op), text=text, ok=ok, url=safe_url(url), error=error)
    blocks = [section(ids.BLOCK_RECEIPT, line)]
    if not ok and retryable:
        blocks.append({
            "type": "actions",
            "block_id": ids.BLOCK_RECEIPT_ACTIONS,
            "elements": [button("Retry", ids.ACTION_RETRY_SEND, str(message_id), "primary")],
        })
    return SlackMessage(text=cut_mrkdwn(line, FALLBACK_MAX), blocks=blocks)
