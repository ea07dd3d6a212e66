"""The request and Slack user a piece of work is about, for the log records it writes (stdlib only).

``log_context`` binds ``request_id`` (``REQ-42``) and ``user_id`` (``U…``) for the code it wraps;
a context variable, so each thread and each Bolt listener sees its own. ``bot.logs`` puts them
on every record.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_CONTEXT: ContextVar[dict[str, str]] = ContextVar("signoff_log_context", default={})  # noqa: B039 (never mutated)


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Bind ``fields`` (e.g. ``request_id="REQ-42"``, ``user_id="U0SAM"``) to records logged inside."""
    token = _CONTEXT.set({**_CONTEXT.get(), **{k: v for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_context() -> dict[str, str]:
    """The fields bound here and now (a copy)."""
    return dict(_CONTEXT.get())
