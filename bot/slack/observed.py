"""Slack clients that report to operations: Web API errors, acknowledgement times, who is asking.

``ObservedWebClient`` reports every failed Web API call (by method and Slack's error) to a
hook, and raises as before. ``ObservedApp`` is a Bolt app that times each request from
receipt to acknowledgement and binds the Slack user to the log context while it is handled;
``ContextThreadPoolExecutor`` carries that context into Bolt's listener threads.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from slack_bolt import App, BoltContext
from slack_bolt.middleware.middleware_error_handler import MiddlewareErrorHandler
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from bot.log_context import log_context

log = logging.getLogger("signoff.http")

P = ParamSpec("P")
T = TypeVar("T")

#: ``(method, error)`` for a failed Web API call, e.g. ``("chat.postMessage", "channel_not_found")``.
ErrorHook = Callable[[str, str], None]
#: ``(request type, seconds)`` once a Slack request is acknowledged, e.g. ``("command", 0.004)``.
AckHook = Callable[[str, float], None]


#: How the SDK logs a call that did not get through (at ERROR, on every attempt, retried or not).
_SDK_TRANSPORT_FAILURE = "Failed to send a request to Slack API server"


class _ReportedByCaller(logging.Filter):
    """The SDK's ERROR for a call that did not get through, made DEBUG: an ``ObservedWebClient``
    reports that failure to its hook and raises it, and whoever called logs it once, saying what
    it was doing (a timeout per keystroke of a form would otherwise be an ERROR line each)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.getMessage().startswith(_SDK_TRANSPORT_FAILURE):
            record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return True


#: The SDK's log, for every ``ObservedWebClient`` (``logger=`` replaces it).
sdk_log = logging.getLogger("signoff.slack.sdk")
sdk_log.addFilter(_ReportedByCaller())


class ObservedWebClient(WebClient):
    def __init__(self, *, on_error: ErrorHook | None = None, **kwargs: Any):
        kwargs.setdefault("logger", sdk_log)
        super().__init__(**kwargs)
        self._on_error = on_error

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        try:
            return super().api_call(api_method, **kwargs)
        except Exception as exc:  # Slack's refusals by their code; timeouts, refused connections by their kind
            self._report(api_method, error_code(exc))
            raise

    def _report(self, method: str, error: str) -> None:
        if self._on_error is not None:
            self._on_error(method, error)


def error_code(exc: Exception) -> str:
    """What a failed Web API call is counted (and logged) as: Slack's error code (``ratelimited``
    for an HTTP 429, ``http_503`` for a 5xx without one), else the exception's class
    (``TimeoutError``, ``URLError``)."""
    if not isinstance(exc, SlackApiError):
        return exc.__class__.__name__
    response = exc.response
    if response.status_code == 429:
        return "ratelimited"
    data = response.data if isinstance(response.data, dict) else {}
    return str(data.get("error") or f"http_{response.status_code}")


class ObservedApp(App):
    """A Bolt app that reports acknowledgement times and logs with the requesting user's id.

    Bolt gives each request's listeners a new plain ``WebClient`` made from the app's; when the
    app's client is an ``ObservedWebClient``, a middleware swaps in an observed one with the same
    settings and hook, so a listener's failed calls are reported like every other."""

    def __init__(self, *, on_ack: AckHook | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._on_ack = on_ack
        hook = self._client._on_error if isinstance(self._client, ObservedWebClient) else None
        if hook is not None:
            self.use(_observing(hook))

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
        body = req.body if isinstance(req.body, dict) else {}
        with log_context(user_id=_user_of(body)):
            try:
                return super().dispatch(req)
            finally:
                if self._on_ack is not None:
                    self._on_ack(_type_of(body), time.perf_counter() - started)

    def _handle_unmatched_requests(self, req: BoltRequest, resp: BoltResponse) -> BoltResponse:
        """No listener for it (an event not subscribed to, a form or button of another version): 200, ignored.

        Bolt answers 404 and logs the code of a listener to write; Slack shows the person an error
        for a 404 and retries events, so the delivery is acknowledged and logged in one line.
        """
        body = req.body if isinstance(req.body, dict) else {}
        log.info("ignored a Slack %s no listener handles", describe_request(body))
        return BoltResponse(status=200, body="")

    def read_payload_errors_quietly(self) -> None:
        """Route errors Bolt raises while routing a signed payload it cannot read (see ``UnreadablePayload``).

        Call after ``App.error``, which sets the same handler for listeners and Bolt's own routing.
        """
        self._middleware_error_handler = UnreadablePayload(self._middleware_error_handler)


def _observing(hook: ErrorHook) -> Callable[..., BoltResponse]:
    """A Bolt middleware (Bolt injects ``context`` and ``next`` by name): the request's client, as
    an ``ObservedWebClient`` reporting to ``hook``."""

    def observe_client(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        given = context.client
        context["client"] = ObservedWebClient(
            on_error=hook,
            token=given.token,
            base_url=given.base_url,
            timeout=given.timeout,
            ssl=given.ssl,
            proxy=given.proxy,
            headers=given.headers,
            team_id=context.team_id,
            logger=given.logger,
            retry_handlers=given.retry_handlers,
        )
        return next()

    return observe_client


#: What Bolt's routing raises on a payload of an unexpected shape (``body["view"]["callback_id"]`` …).
SHAPE_ERRORS = (KeyError, IndexError, TypeError, AttributeError, ValueError)


class UnreadablePayload(MiddlewareErrorHandler):
    """A signed payload Bolt's routing could not read (``actions: []``, a view without a callback id …).

    Slack never sends one; answering 500 would show the person an error and log a traceback for
    it. It is acknowledged (200, empty) and logged in one line. Any other error goes to ``fallback``.
    """

    def __init__(self, fallback: MiddlewareErrorHandler):
        self.fallback = fallback

    def handle(self, error: Exception, request: BoltRequest, response: BoltResponse | None) -> None:
        if not isinstance(error, SHAPE_ERRORS):
            self.fallback.handle(error=error, request=request, response=response)
            return
        body = request.body if isinstance(request.body, dict) else {}
        log.warning(
            "ignored a signed Slack %s Signoff cannot read (%s: %s)",
            describe_request(body),
            error.__class__.__name__,
            str(error)[:200],
        )
        if response is not None:
            response.status, response.body, response.headers = 200, "", {}


def describe_request(body: dict[str, Any]) -> str:
    """``/request command``, ``block_actions``, ``event app_home_opened`` … for log lines (never the payload)."""
    command, kind, event = body.get("command"), body.get("type"), body.get("event")
    if isinstance(command, str) and command:
        return f"{_short(command)} command"
    if kind == "event_callback" and isinstance(event, dict):
        return f"event {_short(event.get('type'))}"
    return _short(kind) if isinstance(kind, str) and kind else "request"


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 and text.isprintable() else repr(text[:40])


#: Request types reported as themselves; anything else (say, from an unsigned request) is "other".
REQUEST_TYPES = frozenset(
    {"block_actions", "view_submission", "view_closed", "shortcut", "message_action", "block_suggestion"}
)


def _type_of(body: dict[str, Any]) -> str:
    if body.get("command"):
        return "command"
    kind = body.get("type")
    if kind == "event_callback":
        return "event"
    return kind if isinstance(kind, str) and kind in REQUEST_TYPES else "other"


def _user_of(body: dict[str, Any]) -> str | None:
    event = body.get("event")
    for candidate in (body.get("user_id"), body.get("user"), event.get("user") if isinstance(event, dict) else None):
        if isinstance(candidate, dict):
            candidate = candidate.get("id")
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """Runs each task in a copy of the submitter's context (log context included)."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        context = contextvars.copy_context()

        def run() -> T:
            return context.run(fn, *args, **kwargs)

        return super().submit(run)
