"""Past decisions brought in from another system (``signoff history import``, DESIGN §8): one row each.

A row is read from a JSONL line (typed JSON: numbers as ``JsonNumber``, read as strictly as the
HTTP API reads them) or a CSV record (text cells, canonicalized as ``/request`` reads ``k=v``
text). ``read_row`` checks every column and the fields against the kind's data contract *as of
the row's submission* (a ``valid_until`` date is compared with the submission day) and returns
either a ``HistoryRow`` or every ``RowProblem`` found. Nothing is guessed: a time without a UTC
offset, an amount the field type refuses, an unknown column are problems, never repaired.

``imported_request`` turns a valid row into the ``Request`` storage keeps: its final state, no
clocks (nothing is ever re-evaluated, escalated, expired or lapsed), ``imported_id`` set. An
approved exception keeps when its validity ends in ``lapses_at``, for the report only (no sweep
reads an imported row's clocks).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bot.domain.actors import SYSTEM
from bot.domain.contracts import ContractError
from bot.domain.field_values import is_user_id
from bot.domain.fields import REASON_LIMIT
from bot.domain.governance import Governance, Kind, UnknownKind
from bot.domain.json_values import JsonNumber, json_type, show_given
from bot.domain.lapse import exception_lapse
from bot.domain.lifecycle import State
from bot.domain.moments import parse_datetime
from bot.domain.requests import Request, fields_to_json
from bot.domain.routing import Verdict
from bot.domain.text import hidden_character, normalize_text

#: The columns of a row besides its fields; the first five are required in every row.
REQUIRED_COLUMNS = ("id", "kind", "requester", "submitted_at", "outcome")
COLUMNS = (*REQUIRED_COLUMNS, "decided_by", "decided_at", "reason")
#: The longest source id ``requests.imported_id`` holds.
ID_LIMIT = 255
_OFFSET = re.compile(r"(?:[zZ]|[+-][0-9]{2}:[0-9]{2})$", re.ASCII)
#: An offset written in ISO 8601's other forms, ``+0100`` or ``+01``: there is one, in a form not read.
_OTHER_OFFSET = re.compile(r"[0-9][+-][0-9]{2}(?:[0-9]{2})?$", re.ASCII)
#: The date and time a history time starts with (its form; the offset follows).
_TIME_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}", re.ASCII)
_WHOLE = re.compile(r"[0-9]+", re.ASCII)
_EXAMPLE_TIME = "2026-03-04T10:00:00+01:00"


class Outcome(StrEnum):
    """How a past request ended."""

    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


_VERDICTS = {Outcome.APPROVED: Verdict.APPROVE, Outcome.REJECTED: Verdict.REJECT}


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with the row at ``line`` (the physical line in the file); ``field`` names the
    column or field (``row`` for the whole row, ``fields.<name>`` for a field of a JSONL row)."""

    line: int
    field: str
    message: str

    def located(self, source: str) -> str:
        """``FILE:LINE: field: message``."""
        return f"{source}:{self.line}: {self.field}: {self.message}"


@dataclass(frozen=True)
class RawRow:
    """A row as the file gave it: ``columns`` (id, kind, …) and ``fields`` (an object, unless the
    file says otherwise: a problem of the row); ``text`` for CSV cells."""

    line: int
    columns: Mapping[str, object]
    fields: object
    text: bool


@dataclass(frozen=True)
class HistoryRow:
    """A valid row: typed, its fields canonical (``fields_to_json``) per its kind's contract."""

    line: int
    source_id: str
    kind: Kind
    requester: str
    submitted_at: datetime
    outcome: Outcome
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    fields: dict[str, Any]

    @property
    def verdict(self) -> Verdict | None:
        """The vote an approval or rejection stands for; None for cancelled and expired."""
        return _VERDICTS.get(self.outcome)


class _Row:
    """Collects a row's problems while its columns are read one by one."""

    def __init__(self, raw: RawRow):
        self.raw = raw
        self.problems: list[RowProblem] = []

    def problem(self, field: str, message: str) -> None:
        self.problems.append(RowProblem(self.raw.line, field, message))

    def given(self, name: str) -> object | None:
        """The column's value, None when absent, null or blank."""
        value = self.raw.columns.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return value

    def text(self, name: str, *, required: bool) -> str | None:
        value = self.given(name)
        if value is None:
            if required:
                self.problem(name, "is required")
            return None
        if not isinstance(value, str):
            self.problem(name, f"expected text (a JSON string), got {_shown(value)}")
            return None
        return value.strip()


def read_row(governance: Governance, raw: RawRow, *, now: datetime) -> HistoryRow | list[RowProblem]:
    """The row, typed and checked, or every problem with it (a list, never empty).

    ``now`` bounds the times: history cannot be submitted or decided in the future.
    """
    row = _Row(raw)
    unknown = sorted(k for k in raw.columns if k not in COLUMNS)
    for name in unknown:
        row.problem(name, f"is not a column of a history row (columns: {', '.join(COLUMNS)}, fields)")
    source_id = _source_id(row)
    kind = _kind(row, governance)
    requester = _user(row, "requester", required=True)
    submitted_at = _moment(row, "submitted_at", required=True, now=now)
    outcome = _outcome(row)
    decided_by = _user(row, "decided_by", required=outcome not in (None, Outcome.EXPIRED))
    if outcome is Outcome.EXPIRED and decided_by is not None:
        row.problem("decided_by", "must be empty for an expired request (nobody decided it)")
    decided_at = _moment(row, "decided_at", required=outcome not in (None, Outcome.EXPIRED), now=now)
    if decided_at is not None and submitted_at is not None and decided_at < submitted_at:
        decided, submitted = row.given("decided_at"), row.given("submitted_at")
        row.problem("decided_at", f"{str(decided).strip()} is before submitted_at {str(submitted).strip()}")
    reason = _reason(row)
    fields = _fields(row, governance, kind, submitted_at)
    if row.problems or kind is None or source_id is None or requester is None or submitted_at is None:
        return row.problems
    if outcome is None or fields is None:
        return row.problems
    return HistoryRow(
        raw.line, source_id, kind, requester, submitted_at, outcome, decided_by, decided_at, reason, fields
    )


def _shown(value: object) -> str:
    return show_given(value)  # a JSON number as written, text quoted, other JSON types named


def _source_id(row: _Row) -> str | None:
    value = row.given("id")
    if isinstance(value, JsonNumber) and _WHOLE.fullmatch(value.text):
        value = value.text  # a whole number written in digits is its own text: 1042 is "1042"
    if value is None:
        row.problem("id", "is required (the request's id in the system it comes from)")
        return None
    if not isinstance(value, str):
        said = "text, or a whole number of 0 or more written in digits 0-9"
        row.problem("id", f"expected {said}, got {_shown(value)}")
        return None
    text = source_key(value)  # otherwise kept as the source system wrote it: ids are compared, never read
    hidden = hidden_character(text)
    if hidden is not None:
        said = "which an id may not hold (control, invisible and bidi characters look alike or reorder)"
        row.problem("id", f"contains {hidden}, {said}")
        return None
    if len(text) > ID_LIMIT:
        row.problem("id", f"must be at most {ID_LIMIT} characters (got {len(text)})")
        return None
    return text


def source_key(given: str) -> str:
    """A source id as compared and stored: the ends stripped, in Unicode NFC, so that a composed
    and a decomposed ``é`` are one id (nothing else is changed)."""
    return unicodedata.normalize("NFC", given.strip())


def _kind(row: _Row, governance: Governance) -> Kind | None:
    name = row.text("kind", required=True)
    if name is None:
        return None
    try:
        return governance.kind(name)
    except UnknownKind as exc:
        known = ", ".join(exc.known)
        row.problem("kind", f"there is no kind {show_given(name)} in the governance file (kinds: {known})")
        return None


def _user(row: _Row, name: str, *, required: bool) -> str | None:
    value = row.text(name, required=required)
    if value is None:
        return None
    if not is_user_id(value):
        row.problem(name, f"expected a Slack user id such as U012AB3CD, got {show_given(value)}")
        return None
    return value


def _moment(row: _Row, name: str, *, required: bool, now: datetime) -> datetime | None:
    value = row.text(name, required=required)
    if value is None:
        return None
    shown = show_given(value)
    if _OTHER_OFFSET.search(value):
        row.problem(name, f"{shown}: write the UTC offset as ±HH:MM (and the date as YYYY-MM-DD), e.g. {_EXAMPLE_TIME}")
        return None
    if not _OFFSET.search(value):
        row.problem(name, f"{shown} has no UTC offset; write one, e.g. {_EXAMPLE_TIME} (never guessed)")
        return None
    if not _TIME_FORM.match(value):
        row.problem(name, f"expected a date and time with a UTC offset, e.g. {_EXAMPLE_TIME}, got {shown}")
        return None
    try:
        moment = parse_datetime(value, UTC).astimezone(UTC)  # the offset is given: no zone is assumed
    except ValueError as exc:  # the form is right: a value out of the calendar or of range, said as such
        row.problem(name, str(exc))
        return None
    if moment > now:
        row.problem(name, f"is in the future ({value}); history has already happened")
        return None
    return moment


def _outcome(row: _Row) -> Outcome | None:
    value = row.text("outcome", required=True)
    if value is None:
        return None
    try:
        return Outcome(value.lower())
    except ValueError:
        row.problem("outcome", f"expected one of {', '.join(Outcome)}, got {show_given(value)}")
        return None


def _reason(row: _Row) -> str | None:
    value = row.text("reason", required=False)
    if value is None:
        return None
    try:
        text = normalize_text(value, multiline=True)
    except ValueError as exc:
        row.problem("reason", str(exc))
        return None
    if len(text) > REASON_LIMIT:
        row.problem("reason", f"must be at most {REASON_LIMIT} characters (got {len(text)})")
        return None
    return text or None


def _fields(row: _Row, governance: Governance, kind: Kind | None, at: datetime | None) -> dict[str, Any] | None:
    """The row's fields per its kind's contract as of ``at`` (its submission); None when they are not valid."""
    prefix = "" if row.raw.text else "fields."
    given = {} if row.raw.fields is None else row.raw.fields
    if not isinstance(given, dict):
        row.problem("fields", f"expected an object of field values, got a JSON {json_type(given)}")
        return None
    if kind is None:
        return None  # which contract is unknown: the row's other problems say why
    raw: Mapping[str, object] = given
    if row.raw.text:  # CSV cells are text, as a slash command's values are: decoded the same way
        raw = kind.contract.decode_slash_pairs({str(k): str(v) for k, v in given.items()})
    try:
        # as of its submission; when that is not known, the contract alone (the row is invalid anyway)
        if at is None:
            values = kind.contract.validate(raw)
        else:
            values = governance.validate_fields(kind, raw, at=at, submitted=True)
    except ContractError as exc:
        for problem in exc.problems:
            row.problem(f"{prefix}{problem.field}" if problem.field else "fields", problem.message)
        return None
    return fields_to_json(values)


def imported_request(governance: Governance, row: HistoryRow) -> Request:
    """The ``Request`` storage keeps for ``row``: its final state, no clocks, marked as imported.

    An approved exception's ``lapses_at`` is when its validity ends (``exception_lapse``), which
    only the report reads; ``lapse_warn_at`` stays empty.

    An expired request is closed by ``system``, as a live expiry is; a decided one by ``decided_by``.
    """
    closed_by = SYSTEM if row.outcome is Outcome.EXPIRED else row.decided_by
    last = row.decided_at or row.submitted_at
    request = Request(
        kind=row.kind.name,
        category=row.kind.category,
        fields=row.fields,
        requester=row.requester,
        state=State(str(row.outcome)),
        governance=governance.version,
        created_at=row.submitted_at,
        updated_at=last,
        decided_at=row.decided_at,
        decided_by=closed_by,
        decision_note=row.reason,
        imported_id=row.source_id,
    )
    if row.outcome is Outcome.APPROVED and row.decided_at is not None:
        # When its validity ends (as a live approval's would): the report counts it as lapsed
        # from then on (DESIGN §8). The state stays approved, and no sweep reads an imported row.
        lapse = exception_lapse(governance, row.kind, request, row.decided_at)
        request.lapses_at = lapse[0] if lapse is not None else None
    return request


def audit_data(governance: Governance, row: HistoryRow, *, source: str) -> dict[str, Any]:
    """What the ``imported`` audit event records: enough for an auditor to trace the row to its source."""
    return {
        "via": "import",  # where the request came from, as the HTTP API shows it (``api:<client>`` for its own)
        "source_id": row.source_id,
        "source": source,
        "line": row.line,
        "kind": row.kind.name,
        "requester": row.requester,
        "outcome": str(row.outcome),
        "submitted_at": row.submitted_at.isoformat(),
        "decided_by": row.decided_by,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "reason": row.reason,
        "fields": row.fields,
        "governance": governance.version,
    }
