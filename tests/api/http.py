"""Calling Signoff's WSGI app in-process as waitress would: any method, path, query, headers; JSON answers read back."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    #: How many bytes of the request body the app read.
    read: int = 0
    raw_headers: list[tuple[str, str]] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    app: Any,
    method: str,
    path: str,
    *,
    body: bytes | dict[str, Any] | None = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    content_length: str | None = None,
) -> Reply:
    """One request through ``app``; a dict ``body`` is sent as JSON, ``token`` as ``Authorization: Bearer``."""
    raw = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
    stream = io.BytesIO(raw)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "3000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": stream,
        "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": str(len(raw)) if content_length is None else content_length,
        "CONTENT_TYPE": "application/json",
    }
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    for name, value in sent.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, response_headers: list[tuple[str, str]], _exc_info: Any = None) -> None:
        started.append((status, response_headers))

    answer = b"".join(app(environ, start_response))
    status, response_headers = started[0]
    return Reply(
        int(status.split()[0]), {k.lower(): v for k, v in response_headers}, answer, stream.tell(), response_headers
    )
