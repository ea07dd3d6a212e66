"""Calling Signoff's WSGI app in-process as waitress would: any method, path, query, headers; JSON answers read back."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from handlers.api_openapi import openapi_document


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
    reply = Reply(
        int(status.split()[0]), {k.lower(): v for k, v in response_headers}, answer, stream.tell(), response_headers
    )
    assert_documented(method, path, reply)
    return reply


def route_of(path: str) -> str | None:
    """The OpenAPI path a request path is served by (``handlers.api_http._route``), or None (a 404 path)."""
    if path in ("/api/v1/requests", "/api/v1/requests/"):
        return "/api/v1/requests"
    if path.startswith("/api/v1/requests/") and "/" not in path[len("/api/v1/requests/") :]:
        return "/api/v1/requests/{request}"
    return path if path in ("/api/v1/explain", "/api/v1/openapi.json") else None


def documented(method: str, route: str) -> dict[str, Any]:
    """The responses ``/api/v1/openapi.json`` documents for ``method`` on ``route``; for a method the route does
    not take, those of its operations' 405."""
    item = openapi_document()["paths"][route]
    operation = item.get(method.lower())
    if operation is not None:
        return dict(operation["responses"])
    return {"405": next(op["responses"]["405"] for op in item.values() if "405" in op["responses"])}


def assert_documented(method: str, path: str, reply: Reply) -> None:
    """Every answer the API gives in a test is one its OpenAPI document lists, with the headers it lists
    (QA finding F19); a path that is no route is the JSON 404 the document's description names."""
    if not path.startswith("/api/"):
        return
    route = route_of(path)
    if route is None:
        assert reply.status == 404 and reply.headers["content-type"] == "application/json", (path, reply.status)
        return
    answers = documented(method, route)
    assert str(reply.status) in answers, f"{method} {route} answered {reply.status}, not in {sorted(answers)}"
    for header in answers[str(reply.status)].get("headers", {}):
        assert header.lower() in reply.headers, f"{method} {route} {reply.status} lacks its documented {header}"
    if reply.status != 204:
        assert reply.headers["content-type"] == "application/json"
