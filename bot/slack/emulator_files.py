"""The emulator's file uploads, the three steps slack_sdk's ``WebClient.files_upload_v2`` takes.

Both methods are newer than Slack's published description (``emulator_spec.NEWER_METHODS`` lists
them with their required arguments, checked like every other method's):

1. ``files.getUploadURLExternal`` (``filename``; ``length``, the size in bytes, a positive integer)
   answers ``upload_url`` — a URL on the emulator's own HTTP server — and a ``file_id`` (``F…``);
2. the client POSTs the bytes to ``upload_url``, raw or as one part of ``multipart/form-data``. The
   emulator answers ``200 OK - <bytes>`` when exactly ``length`` bytes arrived; otherwise HTTP 400 and
   nothing is kept (a short or long upload never becomes a file). An unknown or already shared
   file id is HTTP 404;
3. ``files.completeUploadExternal`` (``files``: a JSON array of ``{"id", "title"}``; optional
   ``channel_id``, ``initial_comment``, ``thread_ts``, ``blocks``) checks every id names a file whose
   bytes arrived (``file_not_found`` otherwise: nothing is shared), then shares them: with a
   ``channel_id`` (a conversation id — a user id is ``channel_not_found``; open the DM first)
   they appear there as one message, its text the comment, as Slack shows a file share.

The bytes are kept (``SlackFile.data``), so a test can check what was uploaded.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any


@dataclass
class SlackFile:
    """One file: announced (``data`` None), uploaded (``data`` set), then shared (``shared`` True)."""

    id: str
    filename: str
    length: int
    data: bytes | None = None
    title: str = ""
    #: The conversation it was shared into (``files.completeUploadExternal``'s ``channel_id``), if any.
    channel: str | None = None
    initial_comment: str = ""
    thread_ts: str | None = None
    shared: bool = False


class FileUploads:
    """Upload tickets and the files they became. Thread-safe; owned by a ``SlackEmulator``."""

    def __init__(self) -> None:
        self.files: dict[str, SlackFile] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def shared_in(self, channel: str) -> list[SlackFile]:
        """Files shared into ``channel``, in upload order."""
        with self._lock:
            return [f for f in self.files.values() if f.shared and f.channel == channel]

    def ticket(self, args: dict[str, Any], *, base_url: str) -> dict[str, Any]:
        """``files.getUploadURLExternal``: a file id and the URL to POST its ``length`` bytes to."""
        length = _positive_int(args.get("length"))
        if length is None:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": ["bad length"]}}
        with self._lock:
            file_id = f"F{next(self._ids):09d}"
            self.files[file_id] = SlackFile(file_id, str(args["filename"]), length)
        return {"ok": True, "upload_url": f"{base_url}/upload/{file_id}", "file_id": file_id}

    def receive(self, file_id: str, body: bytes, content_type: str) -> tuple[int, str]:
        """The POST to an upload URL: (HTTP status, answer text)."""
        data = _file_part(body, content_type)
        with self._lock:
            found = self.files.get(file_id)
            if found is None or found.shared:
                return 404, "not found"
            if data is None or len(data) != found.length:
                got = "no file part" if data is None else f"{len(data)} bytes"
                return 400, f"length mismatch: {found.length} bytes announced, {got} received"
            found.data = data
        return 200, f"OK - {len(data)}"

    def complete(self, args: dict[str, Any]) -> tuple[dict[str, Any], list[SlackFile]]:
        """``files.completeUploadExternal``: the answer, and the files to show in ``channel_id`` (if any)."""
        wanted = args.get("files")
        if not isinstance(wanted, list) or not wanted or not all(isinstance(f, dict) and f.get("id") for f in wanted):
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": ["bad files"]}}, []
        channel = str(args.get("channel_id") or "") or None
        if channel is not None and channel.startswith(("U", "W")):
            return {"ok": False, "error": "channel_not_found"}, []
        with self._lock:
            found = [self.files.get(str(f["id"])) for f in wanted]
            if any(f is None or f.data is None or f.shared for f in found):
                return {"ok": False, "error": "file_not_found"}, []
            shared = [f for f in found if f is not None]
            for file, asked in zip(shared, wanted, strict=True):
                file.title = str(asked.get("title") or file.filename)
                file.channel, file.shared = channel, True
                file.initial_comment = str(args.get("initial_comment") or "")
                file.thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        listed = [{"id": f.id, "title": f.title, "name": f.filename, "size": f.length} for f in shared]
        return {"ok": True, "files": listed}, shared if channel is not None else []


def _positive_int(value: Any) -> int | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if number > 0 else None


def _file_part(body: bytes, content_type: str) -> bytes | None:
    """The uploaded bytes: the body itself, or the one file part of a multipart body."""
    if not content_type.lower().startswith("multipart/form-data"):
        return body
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    for part in message.iter_parts():
        if part.get_filename() is not None or part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else None
    return None


def shown_files(files: list[SlackFile]) -> list[dict[str, Any]]:
    """How a file share message lists its files in conversations.history."""
    return [{"id": f.id, "name": f.filename, "title": f.title, "size": f.length} for f in files]
