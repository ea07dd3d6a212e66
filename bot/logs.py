"""Logging: one line per event, as text or JSON, with the request and Slack user it concerns.

Every record carries the fields ``bot.log_context.log_context`` bound where it was logged
(``request_id``, ``user_id``). Records never span lines: a traceback is one escaped text field, or
one JSON string. Anything that looks like a Slack token is masked before it is written, and so is
every query value of a link (``bot.domain.links.redact_url``).

No control character reaches a log raw, whatever a payload carried (an ESC in a user id would
drive the reader's terminal): in text, every C0/C1 control, DEL, lone surrogate and
bidirectional or line-separator format character is written as ``\\xNN`` / ``\\uNNNN``
(``\\n``, ``\\r``, ``\\t`` for those three), in the message and in every bound field alike;
in JSON the same characters are escaped in every string field, except newline and tab, which
JSON itself escapes (a traceback stays readable once decoded).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from types import TracebackType
from typing import Any, Literal, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from bot.domain.links import redact_links
from bot.log_context import current_context

#: Slack tokens (bot, user, app, refresh, config) wherever they would appear in a line.
_TOKEN = re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+")
#: Libraries whose DEBUG records carry request payloads (field values) and headers.
_CHATTY = ("slack_bolt", "slack_sdk", "urllib3", "waitress")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s"


#: What a log line never carries raw: C0 and C1 controls, DEL, lone surrogates, bidi and line separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def mask_secrets(text: str) -> str:
    """``text`` with Slack tokens masked and the query values and user info of every link redacted
    (``bot.domain.links.redact_links``: a webhook URL may carry a receiver's token)."""
    return redact_links(_TOKEN.sub(lambda match: f"{match.group(1)}-[redacted]", text))


def escape_controls(text: str, *, keep: str = "") -> str:
    """``text`` with each character of ``_CONTROL`` (but those in ``keep``) written as an escape: one safe line."""
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _escape(m.group()), text)


def _escape(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


class ContextFilter(logging.Filter):
    """Copies the bound fields onto each record (and a ``context`` suffix for the text format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        bound = current_context()
        for key, value in bound.items():
            setattr(record, key, value)
        record.context = "".join(f" {key}={value}" for key, value in bound.items())
        return True


def _one_line(text: str) -> str:
    return escape_controls(mask_secrets(text))


class TextFormatter(logging.Formatter):
    """The default format, kept to one line: newlines in messages and tracebacks are escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return _one_line(super().format(record))


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, bound context, ``exc_info``."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            datefmt="%Y-%m-%dT%H:%M:%S%z",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "context"],
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: _json_safe(value) for key, value in log_data.items()}


def _json_safe(value: Any) -> Any:
    return escape_controls(mask_secrets(value), keep="\n\t") if isinstance(value, str) else value


def configure_logging(*, level: str, fmt: Literal["text", "json"], stream: TextIO | None = None) -> logging.Handler:
    """Send every record to ``stream`` (stderr as it is at each write) in ``fmt``.

    Replaces the handler an earlier call installed, and no other. Returns the handler.
    """
    handler = logging.StreamHandler(stream) if stream is not None else _Stderr()
    handler.setFormatter(JsonLineFormatter() if fmt == "json" else TextFormatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter())
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    if level == "DEBUG":  # Signoff's own debug lines, not the libraries' payload dumps
        for name in _CHATTY:
            logging.getLogger(name).setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run is noise
    sys.excepthook = _log_uncaught
    threading.excepthook = lambda hook: _log_uncaught(hook.exc_type, hook.exc_value, hook.exc_traceback)
    return handler


def _log_uncaught(kind: type[BaseException], error: BaseException | None, tb: TracebackType | None) -> None:
    """An exception nothing caught is one record too, not a multi-line traceback on stderr."""
    if error is None or issubclass(kind, KeyboardInterrupt | SystemExit):
        return
    logging.getLogger("signoff").critical("uncaught %s", kind.__name__, exc_info=(kind, error, tb))


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is when a record is written (it may be replaced meanwhile)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


_HANDLER_NAME = "signoff"
