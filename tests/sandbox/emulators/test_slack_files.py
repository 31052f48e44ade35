"""File uploads on the Slack emulator (sandbox/emulators/slack_files.py), driven by slack_sdk's own
`files_upload_v2` and by the three raw steps it is made of."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.emulators.slack_api import SlackEmulator


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def client(slack: SlackEmulator) -> WebClient:
    return WebClient(token=SlackEmulator.TOKEN, base_url=slack.base_url + "/api/", retry_handlers=[])


def test_files_upload_v2_shares_every_file_in_the_channel(slack, client):
    done = client.files_upload_v2(channel="C0REPORTS", initial_comment="Last 7 days", file_uploads=[
        {"file": b"\x89PNG one", "filename": "a.png", "title": "A"},
        {"content": "ref,platform\n1,x\n", "filename": "export.csv", "title": "Export"}])
    assert [f["title"] for f in done["files"]] == ["A", "Export"]
    assert [(f.filename, f.title, f.channel, f.data, f.initial_comment) for f in slack.uploads] == [
        ("a.png", "A", "C0REPORTS", b"\x89PNG one", "Last 7 days"),
        ("export.csv", "Export", "C0REPORTS", b"ref,platform\n1,x\n", "Last 7 days")]


def _post(url: str, data: bytes) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST")) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_file_must_arrive_whole_before_it_is_shared_and_is_shared_once(slack, client):
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.files_getUploadURLExternal(filename="a.png", length=0)
    issued = client.files_getUploadURLExternal(filename="a.png", length=4)
    files = [{"id": issued["file_id"], "title": "A"}]
    with pytest.raises(SlackApiError, match="file_not_found"):  # nothing uploaded yet
        client.files_completeUploadExternal(files=files, channel_id="C0REPORTS")
    assert _post(issued["upload_url"], b"abc") == 400  # not the announced length
    assert _post(issued["upload_url"], b"abcd") == 200
    client.files_completeUploadExternal(files=files, channel_id="C0REPORTS")
    with pytest.raises(SlackApiError, match="file_not_found"):
        client.files_completeUploadExternal(files=files, channel_id="C0REPORTS")
    assert len(slack.uploads) == 1
