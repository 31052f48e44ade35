"""Graph's refusals of an Instagram send, in plain words for staff.

Instagram messaging runs on the Messenger Platform, so its send errors are Messenger's
(developers.facebook.com/docs/messenger-platform/error-codes): 10/2018278 outside the allowed window,
10900 a comment already privately replied to; 200 a permission the token lacks (the permission
reference lists `instagram_manage_comments` for replies and `instagram_manage_messages` for DMs).
"""

from __future__ import annotations

from connectors.base import SendError
from connectors.facebook.graph import GraphError, refusal_in_words

TOKEN_ERROR = ("Instagram token expired or invalid — generate a new Page token (or INSTAGRAM_TOKEN); "
               "Instagram tokens last 60 days unless refreshed")

SEND_ERRORS: dict[int, str] = {
    10900: "Instagram allows only one private reply per comment, and this comment already has one.",
    10903: "This comment can no longer get a private reply (Instagram allows it for 7 days).",
    200: "The Instagram token lacks a permission for this (instagram_manage_comments for replies, "
         "instagram_manage_messages for messages) — see the README's going-live section.",
    100: "Instagram couldn't find that comment, post or person (deleted, or hidden?).",
    551: "This person isn't available on Instagram Direct right now.",
}


def send_error(exc: GraphError) -> SendError:
    """Graph's refusal in plain words, with its code and whether retrying can help."""
    return refusal_in_words(exc, "Instagram", SEND_ERRORS, TOKEN_ERROR,
                            "Outside Instagram's messaging window: 24 hours after the customer's last message, "
                            "or 7 days with the human-agent tag.")
