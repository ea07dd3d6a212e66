"""When the answer to the person is due: a deadline bound for the work done before an acknowledgement (stdlib only).

Slack waits 3 s for an acknowledgement. ``bot.slack.prompt_ack`` binds, for each listener,
how many seconds remain before its answer is due (None once it has answered); a unit of work
started or committed in that listener reads it (``storage.uow``): past the deadline it stores
nothing and raises ``TooSlow``, so that what is stored always matches what the person is told.
A context variable, like ``bot.log_context``: each listener thread sees its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Remaining = Callable[[], float | None]

_REMAINING: ContextVar[Remaining | None] = ContextVar("signoff_answer_deadline", default=None)


@contextmanager
def answer_deadline(remaining: Remaining) -> Iterator[None]:
    """Bind ``remaining`` (seconds left before the answer is due; None when no answer waits) for the code inside."""
    token = _REMAINING.set(remaining)
    try:
        yield
    finally:
        _REMAINING.reset(token)


def seconds_left() -> float | None:
    """Seconds left before the pending answer is due (negative: overdue); None when no answer waits here."""
    remaining = _REMAINING.get()
    return None if remaining is None else remaining()
