"""The form arguments of a Messenger Send API call (shared by Facebook and Instagram Direct)."""

from __future__ import annotations

import json
from typing import Any


def messenger_args(recipient: dict[str, str], text: str, *, human_agent_tag: bool = False,
                   choices: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    """`recipient` (`{"id": …}`, or `{"comment_id": …}` for a private reply) and `message` as JSON
    strings (facebook-sdk form-encodes dict values), the quick replies for `choices` (title,
    payload) and the messaging type: RESPONSE, or the HUMAN_AGENT tag
    (https://developers.facebook.com/docs/messenger-platform/send-messages/message-tags/)."""
    message: dict[str, Any] = {"text": text}
    if choices:
        message["quick_replies"] = [{"content_type": "text", "title": title, "payload": payload}
                                    for title, payload in choices]
    args = {"recipient": json.dumps(recipient), "message": json.dumps(message)}
    if human_agent_tag:
        args |= {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    else:
        args["messaging_type"] = "RESPONSE"
    return args
