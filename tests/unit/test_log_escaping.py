"""No control character from a payload reaches a log line raw (terminal escape injection), in text or JSON.

A signed user id ``U0SAM\\x1b[31mRED\\x00`` was written as-is into text logs. Every field and
the message are escaped: C0/C1 controls, DEL, lone surrogates, bidi and line separators.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.log_context import log_context
from bot.logs import configure_logging, escape_controls


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


ESCAPES = [
    # (case, raw, written)
    ("ESC and NUL", "U0SAM\x1b[31mRED\x00", "U0SAM\\x1b[31mRED\\x00"),
    ("newline, return, tab", "a\nb\rc\td", "a\\nb\\rc\\td"),
    ("bell and DEL", "\x07\x7f", "\\x07\\x7f"),
    ("a C1 control (CSI)", "\x9b31m", "\\x9b31m"),
    ("a lone surrogate", "U0\ud800", "U0\\ud800"),
    ("right-to-left override", "abc\u202edef", "abc\\u202edef"),
    ("line separator", "a\u2028b", "a\\u2028b"),
    ("plain text with accents", "Zoë Ünal – ok", "Zoë Ünal – ok"),
]


@pytest.mark.parametrize(("case", "raw", "written"), ESCAPES, ids=[c[0] for c in ESCAPES])
def test_control_characters_are_written_as_escapes(case: str, raw: str, written: str) -> None:
    assert escape_controls(raw) == written


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_control_character_in_a_bound_field_or_the_message_never_reaches_the_line(fmt: str) -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", fmt=fmt, stream=stream)  # type: ignore[arg-type]
    with log_context(user_id="U0SAM\x1b[31mRED\x00", request_id="REQ-\u202e1"):
        logging.getLogger("signoff.test").warning("ignored %s", "a click by U0\x1b]0;pwned\x07\ud800")
    line = stream.getvalue()
    assert line.count("\n") == 1 and line.endswith("\n")
    if fmt == "json":
        record = json.loads(line)
        assert record["user_id"] == "U0SAM\\x1b[31mRED\\x00"
        assert record["request_id"] == "REQ-\\u202e1"
        assert record["message"] == "ignored a click by U0\\x1b]0;pwned\\x07\\ud800"
    else:
        assert (
            "user_id=U0SAM\\x1b[31mRED\\x00 request_id=REQ-\\u202e1: ignored a click by U0\\x1b]0;pwned\\x07\\ud800"
            in line
        )
    assert not any(ch in line[:-1] for ch in "\x1b\x00\x07\u202e\ud800")
