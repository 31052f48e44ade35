"""Graph's people and Messenger messages as Parley's records (shared by polling and the webhook)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import Author, InboundMessage, Kind, Platform
from connectors.facebook.graph import parse_time

ANONYMOUS = {"id": "anonymous", "name": "Facebook user"}


def sender(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """The item's author; Graph omits `from` for some people's comments (privacy), never crash on it."""
    who = item.get("from")
    return who if isinstance(who, dict) and who.get("id") else ANONYMOUS


def author_of(who: Mapping[str, Any]) -> Author:
    name = str(who.get("name") or "")
    return Author(external_id=str(who["id"]), handle=name, name=name)


def messenger_record(message: Mapping[str, Any]) -> InboundMessage:
    """A Messenger message (Graph's `/{conversation}/messages` shape) from a customer."""
    psid = str(sender(message)["id"])
    return InboundMessage(
        platform=Platform.FACEBOOK, kind=Kind.MESSENGER, external_id=message["id"],
        # The PSID, not the t_ conversation id: webhooks carry only the PSID, and a Page has exactly
        # one Messenger conversation per person, so both paths thread the same way.
        thread_key=psid, text=message.get("message") or "(attachment)", author=author_of(sender(message)),
        created_at=parse_time(message["created_time"]),
    )
