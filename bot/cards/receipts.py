"""The delivery receipt echoed in a conversation's thread after a staff reply: its wording (`receipt`, also
the sender's thread line) and the card with a Retry button (`delivery_receipt`)."""

from __future__ import annotations

from bot import ids
from bot.cards.blocks import FALLBACK_MAX, SlackMessage, button, section
from bot.cards.mrkdwn import cut_mrkdwn, escape, safe_url
from connectors.contract import OpSpec
from connectors.registry import shipped_op


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def receipt(*, agent_id: str, op: OpSpec | None, text: str, ok: bool, url: str | None = None,
            error: str | None = None) -> str:
    """The thread line after a send: `↪ <@U1> replied publicly: “…” ✅ <link>` or `❌ <error>`."""
    if op is not None and op.survey:  # Parley's own satisfaction question (CSAT), nobody's reply
        head = "📋 Parley asked the customer for a rating (1 to 5)"
        return f"{head} ✅ sent" if ok else f"{head} ❌ {escape(error or 'not sent')}"
    if op is None:
        what = "tried to reply"
    elif op.is_nudge:
        what = "posted the public DM notice"
    else:
        what = "replied publicly" if op.public else "replied privately"
    head = f"↪ <@{agent_id}> {what}: “{escape(_excerpt(text))}”"
    if ok:
        return f"{head} ✅ <{url}|view>" if url else f"{head} ✅ sent"
    return f"{head} ❌ {escape(error or 'not sent')}"


def hide_receipt(*, agent_id: str, site: str, hidden: int, error: str | None = None) -> str:
    """The thread line after "Hide comment": `🙈 <@U1> hid the customer's comment on Instagram ✅` (only
    its author and their friends still see it), or `❌ <the network's refusal>`."""
    what = "comment" if hidden == 1 else f"{hidden} comments"
    if error is None:
        return (f"🙈 <@{agent_id}> hid the customer's {what} on {escape(site)} ✅ "
                "— only its author (and their friends) still see it")
    done = f"hid {what}, then " if hidden else ""
    return f"🙈 <@{agent_id}> {done}could not hide a comment on {escape(site)} ❌ {escape(error)}"


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
    line = receipt(agent_id=agent_id, op=shipped_op(op), text=text, ok=ok, url=safe_url(url), error=error)
    blocks = [section(ids.BLOCK_RECEIPT, line)]
    if not ok and retryable:
        blocks.append({
            "type": "actions",
            "block_id": ids.BLOCK_RECEIPT_ACTIONS,
            "elements": [button("Retry", ids.ACTION_RETRY_SEND, str(message_id), "primary")],
        })
    return SlackMessage(text=cut_mrkdwn(line, FALLBACK_MAX), blocks=blocks)
