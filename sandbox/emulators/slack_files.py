"""File uploads for the Slack emulator, the way `WebClient.files_upload_v2` makes them:
`files.getUploadURLExternal` (filename, length) → an upload URL on this emulator; a POST of the raw
bytes to it; `files.completeUploadExternal` (the file ids, `channel_id`, optional `thread_ts` and
`initial_comment`) shares them. As Slack: a file must be uploaded, with the announced length, before
it can be completed, and completed once. Tests read `uploads` (shared files, in order).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sandbox.emulators.server import Request, Response
from sandbox.emulators.slack_checks import ApiError, json_arg


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    data: bytes | None = None  # None until the bytes arrive at the upload URL
    title: str = ""
    channel: str | None = None  # set when completed (shared)
    thread_ts: str | None = None
    initial_comment: str = ""


class SlackFiles:
    """Mixed into SlackEmulator; `_install_files()` is called from its constructor."""

    _files: dict[str, UploadedFile]
    uploads: list[UploadedFile]

    def _install_files(self) -> None:
        self._files, self.uploads, self._file_ids = {}, [], itertools.count(1)
        self.route("POST", r"/upload/(?P<file_id>F\w+)", self._receive_upload)  # type: ignore[attr-defined]

    def m_files_getUploadURLExternal(self, args: dict) -> dict[str, Any]:
        filename, length = str(args.get("filename") or ""), str(args.get("length") or "")
        if not filename or not length.isdigit() or int(length) == 0:
            raise ApiError("invalid_arguments")
        file = UploadedFile(f"F0{next(self._file_ids):08d}", filename, int(length))
        self._files[file.id] = file
        return {"upload_url": f"{self.base_url}/upload/{file.id}", "file_id": file.id}  # type: ignore[attr-defined]

    def _receive_upload(self, request: Request) -> Response:
        with self.workspace.lock:  # type: ignore[attr-defined]
            file = self._files.get(request.params["file_id"])
            if file is None or file.data is not None:
                return Response(404, "not found")
            if len(request.body) != file.length:
                return Response(400, f"expected {file.length} bytes, got {len(request.body)}")
            file.data = request.body
        return Response(200, f"OK - {len(request.body)}")

    def m_files_completeUploadExternal(self, args: dict) -> dict[str, Any]:
        wanted = json_arg(args.get("files") or "", "invalid_arguments")
        if not isinstance(wanted, list) or not wanted:
            raise ApiError("invalid_arguments")
        files: list[UploadedFile] = []
        for item in wanted:  # every file is checked before any is shared
            file = self._files.get(str(item.get("id")))
            if file is None or file.data is None or file.channel is not None:
                raise ApiError("file_not_found")  # unknown, not uploaded yet, or completed already
            files.append(file)
        channel = self.workspace.channel(args.get("channel_id"), posting=True) if args.get("channel_id") else None  # type: ignore[attr-defined]
        for file, item in zip(files, wanted, strict=True):
            file.title = str(item.get("title") or file.filename)
            file.channel = channel.id if channel else None
            file.thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
            file.initial_comment = str(args.get("initial_comment") or "")
            self.uploads.append(file)
        return {"files": [{"id": f.id, "name": f.filename, "title": f.title} for f in files]}
