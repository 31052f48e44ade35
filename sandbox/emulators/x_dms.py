"""The X emulator's Direct Message endpoints: listing DM events and sending one as the brand.

Events come newest first with an opaque pagination token; sending to an account that does not
accept DMs from the brand is X's 403.
"""

from __future__ import annotations

from typing import Any

from sandbox.emulators import x_objects as xo
from sandbox.emulators import x_params as params
from sandbox.emulators.server import Request, Response
from sandbox.emulators.x_account import XAccounts


class DmEndpoints:
    """Handlers over one account store; `sent_dms` records what the brand sent."""

    def __init__(self, accounts: XAccounts) -> None:
        self.accounts = accounts
        self.sent_dms: list[dict[str, Any]] = []  # what the brand sent through the DM endpoint

    def list_events(self, request: Request) -> Response:
        fields = params.fields(request, "dm_event.fields", xo.DM_EVENT_FIELDS)
        user_fields = params.fields(request, "user.fields", xo.USER_FIELDS)
        expansions = params.fields(request, "expansions", xo.DM_EXPANSIONS)
        params.fields(request, "tweet.fields", xo.TWEET_FIELDS)
        max_results = params.bounded_int(request, "max_results", 1, 100, 100)
        until_id = params.page_token(request, "pagination_token", dm=True)
        with self.accounts.lock:
            events = sorted(self.accounts.dm_events.values(), key=lambda e: int(e.id), reverse=True)
            events = [e for e in events if until_id is None or int(e.id) < until_id]
            page, more = events[:max_results], len(events) > max_results
            body: dict[str, Any] = {"meta": {"result_count": len(page)}}
            if page:
                body["data"] = [e.render(fields) for e in page]
                if more:
                    body["meta"]["next_token"] = xo.dm_token(page[-1].id)
                if "sender_id" in expansions:
                    body["includes"] = {"users": self.accounts.users_payload([e.sender_id for e in page],
                                                                             user_fields)}
            return Response(200, body)

    def send(self, request: Request) -> Response:
        participant_id = request.params["participant_id"]
        payload = request.json
        # X API v2's DM create takes only `text` and `attachments` (no v1.1 quick_reply options):
        # https://docs.x.com/x-api/direct-messages/manage/api-reference/post-dm_conversations-with-participant_id-messages
        extra = sorted(set(payload) - {"text", "attachments"}) if isinstance(payload, dict) else []
        if extra:
            raise xo.InvalidRequest(extra[0], "", f"The `{extra[0]}` field is not allowed in a Direct Message")
        text = payload.get("text") if isinstance(payload, dict) else None
        if not isinstance(text, str) or not text:
            raise xo.InvalidRequest("text", str(text), "The `text` field is required when no attachment is sent")
        accounts = self.accounts
        with accounts.lock:
            user = accounts.users.get(participant_id)
            if user is None or participant_id == accounts.brand_id:
                raise xo.InvalidRequest("participant_id", participant_id,
                                        f"The `participant_id` value [{participant_id}] is not a user you can message")
            if not user.accepts_dms:
                return xo.problem(403, "Forbidden", "You are not permitted to send Direct Messages to this user.")
            event_id = accounts.add_dm(accounts.brand_id, text, recipient_id=participant_id)
            conversation = accounts.dm_events[event_id].dm_conversation_id
            self.sent_dms.append({"id": event_id, "participant_id": participant_id, "text": text,
                                  "dm_conversation_id": conversation})
            return Response(201, {"data": {"dm_conversation_id": conversation, "dm_event_id": event_id}})
