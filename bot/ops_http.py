"""The operations endpoints every role answers on ``SIGNOFF_PORT``: ``/healthz``, ``/readyz``, ``/metrics``.

- ``/healthz``: 200 ``ok`` while the process serves HTTP at all (liveness).
- ``/readyz``: 200 ``ready`` when the database answers and its migrations are current; otherwise
  503 with the reason, one line of plain text.
- ``/metrics``: the Prometheus text format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

#: One line saying why the process is not ready, or None when it is.
Readiness = Callable[[], str | None]
#: The metrics exposition: body and content type.
Exposition = Callable[[], tuple[bytes, str]]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def ops_app(*, readiness: Readiness, metrics: Exposition, fallback: WsgiApp | None = None) -> WsgiApp:
    """A WSGI app for the operations paths; any other path goes to ``fallback`` (404 without one)."""

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return _text(start_response, "200 OK", "ok")
        if path == "/readyz":
            problem = readiness()
            if problem is None:
                return _text(start_response, "200 OK", "ready")
            return _text(start_response, "503 Service Unavailable", f"not ready: {problem}")
        if path == "/metrics":
            body, content_type = metrics()
            start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return [body]
        if fallback is not None:
            return fallback(environ, start_response)
        return _text(start_response, "404 Not Found", "not found")

    return application


def by_prefix(prefix: str, app: WsgiApp, fallback: WsgiApp | None = None) -> WsgiApp:
    """Paths starting with ``prefix`` in any case go to ``app`` (which answers a miscased path itself), the rest
    to ``fallback`` (404 without one)."""

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if str(environ.get("PATH_INFO", "")).lower().startswith(prefix.lower()):
            return app(environ, start_response)
        if fallback is not None:
            return fallback(environ, start_response)
        return _text(start_response, "404 Not Found", "not found")

    return application


def _text(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = (text + "\n").encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
