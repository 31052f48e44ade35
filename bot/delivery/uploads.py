"""Files Parley gives one person: charts and exports uploaded to their direct message with the app
(files_upload_v2 into the DM from conversations.open), never into a shared channel. Slack errors
propagate as SlackApiError; the caller decides what to tell the person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk import WebClient


@dataclass(frozen=True)
class Upload:
    filename: str
    title: str
    content: bytes


def upload_to_dm(client: WebClient, user_id: str, files: Sequence[Upload], comment: str) -> str:
    """Share `files` (one message, `comment` above them) in the user's DM with the app; the DM's id."""
    dm = client.conversations_open(users=user_id)["channel"]["id"]
    client.files_upload_v2(channel=dm, initial_comment=comment, file_uploads=[
        {"file": f.content, "filename": f.filename, "title": f.title} for f in files])
    return dm
