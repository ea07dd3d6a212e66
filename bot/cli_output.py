"""Files a command writes on request (``signoff simulate --per-request``, ``signoff report --output``).

A file named by an option is replaced only when the command succeeds: the text goes to a temporary
file beside it, renamed over it at the end (``Replacement.commit``), so a failed run (a bad
``--kind``, no database, a busy one) leaves an existing file as it was. Messages name the option.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Self, TextIO


def output_problem(option: str, value: str) -> str | None:
    """Why ``value`` of ``option`` cannot be written to, before anything runs (None: it may be).

    Refused: an empty value, an existing path that is not a regular file (a folder, a device),
    a path whose folder does not exist.
    """
    if not value.strip():
        return f"{option} needs a file name"
    path = Path(value)
    if path.exists() and not path.is_file():
        return f"{option}: cannot write {value}: it is not a regular file (a folder or a device)"
    folder = path.parent
    if not folder.is_dir():
        return f"{option}: cannot write {value}: there is no folder {folder}"
    return None


class Replacement:
    """A text file written beside ``path`` and renamed over it by ``commit``; otherwise removed.

    ``with Replacement(path) as stream: …; replacement.commit()``. Raises ``OSError`` when the
    temporary file cannot be made, written or renamed (``path`` is then untouched).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.stream: TextIO = self._temporary.open("w", encoding="utf-8")
        self._done = False

    def commit(self) -> None:
        """Flush the text to disk and put it in place of ``path`` (one rename: readers see the old
        file or the new one), keeping an existing file's mode."""
        self.stream.flush()
        os.fsync(self.stream.fileno())
        self.stream.close()
        if self.path.exists():
            os.chmod(self._temporary, self.path.stat().st_mode & 0o7777)
        os.replace(self._temporary, self.path)
        self._done = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._done:
            self.stream.close()
            self._temporary.unlink(missing_ok=True)


def write_replacing(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a ``Replacement`` (``OSError`` leaves ``path`` as it was)."""
    with Replacement(path) as replacement:
        replacement.stream.write(text)
        replacement.commit()
