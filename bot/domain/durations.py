"""Durations as written in the governance file and in commands: ``90s``, ``15m``, ``8h``, ``14d``, ``2w``."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.domain.json_values import show_given

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: ASCII only: ``\d`` would also read other scripts' digits (``١h``, ``１h`` as 1h).
_DURATION = re.compile(r"\s*([0-9]+)\s*([smhdw])\s*", re.ASCII)

DURATION_HINT = "a duration such as 90s, 15m, 8h, 14d or 2w"
#: The longest duration (about 100 years). With dates bounded to 1900-2999 (``bot.domain.moments``),
#: any clock or offset computed from a duration stays far inside Python's calendar (years 1-9999).
MAX_DURATION = timedelta(days=36500)


def parse_duration(text: str) -> timedelta:
    """Parse one duration; raise ``ValueError`` naming the accepted forms otherwise."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"expected {DURATION_HINT}, got {show_given(text)}")
    digits, unit = match.group(1).lstrip("0"), match.group(2)
    if not digits:
        raise ValueError(f"a duration must be longer than zero, got {show_given(text)}")
    # More than 10 digits is beyond the limit in any unit (and never reaches int() or timedelta).
    if len(digits) > 10 or timedelta(seconds=int(digits) * _UNITS[unit]) > MAX_DURATION:
        raise ValueError(f"a duration is at most {MAX_DURATION.days}d (about 100 years), got {show_given(text)}")
    return timedelta(seconds=int(digits) * _UNITS[unit])


def format_duration(value: timedelta) -> str:
    """Render a duration in the largest unit that divides it exactly (``14d``, ``90s``)."""
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        size = _UNITS[unit]
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
