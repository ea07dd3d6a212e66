"""The composition root: everything Signoff runs is built here from ``Settings``, nothing at import.

``build_signoff`` makes the engine, the runtime the use cases share, the Bolt app with its
listeners, and the outbox relay and scheduled sweeps. ``serve`` and ``worker`` in the CLI
start what they need of it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.error import URLError

from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt.error import BoltError
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from sqlalchemy import Engine

import handlers
from bot.domain.clock import Clock, SystemClock
from bot.domain.governance import ERROR, Governance, GovernanceInvalid
from bot.domain.outbox import Lane, OutboxItem
from bot.domain.webhook_subscriptions import removed_subscriptions
from bot.domain.webhooks import SecretInvalid
from bot.governance_file import load_governance_file
from bot.jobs import start_scheduler, wake
from bot.metrics import SignoffMetrics
from bot.ops_http import WsgiApp, by_prefix, ops_app
from bot.services.relay import record_unrecorded, relay_outbox
from bot.services.runtime import Runtime
from bot.services.webhooks import tell_of_removed_webhooks
from bot.settings import Settings, environment_value
from bot.slack.gateway import SlackGateway, make_web_client
from bot.slack.http_edge import SlackEdge
from bot.slack.observed import ContextThreadPoolExecutor, ObservedApp
from bot.slack.prompt_ack import answer_promptly
from bot.slack.startup import NotSlackWebApi, SlackRefusedToken, SlackUnreachable, check_slack
from bot.webhooks.sender import WebhookSender, check_secrets
from handlers.api_http import ApiEdge
from storage.engine import create_db_engine
from storage.health import ReadinessProbe, work_waiting
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger("signoff")

#: Bolt runs each listener on a pool; its default of 5 threads starves under a burst of clicks.
LISTENER_THREADS = 32
#: Every path under this goes to the HTTP API (``handlers.api_http``); nothing else does.
API_PREFIX = "/api/"
#: Requests larger than this are refused (413) before their body is read.
MAX_BODY_BYTES = 1024 * 1024
#: The longest a use case run for a Slack request waits for the database's locks, in seconds.
#: Slack gives up on an answer after 3 s; past this wait the person is told "busy, try again"
#: and nothing is stored, so what they are told is what happened. Workers keep the engine's wait.
INTERACTIVE_DB_WAIT_SECONDS = 2.0


class GovernanceHolder:
    """The governance in force; ``reload`` swaps it only for a file that loads without errors.

    ``SIGHUP`` calls ``request_reload``, which only sets a flag: loading a large file takes
    seconds, and the signal handler runs on the thread that serves HTTP. One reloader thread
    (``start_reloader``) loads the file, one load at a time; signals that arrive during a load
    are merged into one more load after it, so a burst of signals never queues loads up.
    """

    def __init__(self, path: Path):
        self.path = path
        self._current = load_governance_file(path)
        self._lock = threading.Lock()
        #: Held for the whole of a load: two loads never run at once, whoever asks.
        self._loading = threading.Lock()
        self._wanted = threading.Event()
        self._closing = False
        self._reloader: threading.Thread | None = None
        #: Called after each successful reload (the worker makes pending requests' cards follow).
        self.on_reload: list[Callable[[], None]] = []
        #: The governance the last successful reload replaced (for listeners that compare).
        self.replaced: Governance = self._current

    def current(self) -> Governance:
        return self._current

    def start_reloader(self) -> None:
        """Start the thread that serves ``request_reload`` (a daemon: it never holds up a stop)."""
        if self._reloader is None:
            self._reloader = threading.Thread(target=self._reload_when_asked, name="governance-reload", daemon=True)
            self._reloader.start()

    def request_reload(self) -> None:
        """Ask for a reload and return at once; safe in a signal handler (it only sets an event)."""
        self._wanted.set()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the reloader thread once a load in progress ends (at most ``timeout`` seconds)."""
        self._closing = True
        self._wanted.set()
        if self._reloader is not None:
            self._reloader.join(timeout)

    def _reload_when_asked(self) -> None:
        while True:
            self._wanted.wait()
            if self._closing:
                return
            self._wanted.clear()  # a signal from here on asks for one more load after this one
            self.reload()

    def reload(self) -> bool:
        """Load the file again and put it in force if it has no errors; never raises.

        Whatever the file is (invalid, hostile, or a failure nobody foresaw), the governance in
        force stays and the refusal is logged as one line. An exception escaping it would end
        the reloader thread, and with it every later reload.
        """
        with self._loading:
            kept = self._current.version[:12]
            try:
                fresh = load_governance_file(self.path)
            except GovernanceInvalid as exc:
                problems = [str(p) for p in exc.problems if p.severity == ERROR]
                log.error("governance reload refused, keeping %s: %s", kept, " | ".join(problems).replace("\n", " "))
                return False
            except Exception as exc:  # a failure of the reader itself must not end the reloads
                log.error("governance reload failed, keeping %s: %s: %s", kept, type(exc).__name__, exc)
                return False
            with self._lock:
                self.replaced, self._current = self._current, fresh
        log.info("governance %s loaded from %s", fresh.version[:12], self.path)
        for listener in self.on_reload:
            try:
                listener()
            except Exception as exc:  # the new governance is in force; the follow-up runs periodically too
                log.error("after the governance reload: %s: %s", type(exc).__name__, exc)
        return True


@dataclass
class Signoff:
    settings: Settings
    engine: Engine
    governance: GovernanceHolder
    runtime: Runtime
    bolt: ObservedApp
    gateway: SlackGateway
    metrics: SignoffMetrics = field(default_factory=SignoffMetrics)
    readiness: Callable[[], str | None] = lambda: None
    stopping: threading.Event = field(default_factory=threading.Event)
    scheduler: BackgroundScheduler | None = None
    workers: list[threading.Thread] = field(default_factory=list)
    #: The HTTP API under ``/api/v1/`` (``handlers.api_http``); None serves no API.
    api: WsgiApp | None = None
    #: Signs and POSTs webhook deliveries (DESIGN §9); None: webhook rows wait for a process that has one.
    webhooks: WebhookSender | None = None

    def wsgi(self) -> Any:
        """The HTTP app: Slack at ``/slack/events``, the API under ``/api/``, ``/healthz``, ``/readyz``, ``/metrics``.

        Slack's requests are authenticated on their raw bytes before anything parses them, and
        bodies over ``MAX_BODY_BYTES`` are refused (413) unread (``bot.slack.http_edge``). The
        API takes only bearer tokens (``handlers.api_http``): Slack's path never reaches it,
        and it never reaches Slack's.
        """
        secret = required_signing_secret(self.settings)
        slack = SlackEdge(self.bolt, signing_secret=secret, max_body=MAX_BODY_BYTES)
        return self.without_slack(fallback=slack)

    def without_slack(self, fallback: WsgiApp | None = None) -> WsgiApp:
        """The API under ``/api/`` and the operations paths (``serve`` in Socket Mode serves these)."""
        rest = by_prefix(API_PREFIX, self.api, fallback) if self.api is not None else fallback
        return self.health_only(fallback=rest)

    def health_only(self, fallback: WsgiApp | None = None) -> WsgiApp:
        """``/healthz``, ``/readyz`` and ``/metrics`` (Socket Mode and workers serve only these)."""
        return ops_app(readiness=self.readiness, metrics=self.metrics.exposition, fallback=fallback)

    def run_worker(self, *, relay_pause: float = 1.0) -> list[threading.Thread]:
        """Start the outbox relay threads and the scheduler (sweeps, digests) until ``stop``.

        One relay thread per lane (``bot.domain.outbox.Lane``): Slack's rows and webhook rows are
        claimed and delivered apart, so a slow webhook receiver never holds up a card.
        """
        relays = []
        for lane in Lane:
            relay = threading.Thread(
                target=self._relay_loop, args=(relay_pause, lane), name=f"signoff-relay-{lane}", daemon=True
            )
            relay.start()
            relays.append(relay)
        self.workers.extend(relays)
        self.scheduler = scheduler = start_scheduler(
            self.runtime,
            self.gateway,
            digest_seconds=self.settings.digest_check_seconds,
            retention_days=self.settings.retention_days,
        )
        self.governance.on_reload.append(lambda: wake(scheduler, self.runtime, self.gateway))
        return relays

    def stop(self, timeout: float = 10.0) -> None:
        """Take no more work and wait up to ``timeout`` s for the delivery in flight. Safe to call again."""
        self.stopping.set()
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)  # a sweep running now finishes on its own thread
        deadline = time.monotonic() + timeout
        for thread in self.workers:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in self.workers):
            log.warning("stopped with a delivery still in flight; its row is delivered after a restart")

    def _relay_loop(self, pause: float, lane: Lane) -> None:
        unrecorded: list[OutboxItem] = []  # accepted webhooks, recorded with the next claim (relay_outbox)
        while not self.stopping.is_set():
            try:
                backoff = timedelta(seconds=self.settings.retry_backoff_seconds)
                report = relay_outbox(
                    runtime=self.runtime,
                    gateway=self.gateway,
                    first_backoff=backoff,
                    webhooks=self.webhooks,
                    lane=lane,
                    unrecorded=unrecorded,
                )
            except Exception:  # the loop must outlive a database hiccup; the row stays due
                log.exception("outbox relay pass failed; retrying")
                report = None
            if report is None or not report.handled:
                self.stopping.wait(pause)
        try:
            record_unrecorded(self.runtime, unrecorded)
        except Exception:  # their leases lapse and they are POSTed again, with the same webhook-id
            log.exception("could not record %d delivered webhooks as sent", len(unrecorded))


class ConfigurationError(Exception):
    """Settings that cannot work; the message says which and how to fix it."""


def _check_slack(token: str, settings: Settings) -> None:
    """Ask Slack once at start (bounded, logged retry), so no listener meets an unreachable Slack first."""
    try:
        check_slack(token=token, base_url=settings.slack_api_url, within=settings.slack_startup_seconds)
    except SlackRefusedToken as exc:
        raise ConfigurationError(
            f"SLACK_BOT_TOKEN was refused by Slack ({exc}); it accepts this app's bot token (xoxb-…)"
        ) from None
    except NotSlackWebApi as exc:
        raise ConfigurationError(str(exc)) from None


class _TokenInClient(logging.Filter):
    """Bolt warns on every start that ``token`` (read from SLACK_BOT_TOKEN) is unused: it is in ``client``."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def _bolt(settings: Settings, client: WebClient, metrics: SignoffMetrics, *, http: bool) -> ObservedApp:
    """The Bolt app; Slack already answered ``auth.test`` (``_check_slack``), so Bolt asks once more here."""
    bolt_logger = logging.getLogger("slack_bolt.App")
    if not any(isinstance(f, _TokenInClient) for f in bolt_logger.filters):
        bolt_logger.addFilter(_TokenInClient())
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    try:
        bolt = ObservedApp(
            on_ack=metrics.acknowledged,
            signing_secret=secret,
            client=client,
            token_verification_enabled=True,  # the answer is kept: no request waits on auth.test
            request_verification_enabled=http,
            listener_executor=ContextThreadPoolExecutor(
                max_workers=LISTENER_THREADS, thread_name_prefix="signoff-listener"
            ),
        )
    except (BoltError, SlackClientError, URLError, OSError) as exc:
        raise SlackUnreachable(f"Slack did not answer auth.test at SIGNOFF_SLACK_API_URL ({exc})") from None
    answer_promptly(bolt)  # answer at ack(), not at Bolt's next 10 ms poll
    return bolt


def required_secrets(settings: Settings, *, http: bool) -> str:
    """The bot token, once the secrets a role needs are set; raises ``ConfigurationError`` naming the missing one.

    In HTTP mode every request's signature is verified, so the signing secret is required too.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    if not token or not token.strip():
        raise ConfigurationError("SLACK_BOT_TOKEN is required (xoxb-…)")
    if http:
        required_signing_secret(settings)
    return token


def required_signing_secret(settings: Settings) -> str:
    """The signing secret; ``ConfigurationError`` naming SLACK_SIGNING_SECRET when it is unset, empty or blank."""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    if not secret.strip():
        raise ConfigurationError(
            "SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)"
        )
    return secret


def required_webhook_secrets(governance: Governance) -> None:
    """Every webhook's ``secret_env`` holds a ``whsec_…`` secret; else ``ConfigurationError`` naming the variable.

    Checked when ``serve`` and ``worker`` start (``signoff check`` validates the file only).
    """
    try:
        check_secrets(governance.webhooks, environment_value)
    except SecretInvalid as exc:
        raise ConfigurationError(str(exc)) from None


def _warn_on_webhook_secrets(holder: GovernanceHolder) -> None:
    """After a reload: a new subscription without its secret is logged (its deliveries retry, then die)."""
    try:
        check_secrets(holder.current().webhooks, environment_value)
    except SecretInvalid as exc:
        log.error("webhooks: %s", exc)


def _tell_of_removed_webhooks(holder: GovernanceHolder, runtime: Runtime) -> None:
    """After a reload: deliveries queued for a subscription the file no longer declares are logged
    and its owner told once (``bot.services.webhooks.tell_of_removed_webhooks``)."""
    gone = removed_subscriptions(holder.replaced.webhooks, holder.current().webhooks)
    if gone:
        tell_of_removed_webhooks(
            uow=runtime.uow, removed=gone, governance=holder.current().version, now=runtime.clock.now()
        )


def build_signoff(
    settings: Settings, *, http: bool = True, clock: Clock | None = None, migrate: bool = True
) -> Signoff:
    """Build every part of Signoff from settings. Fails early, with a clear message, on bad config.

    In HTTP mode every request's signature is verified, so the signing secret is required.
    """
    token = required_secrets(settings, http=http)
    holder = GovernanceHolder(settings.config)
    required_webhook_secrets(holder.current())
    holder.on_reload.append(lambda: _warn_on_webhook_secrets(holder))
    engine = create_db_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    clock = clock or SystemClock()
    metrics = SignoffMetrics(  # a registry per app; every declared subscription is reported, 0 included
        lambda: work_waiting(engine, now=clock.now(), subscriptions=[s.id for s in holder.current().webhooks])
    )
    units = SqlUnitOfWorkFactory(engine, webhooks=lambda: holder.current().webhooks)
    runtime = Runtime(uow=units, governance=holder.current, clock=clock, observer=metrics)
    holder.on_reload.append(lambda: _tell_of_removed_webhooks(holder, runtime))
    client = make_web_client(token=token, base_url=settings.slack_api_url, on_error=metrics.slack_error)
    _check_slack(token, settings)
    bolt = _bolt(settings, client, metrics, http=http)
    interactive = replace(runtime, uow=units.bounded(INTERACTIVE_DB_WAIT_SECONDS))
    handlers.register(bolt, interactive)  # the bot token travels in `client`
    bolt.read_payload_errors_quietly()  # after handlers' App.error: Bolt's routing errors on odd payloads
    ready = ReadinessProbe(engine.url)  # None when the database answers and its migrations are current
    api = ApiEdge(interactive, max_body=MAX_BODY_BYTES)
    signoff = Signoff(settings, engine, holder, runtime, bolt, SlackGateway(client), metrics, ready, api=api)
    signoff.webhooks = WebhookSender(environment_value)
    return signoff
