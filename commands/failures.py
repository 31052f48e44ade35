"""What a person sees when a handler fails in a way nobody planned for: never silence.

A `UserError` is the planned answer (the handler says what to type). Anything else that escapes a
handler (a bug, the database down, full or read-only) is logged once with its traceback under a
short error id, and the person who asked gets a short ephemeral message within Slack's 3 seconds:
what failed, what to do, and that id, so an admin can find the traceback in the log.

`/social` reports through `report` itself (it knows the subcommand); buttons, modals and everything
else reach `on_unhandled`, registered as Bolt's global error handler
(https://docs.slack.dev/tools/bolt-python/concepts/errors: `@app.error` receives every unhandled
listener or middleware exception).
"""

from __future__ import annotations

import logging
import secrets

from slack_bolt import BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

# Words for the database errors people met in the hostile test campaign (SQLite and PostgreSQL).
_DATABASE_TROUBLE = (
    ("locked", "it is busy"), ("full", "its disk is full"), ("readonly", "it is read-only"),
    ("read-only", "it is read-only"), ("read only", "it is read-only"),
)


def new_error_id() -> str:
    """A short id to quote to an admin ("E-3F9A1C2B"), unique enough to find one line in a log."""
    return "E-" + secrets.token_hex(4).upper()


def failure_text(error: BaseException, error_id: str, what: str) -> str:
    """The message for the person: what failed (`what`, our mrkdwn), what to do, and the error id."""
    if isinstance(error, DBAPIError):
        detail = str(error.orig).lower() if error.orig is not None else ""
        why = next((words for needle, words in _DATABASE_TROUBLE if needle in detail), "it cannot be reached")
        return (f"⚠️ Parley could not store or read {what}: its database is unavailable ({why}). Nothing was "
                f"saved; try again in a minute. If it keeps failing, give your Parley admin error id `{error_id}`.")
    return (f"⚠️ Something went wrong with {what}, so it may not have been done. Check the case and try again; "
            f"if it keeps failing, give your Parley admin error id `{error_id}`.")


def report(error: BaseException, what: str) -> str:
    """Log `error` with its traceback under a new error id; return the message for the person.
    The log names the error's class and id; the traceback may quote SQL, never the reply text itself
    (engines are built with hide_parameters)."""
    error_id = new_error_id()
    log.error("error %s: %s failed (%s)", error_id, what, type(error).__name__, exc_info=error)
    return failure_text(error, error_id, what)


def tell(respond: Respond, text: str) -> None:
    """An ephemeral answer through the request's response_url; a failure to answer is only logged."""
    try:
        respond(response_type="ephemeral", replace_original=False, text=text)
    except Exception:  # the answer is best effort: the error itself is already in the log
        log.warning("could not send an error message to Slack", exc_info=True)


def on_unhandled(error: Exception, body: dict, respond: Respond | None, client: WebClient,
                 response: BoltResponse | None) -> BoltResponse | None:
    """Bolt's global error handler: log with an id and tell the person, the best way the request
    allows. A modal not yet answered is turned into a page saying what failed; a click or command
    gets an ephemeral message; a modal already closed gets a direct message from the app."""
    kind = body.get("type") or ("command" if body.get("command") else "request")
    text = report(error, _what(body, kind))
    if kind == "view_submission" and response is not None:
        # Not acknowledged yet: Slack shows this view in place of the modal.
        return BoltResponse(status=200, body={"response_action": "update", "view": _error_view(text)})
    if respond is not None:
        tell(respond, text)
    else:
        _direct_message(client, body, text)
    # Not acknowledged yet: acknowledge now. The person has been told; a 500 would only add Slack's
    # own vague warning on top.
    return BoltResponse(status=200, body="") if response is not None else None


def _direct_message(client: WebClient, body: dict, text: str) -> None:
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    if not user:
        return
    try:
        client.chat_postMessage(channel=user, text=text)
    except SlackApiError as failed:
        log.warning("could not tell %s about an error: %s", user, failed.response.get("error"))


def _what(body: dict, kind: str) -> str:
    if kind == "view_submission":
        return "sending this form"
    if kind == "block_actions":
        return "that button"
    if body.get("command"):
        return f"`{body['command']}`"
    return "your request"


def _error_view(text: str) -> dict:
    return {"type": "modal", "title": {"type": "plain_text", "text": "Not done"},
            "close": {"type": "plain_text", "text": "Close"},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
