"""The platform calls an outbound message is delivered with.

A leaf below every station: the reply rules choose an `Op`, the sender and the delivery worker
dispatch on it, and the cards word the receipt from it, so none of them has to import another.
"""

from __future__ import annotations

import enum


class Op(enum.StrEnum):
    """The platform call an outbound message is delivered with (stored as the message's kind)."""

    X_REPLY = "x_reply"  # reply_public to the customer's latest tweet
    X_DM = "x_dm"  # send_dm to the customer
    X_NUDGE = "x_nudge"  # the short public reply saying a DM was sent
    FB_COMMENT = "fb_comment"  # reply_comment under a comment or visitor post
    FB_PRIVATE = "fb_private"  # private_reply (Messenger) to a comment's author
    MESSENGER = "messenger"  # send_messenger to the customer's PSID

    @property
    def public(self) -> bool:
        return self in (Op.X_REPLY, Op.X_NUDGE, Op.FB_COMMENT)

    @property
    def audit_action(self) -> str:
        return "reply_public" if self.public else "reply_private"
