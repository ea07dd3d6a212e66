"""Answer Slack the moment a listener acknowledges, instead of at Bolt's next 10 ms poll.

Bolt's sync ``App`` (without ``process_before_response``) runs each listener on its executor
while the request thread polls ``ack.response`` every 10 ms, so even an answer ready in 2 ms
leaves after ~10 ms. ``PromptAckRunner`` runs listeners the same way (same executor, same
start / error / completion handlers, same 3 s acknowledgement timeout) but the request thread
waits on an event that ``ack()`` sets. Work done after ``ack()`` in a listener (a modal's
``views.open``) still runs after the answer is on its way (DESIGN §5).

The first answer a listener gives is the one Slack gets: a listener that raises after it
acknowledged does not take its acknowledgement back.

Until it acknowledges, a listener runs under an answer deadline (``bot.answer_deadline``): the
3 s timeout less ``ANSWER_MARGIN``, counted from when Bolt took the request. A unit of work
that would commit after it stores nothing and raises ``TooSlow``, which the listener answers.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.listener import Listener
from slack_bolt.listener.thread_runner import ThreadListenerRunner
from slack_bolt.logger.messages import warning_did_not_call_ack
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.answer_deadline import answer_deadline

#: Seconds kept, of Slack's 3 s, for answering after the use case commits (rendering, the HTTP write).
ANSWER_MARGIN = 0.5


class AnsweringAck(Ack):
    """An ``ack`` that wakes whoever waits for the answer; it keeps the first answer given."""

    def __init__(self) -> None:
        self.answered = threading.Event()
        self.first: BoltResponse | None = None
        self._response: BoltResponse | None = None
        super().__init__()  # type: ignore[no-untyped-call]

    @property
    def response(self) -> BoltResponse | None:
        return self._response

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        self._response = value
        if value is not None and self.first is None:
            self.first = value
            self.answered.set()


class PromptAckRunner(ThreadListenerRunner):
    """Bolt's thread runner, answering as soon as ``ack()`` is called (see the module docstring)."""

    @classmethod
    def replacing(cls, runner: ThreadListenerRunner) -> PromptAckRunner:
        return cls(
            logger=runner.logger,
            process_before_response=runner.process_before_response,
            listener_error_handler=runner.listener_error_handler,
            listener_start_handler=runner.listener_start_handler,
            listener_completion_handler=runner.listener_completion_handler,
            listener_executor=runner.listener_executor,
            lazy_listener_runner=runner.lazy_listener_runner,
        )

    def run(
        self,
        request: BoltRequest,
        response: BoltResponse,
        listener_name: str,
        listener: Listener,
        starting_time: float | None = None,
    ) -> BoltResponse | None:
        started = starting_time if starting_time is not None else time.time()
        if (
            self.process_before_response
            or response is not None  # a listener middleware's answer: Bolt's own path returns it
            or request.lazy_only
            or request.lazy_function_name
            or listener.lazy_functions
        ):
            return super().run(request, response, listener_name, listener, started)
        ack = AnsweringAck()
        request.context["ack"] = ack
        if listener.auto_acknowledgement:
            ack()  # events are acknowledged at once, as Bolt does
        due = started + listener.ack_timeout - ANSWER_MARGIN
        self.listener_executor.submit(self._run_listener, request, listener, ack, due)
        ack.answered.wait(max(0.0, listener.ack_timeout - (time.time() - started)))
        if ack.first is None:
            self.logger.warning(warning_did_not_call_ack(listener_name))
        return ack.first

    def _run_listener(self, request: BoltRequest, listener: Listener, ack: AnsweringAck, due: float) -> None:
        with answer_deadline(lambda: None if ack.first is not None else due - time.time()):
            self._run_acknowledging(request, listener, ack)

    def _run_acknowledging(self, request: BoltRequest, listener: Listener, ack: AnsweringAck) -> None:
        """Bolt's listener body for the non-FaaS mode, ending the wait when the listener returns."""
        response: Any = None
        try:
            self.listener_start_handler.handle(request=request, response=None)
            listener.run_ack_function(request=request, response=response)
        except Exception as error:
            if listener.auto_acknowledgement:
                self.listener_error_handler.handle(error=error, request=request, response=None)
            else:
                # The error handler fills in the answer, unless the listener had answered already.
                response = BoltResponse(status=500) if ack.first is None else None
                self.listener_error_handler.handle(error=error, request=request, response=response)
                ack.response = response
        finally:
            self.listener_completion_handler.handle(request=request, response=response)
            ack.answered.set()  # a listener that never acknowledged: stop waiting now, not in 3 s


def answer_promptly(app: App) -> None:
    """Make ``app`` answer each request the moment its listener calls ``ack()``.

    Keeps the runner's handlers, so it may be called before or after ``app.error``.
    """
    app._listener_runner = PromptAckRunner.replacing(app.listener_runner)
