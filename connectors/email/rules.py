"""E-mail's rules: every conversation is private already; the one reply is an e-mail to the customer.

There is no public reply and no "take it private": the reply modal's Reply is the e-mail, and the
Take private button refuses in plain words. Nothing bounds the reply's length or its timing (no
window), but a mail server does refuse messages over its size limit, so a reply is kept to a
generous 100 000 characters of text.
"""

from __future__ import annotations

from connectors.contract import (
    DirectMessage,
    Mode,
    OpSpec,
    Plan,
    Refusal,
    ReplyRequest,
    Rules,
    check_length,
)

PLATFORM = "email"
KIND = "dm"  # the shared word for a private conversation (connectors/base.py Kind.DM)
REPLY = "email_reply"  # the stored outbound op
REPLY_LIMIT = 100_000
NOT_PRIVATE = ("An e-mail is private already: only the customer reads it, so there is nothing to take "
               "private. Use Reply (or /social reply) to answer by e-mail. Nothing was sent.")


def plan(request: ReplyRequest) -> Plan:
    """An e-mail answering the customer's latest message; "take it private" is refused."""
    if request.mode == "private":
        raise Refusal(NOT_PRIVATE)
    check_length(request.text, REPLY_LIMIT, "An e-mail reply here")
    return Plan(REPLY, request.heard[-1].external_id)


def explain(kind: str, mode: Mode, who: str) -> str:
    """What sending does, for the reply modal (`who` is already mrkdwn-escaped)."""
    if mode == "private":
        return f"🔒 {NOT_PRIVATE}"
    return (f"✉️ Sends an e-mail to {who} from the support address, in reply to their latest message "
            "(same subject, their message quoted below yours).")


RULES = Rules(
    platform=PLATFORM, name="E-mail", emoji="✉️", plan=plan, explain=explain,
    ops={REPLY: OpSpec(public=False, action=DirectMessage, sending="your e-mail to {who}")},
    public_reply=False,
    private_mode="does not apply: an e-mail is private already",
    private_kinds=(KIND,),
)
