"""``signoff serve``, ``signoff worker`` and ``signoff digest --now``: the commands that run Signoff.

Each reads its settings once, sets up logging, binds its port before any other work (so a port in
use is one line naming ``SIGNOFF_PORT``), builds Signoff, and stops in order on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO
from urllib.error import URLError

from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import SQLAlchemyError

from bot.app import ConfigurationError, GovernanceHolder, Signoff, build_signoff, required_secrets
from bot.domain.governance import GovernanceInvalid
from bot.lifecycle import LateApp, StopSignal, bind_http, run_until_stopped
from bot.logs import configure_logging
from bot.services.digest_now import send_digests_now
from bot.services.digest_now import summary as digest_summary
from bot.services.people import directory_timezones
from bot.settings import Settings, load_settings
from bot.slack.startup import SlackUnreachable


def _start(err: TextIO, settings: Settings, *, http: bool) -> Signoff | None:
    """Build Signoff; None (with one message) when a dependency is missing. Raises ``ConfigurationError``."""
    try:
        return build_signoff(settings, http=http)
    except SlackUnreachable as exc:
        print(f"signoff: {exc}", file=err)
    except GovernanceInvalid as exc:
        print(f"signoff: the governance file cannot be used:\n{exc}", file=err)
    except SQLAlchemyError as exc:
        print(f"signoff: cannot open the database at $SIGNOFF_DATABASE_URL: {exc.__class__.__name__}: {exc}", file=err)
    return None


def _settings(args: argparse.Namespace) -> Settings:
    """The settings, with ``--config`` (when given) in place of ``$SIGNOFF_CONFIG``."""
    settings = load_settings()
    if getattr(args, "config", None):
        settings = settings.model_copy(update={"config": Path(args.config)})
    return settings


def serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    settings = _settings(args)
    required_secrets(settings, http=not settings.slack_app_token)  # a missing secret is said before any work
    _log_setup(settings)
    app = LateApp()
    server = bind_http(app, host=args.host, port=settings.port)  # a port in use: one line, before any work
    with StopSignal() as stop, _closed_unless_served(server) as served:  # SIGTERM/SIGINT: stop in order, exit 0
        signoff = _start(err, settings, http=not settings.slack_app_token)
        if signoff is None:
            return 1
        reload_on_hangup(signoff.governance)
        app.target = signoff.without_slack() if settings.slack_app_token else signoff.wsgi()
        try:
            on_stop = _connect_socket_mode(signoff, settings, out) if settings.slack_app_token else None
        except SlackUnreachable as exc:
            signoff.engine.dispose()
            print(f"signoff: {exc}", file=err)
            return 1
        except ConfigurationError:
            signoff.engine.dispose()
            raise
        if on_stop is None:
            where = f"{args.host}:{settings.port}"
            paths = "/slack/events, /api/v1/, /healthz, /readyz, /metrics"
            print(f"signoff: listening on {where} ({paths})", file=out, flush=True)
        served.set()
        run_until_stopped(signoff, stop, server=server, worker=not args.no_worker, on_stop=on_stop)
    return 0


@contextmanager
def _closed_unless_served(server: Any) -> Iterator[threading.Event]:
    """Close the bound port when starting fails before ``run_until_stopped`` took it over."""
    served = threading.Event()
    try:
        yield served
    finally:
        if not served.is_set():
            server.close()


def _connect_socket_mode(signoff: Signoff, settings: Settings, out: TextIO) -> Callable[[], None]:
    """Connect to Slack over Socket Mode; returns what closes it (no new envelopes while stopping)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    assert settings.slack_app_token is not None
    handler = SocketModeHandler(signoff.bolt, settings.slack_app_token.get_secret_value())
    try:
        handler.connect()  # type: ignore[no-untyped-call]
    except SlackApiError as exc:
        handler.close()  # type: ignore[no-untyped-call]
        raise ConfigurationError(
            f"SLACK_APP_TOKEN was refused by Slack ({exc.response.get('error', 'error')}); "
            "it accepts this app's app-level token (xapp-…) with the connections:write scope"
        ) from None
    except (SlackClientError, URLError, OSError) as exc:
        handler.close()  # type: ignore[no-untyped-call]
        raise SlackUnreachable(f"Slack Socket Mode did not connect at SIGNOFF_SLACK_API_URL ({exc})") from None
    print(f"signoff: Socket Mode; health check on :{settings.port}/healthz", file=out, flush=True)
    return handler.close


def reload_on_hangup(governance: GovernanceHolder) -> None:
    """``SIGHUP`` asks the reloader thread for a reload; the handler itself returns at once, so
    the serving thread it interrupts never waits for a file to load."""
    governance.start_reloader()
    signal.signal(signal.SIGHUP, lambda *_: governance.request_reload())


def worker(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    settings = _settings(args)
    required_secrets(settings, http=False)
    _log_setup(settings)
    app = LateApp()  # one health check fits both roles: a worker answers /healthz, /readyz, /metrics too
    server = bind_http(app, host=args.host, port=settings.port)
    with StopSignal() as stop, _closed_unless_served(server) as served:
        signoff = _start(err, settings, http=False)
        if signoff is None:
            return 1
        reload_on_hangup(signoff.governance)
        app.target = signoff.health_only()
        ops = f"/healthz /readyz /metrics on {args.host}:{settings.port}"
        print(f"signoff: worker running (outbox relay, sweeps); {ops}", file=out, flush=True)
        served.set()
        run_until_stopped(signoff, stop, server=server, worker=True)
    return 0


def digest(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    signoff = _start(err, _settings(args), http=False)
    if signoff is None:
        return 1
    try:
        if args.group is not None and args.group not in signoff.governance.current().groups:
            print(f"signoff digest: there is no group “{args.group}”", file=err)
            return 1
        report = send_digests_now(
            runtime=signoff.runtime,
            gateway=signoff.gateway,
            timezone_of=directory_timezones(signoff.runtime),
            group=args.group,
        )
        print(digest_summary(report), file=out)
        return 0 if not report.left else 1
    finally:
        signoff.engine.dispose()


def _log_setup(settings: Settings) -> None:
    configure_logging(level=settings.log_level, fmt=settings.log_format)
