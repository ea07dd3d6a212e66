"""The emulator's HTTP side: Web API calls under ``/api/``, ``response_url`` posts under
``/response/``, and file bytes under ``/upload/`` (read raw: they are no form). Used by
``bot.slack.emulator``, which does the answering."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import urlparse

from bot.slack.emulator_spec import decode_body


class Answering(Protocol):
    """What the handler hands each request to (a ``SlackEmulator``)."""

    def answer_call(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]: ...

    def record_response(self, key: str, args: dict[str, Any]) -> None: ...

    def receive_upload(self, file_id: str, body: bytes, content_type: str) -> tuple[int, str]: ...


def handler_for(emulator: Answering) -> type[BaseHTTPRequestHandler]:
    """A request handler class that serves ``emulator``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._dispatch()

        def do_POST(self) -> None:
            self._dispatch()

        def _dispatch(self) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type", "")
            if url.path.startswith("/upload/"):
                self._send(*emulator.receive_upload(url.path.removeprefix("/upload/"), body, content_type))
                return
            args = decode_body(body, content_type, url.query)
            if url.path.startswith("/response/"):
                emulator.record_response(url.path.removeprefix("/response/"), args)
                self._send(200, {"ok": True})
                return
            if not url.path.startswith("/api/"):
                self._send(404, {"ok": False, "error": "not_found"})
                return
            method = url.path.removeprefix("/api/")
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else args.get("token")
            status, payload, headers = emulator.answer_call(method, args, token)
            self._send(status, payload, headers)

        def _send(self, status: int, payload: dict[str, Any] | str, headers: dict[str, str] | None = None) -> None:
            kind = "text/plain" if isinstance(payload, str) else "application/json"
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the caller is gone (a test killed it mid-call): nobody to answer
                self.close_connection = True

    return Handler
