"""What waitress answers itself, before any app runs, in the API's JSON error shape (DESIGN §9).

Waitress refuses some requests from their headers alone: a declared body of
``max_request_body_size`` bytes or more, a chunked body that grows past it, a malformed request
line or ``Content-Length`` (400), a transfer coding it does not implement (501). It answers them
as text. For a path under ``/api/`` (any case) — or one waitress could not read — this answers
``{"error": "…"}`` instead, so an API client parses one shape whatever refused it; Slack's and
the operations paths keep waitress's text.
"""

from __future__ import annotations

import json
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, MultiSocketServer
from waitress.task import ErrorTask

#: How each of waitress's refusals is said to an API client.
_SAID = {
    413: "the body is larger than 1048576 bytes (1 MiB; a chunked body counts its framing); send at most that",
    400: "the request could not be read as HTTP",
    431: "the request's headers are too large",
    501: "the request's Transfer-Encoding is not supported: send Content-Length, or chunked alone",
}


class JsonErrorTask(ErrorTask):
    """Waitress's error answer, as JSON for API paths (see the module docstring)."""

    def execute(self) -> None:
        path = str(getattr(self.request, "path", "") or "")
        if path and not path.lower().startswith("/api/"):
            super().execute()
            return
        request: Any = self.request
        error = request.error
        code = int(getattr(error, "code", 400))
        detail = str(getattr(error, "body", "") or "")
        said = _SAID.get(code, "the request could not be served")
        message = said if code == 413 or not detail else f"{said} ({detail[:120]})"
        body = json.dumps({"error": message}, separators=(",", ":")).encode()
        self.status = f"{code} {getattr(error, 'reason', 'Bad Request')}"
        self.response_headers = [*self.response_headers, ("Content-Type", "application/json")]
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


def answer_errors_in_json(server: BaseWSGIServer | MultiSocketServer) -> None:
    """Make ``server`` (from ``waitress.create_server``) answer its own refusals with ``JsonErrorTask``."""
    listeners: list[Any] = [server] if isinstance(server, BaseWSGIServer) else list((server.map or {}).values())
    for listener in listeners:
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = JsonErrorChannel
