"""Reading a history file row by row (DESIGN §8): JSON Lines or CSV, streamed, each row with its line.

Both readers yield a ``RawRow`` per row or a ``RowProblem`` for a row that cannot be read at all
(``row: …``: not a JSON object, bytes that are not UTF-8, the wrong number of cells), and
hold nothing but the current row. A file whose CSV header is wrong, or whose CSV cannot be read
past some point, raises ``FileInvalid``: no row of it could be read as meant.

JSONL: one object per line, ``{"id": …, "kind": …, …, "fields": {…}}``; numbers are kept as
written (``bot.domain.json_values``), a key given twice is a problem; blank lines are skipped.
CSV: a header row naming ``id, kind, requester, submitted_at, outcome`` (required),
``decided_by, decided_at, reason`` (optional) and one column per field (named like the field,
of any kind in the governance file); an empty cell is a value not given.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Collection, Iterable, Iterator
from typing import TextIO

from bot.domain.history import COLUMNS, REQUIRED_COLUMNS, RawRow, RowProblem
from bot.domain.json_values import NotJsonNumber, RepeatedKey, json_type, read_json_document

FORMATS = ("jsonl", "csv")
#: The longest CSV cell read (Python's csv stops at 131,072 characters): far beyond any value a
#: field or reason takes, so that a long cell is refused by its column's own limit, with its line;
#: yet bounded, so that a quote never closed cannot read the rest of a huge file into one cell.
CELL_LIMIT = 16 * 1024 * 1024
#: File name endings and the format they mean.
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


class FileInvalid(ValueError):
    """The file cannot be read as a history file; ``problems`` say where and why."""

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        super().__init__("; ".join(f"line {p.line}: {p.field}: {p.message}" for p in problems))


#: What ``errors="surrogateescape"`` makes of a byte that is not UTF-8.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _not_utf8(text: str) -> bool:
    """Whether ``text`` holds bytes that were not UTF-8 (read with ``errors="surrogateescape"``)."""
    return _ESCAPED_BYTE.search(text) is not None


def jsonl_rows(lines: Iterable[str]) -> Iterator[RawRow | RowProblem]:
    """One ``RawRow`` (or a ``RowProblem``) per non-blank line of ``lines``, numbered from 1."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if _not_utf8(line):
            yield RowProblem(number, "row", "is not UTF-8 text")
            continue
        try:
            value = read_json_document(line)
        except RepeatedKey as exc:
            yield RowProblem(number, exc.path[:80], "is given twice in one object; give each key once")
            continue
        except json.JSONDecodeError as exc:
            yield RowProblem(number, "row", f"is not a JSON object: {_json_problem(line, exc)}")
            continue
        except RecursionError:
            yield RowProblem(number, "row", "is not a JSON object Signoff reads: it is nested too deeply")
            continue
        except (NotJsonNumber, ValueError) as exc:
            yield RowProblem(number, "row", f"is not a JSON object: {str(exc)[:120]}")
            continue
        if not isinstance(value, dict):
            yield RowProblem(number, "row", f"is a JSON {json_type(value)}; each line holds one JSON object")
            continue
        columns = {k: v for k, v in value.items() if k != "fields"}
        yield RawRow(number, columns, value.get("fields"), text=False)


#: What a JSON decoder's complaint means, in words that fit after "is not a JSON object: ".
_JSON_SAYS = {
    "Expecting property name enclosed in double quotes": "a key is not in double quotes",
    "Expecting ',' delimiter": "a comma is missing between two items",
    "Expecting ':' delimiter": "a colon is missing after a key",
    "Expecting value": "a value is missing or is not JSON (strings in double quotes; true, false, null)",
    "Unterminated string starting at": "a string is not closed",
    "Invalid control character at": "a string holds a raw control character (write it escaped, e.g. \\t)",
    "Invalid \\escape": "a string holds an escape JSON does not have",
    "Invalid \\uXXXX escape": "a string holds an escape JSON does not have",
    "Extra data": "something follows the object (one object per line)",
}


def _json_problem(line: str, exc: json.JSONDecodeError) -> str:
    """What is wrong with ``line`` as one JSON object, and at which character of the line (from 1)."""
    text = line.rstrip("\r\n")
    before = text[: exc.pos].rstrip()
    after = text[exc.pos :].lstrip()
    if before.endswith(",") and after[:1] in ("}", "]"):
        return f"a trailing comma before “{after[0]}” (at character {len(before)})"
    if exc.pos >= len(text.rstrip()) and text.lstrip().startswith(("{", "[")):
        return "the line ends before the object is closed; each object must be on one line, whole"
    said = _JSON_SAYS.get(exc.msg, exc.msg)
    return f"{said} (at character {exc.pos + 1})"


def csv_rows(stream: TextIO, field_names: Collection[str]) -> Iterator[RawRow | RowProblem]:
    """One ``RawRow`` (or a ``RowProblem``) per record after the header; ``FileInvalid`` for a bad header.

    ``stream`` is opened with ``newline=""`` (records may hold line breaks inside quotes);
    ``field_names`` are the fields of every kind in the governance file.
    """
    csv.field_size_limit(max(csv.field_size_limit(), CELL_LIMIT))  # a too long cell is its row's problem
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader, None)
        while header is not None and not "".join(header).strip():  # blank lines before the header
            header = next(reader, None)
    except csv.Error as exc:
        raise FileInvalid([RowProblem(reader.line_num or 1, "header", f"is not CSV ({exc})")]) from None
    if header is None:
        return  # an empty file: no rows (the import says so, as for an empty JSONL file)
    names = [name.strip() for name in header]
    _check_header(names, field_names, reader.line_num)
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader, None)
        except csv.Error as exc:
            problem = f"a cell is longer than {CELL_LIMIT:,} characters" if "field larger" in str(exc) else str(exc)
            said = f"is not CSV ({problem}); the rest of the file cannot be read"
            raise FileInvalid([RowProblem(line, "row", said)]) from None
        if record is None:
            return
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # a blank line
        if len(record) != len(names):
            yield RowProblem(line, "row", f"has {len(record)} cells; the header names {len(names)} columns")
        elif any(_not_utf8(cell) for cell in record):
            yield RowProblem(line, "row", "is not UTF-8 text")
        else:
            cells = dict(zip(names, record, strict=True))
            columns = {k: v for k, v in cells.items() if k in COLUMNS}
            fields = {k: v for k, v in cells.items() if k not in COLUMNS and v.strip()}
            yield RawRow(line, columns, fields, text=True)


def _named() -> str:
    return ", ".join(COLUMNS) + ", and one column per field"


def _check_header(names: list[str], field_names: Collection[str], line: int) -> None:
    problems: list[RowProblem] = []
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            where = "the last column" if position == len(names) else f"column {position}"
            said = f"{where} of {len(names)} has no name (a trailing or doubled comma?); every column needs one"
            problems.append(RowProblem(line, "header", said))
            continue
        if name in seen:
            problems.append(RowProblem(line, name, "is given twice in the header"))
        seen.add(name)
        if name not in COLUMNS and name not in field_names:
            known = ", ".join(sorted(field_names)) or "none"
            said = f"is not a column ({', '.join(COLUMNS)}) nor a field of any kind ({known})"
            problems.append(RowProblem(line, name, said))
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            problems.append(RowProblem(line, name, f"is a required column; the header lacks it ({_named()})"))
    if problems:
        raise FileInvalid(problems)


def format_of(name: str, explicit: str | None) -> str | None:
    """``explicit`` (``--format``), else the format the file name's ending means; None when neither says."""
    if explicit is not None:
        return explicit
    lowered = name.lower()
    return next((fmt for ending, fmt in EXTENSIONS.items() if lowered.endswith(ending)), None)
