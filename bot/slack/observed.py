"""Slack clients that report to operations: Web API errors, acknowledgement times, who is asking.

``ObservedWebClient`` reports every failed Web API call (by method and Slack's error) to a
hook, and raises as before. ``ObservedApp`` is a Bolt app that times each request from
receipt to acknowledgement and binds the Slack user to the log context while it is handled;
``ContextThreadPoolExecutor`` carries that context into Bolt's listener threads.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from bot.log_context import log_context

P = ParamSpec("P")
T = TypeVar("T")

#: ``(method, error)`` for a failed Web API call, e.g. ``("chat.postMessage", "channel_not_found")``.
ErrorHook = Callable[[str, str], None]
#: ``(request type, seconds)`` once a Slack request is acknowledged, e.g. ``("command", 0.004)``.
AckHook = Callable[[str, float], None]


class ObservedWebClient(WebClient):
    def __init__(self, *, on_error: ErrorHook | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._on_error = on_error

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            self._report(api_method, _slack_error(exc))
            raise
        except Exception as exc:  # timeouts, refused connections: counted by their kind, then raised
            self._report(api_method, exc.__class__.__name__)
            raise

    def _report(self, method: str, error: str) -> None:
        if self._on_error is not None:
            self._on_error(method, error)


def _slack_error(exc: SlackApiError) -> str:
    response = exc.response
    if response.status_code == 429:
        return "ratelimited"
    data = response.data if isinstance(response.data, dict) else {}
    return str(data.get("error") or f"http_{response.status_code}")


class ObservedApp(App):
    """A Bolt app that reports acknowledgement times and logs with the requesting user's id."""

    def __init__(self, *, on_ack: AckHook | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._on_ack = on_ack

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
        body = req.body if isinstance(req.body, dict) else {}
        with log_context(user_id=_user_of(body)):
            try:
                return super().dispatch(req)
            finally:
                if self._on_ack is not None:
                    self._on_ack(_type_of(body), time.perf_counter() - started)


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
    return str(kind) if kind in REQUEST_TYPES else "other"


def _user_of(body: dict[str, Any]) -> str | None:
    for candidate in (body.get("user_id"), body.get("user"), body.get("event", {}).get("user")):
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
