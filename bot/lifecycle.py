"""How a long-running role (``serve``, ``serve --no-worker``, ``worker``) starts listening and stops.

SIGTERM or SIGINT: stop taking work (the HTTP server stops accepting and answers the requests
in flight; Socket Mode disconnects), let the relay finish the delivery in flight (at most
``STOP_SECONDS``), exit 0. A second signal while stopping is ignored.
"""

from __future__ import annotations

import errno
import os
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

from waitress.server import BaseWSGIServer, MultiSocketServer, create_server

from bot.app import MAX_BODY_BYTES, ConfigurationError, Signoff
from bot.http_errors import answer_errors_in_json

#: The longest a stopping process waits for deliveries in flight.
STOP_SECONDS = 10.0
HTTP_THREADS = 16


class StopSignal:
    """Turns the first SIGTERM/SIGINT into an orderly stop while in its ``with`` block.

    The handler touches no lock (a pipe wakes ``wait``; ``serve`` unwinds waitress's loop with
    ``SystemExit``, which waitress handles by closing its sockets).
    """

    def __init__(self) -> None:
        self.requested = False
        self._serving = False
        self._read, self._write = os.pipe()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignal:
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        os.close(self._read)
        os.close(self._write)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            return
        self.requested = True
        os.write(self._write, b"x")
        if self._serving:
            raise SystemExit(0)

    def serve(self, server: BaseWSGIServer | MultiSocketServer) -> None:
        """Run ``server`` until a stop signal; requests in flight are answered (waitress waits 5 s)."""
        self._serving = True
        try:
            if not self.requested:
                server.run()
        except SystemExit:  # the signal came just before waitress's loop began
            server.close()
        finally:
            self._serving = False

    def wait(self) -> None:
        """Block until a stop signal."""
        if not self.requested:
            os.read(self._read, 1)


class LateApp:
    """A WSGI app set after the port is bound: a port in use is reported before migrations or Slack."""

    def __init__(self) -> None:
        self.target: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.target is None:  # waitress serves only after ``run``: never reached in practice
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"starting"]
        return self.target(environ, start_response)


def bind_http(app: Any, *, host: str, port: int) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server bound to ``host:port``. Raises ``ConfigurationError`` naming SIGNOFF_PORT."""
    try:
        server: BaseWSGIServer | MultiSocketServer = create_server(
            # waitress refuses a body of max_request_body_size bytes or more: MAX_BODY_BYTES itself is accepted.
            app,
            host=host,
            port=port,
            threads=HTTP_THREADS,
            max_request_body_size=MAX_BODY_BYTES + 1,
            ident="signoff",
        )
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            what = "is already in use" if exc.errno == errno.EADDRINUSE else "needs privileges this process lacks"
            raise ConfigurationError(
                f"SIGNOFF_PORT={port} cannot be used: the port {what} on {host}; it accepts a free port from 1 to 65535"
            ) from None
        raise ConfigurationError(f"--host {host} cannot be listened on ({exc.strerror or exc})") from None
    except ValueError as exc:  # waitress: "Invalid host/port specified" (a name that does not resolve)
        raise ConfigurationError(
            f"--host {host} cannot be listened on ({exc}); it accepts an address or a local name"
        ) from None
    answer_errors_in_json(server)
    return server


def run_until_stopped(
    signoff: Signoff,
    stop: StopSignal,
    *,
    server: BaseWSGIServer | MultiSocketServer | None,
    worker: bool,
    on_stop: Callable[[], None] | None = None,
) -> None:
    """Start the relay and sweeps (``worker``), serve HTTP (or just wait), and stop in order."""
    if worker:
        signoff.run_worker()
    if server is not None:
        stop.serve(server)
    else:
        stop.wait()
    if on_stop is not None:
        on_stop()
    signoff.stop(timeout=STOP_SECONDS)
