"""Import past decisions (``signoff history import``, DESIGN §8): all or nothing, in one unit of work.

Rows are read and checked one at a time (``bot.domain.history.read_row``) and stored in batches:
each batch is a few statements whatever its size (requests, votes, audit events). Only the
current batch and the set of ids seen are held, so memory does not grow with the file's rows.

Imported requests keep their final state and have no clocks: no sweep, reconcile pass, digest
or escalation ever picks them up, and nothing is queued for Slack or webhooks. Each gets one
audit event ``imported`` (actor ``import``), chained like every other; an approved or rejected
one also gets the vote it stands for (voter ``decided_by``, at ``decided_at``), so that decisions
per approver read the same for imported and live requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.actors import IMPORT
from bot.domain.audit import Action, AuditEntry
from bot.domain.governance import Governance
from bot.domain.history import HistoryRow, RawRow, RowProblem, audit_data, imported_request, read_row, source_key
from bot.domain.history_files import FileInvalid
from bot.domain.json_values import JsonNumber, show_given
from bot.domain.requests import Request, Vote
from bot.domain.routing import Ballot
from bot.services.ports import UnitOfWork
from bot.services.runtime import Runtime

#: Rows stored per batch: each batch costs a few statements.
BATCH = 500


@dataclass(frozen=True)
class ImportReport:
    """What an import did. ``stored``: False when nothing was (an invalid row without ``skip_invalid``,
    or a file that cannot be read); then ``imported`` and ``skipped`` are 0."""

    imported: int
    skipped: int
    invalid: int
    problems: tuple[RowProblem, ...]
    stored: bool
    #: The file could not be read as a history file (a bad CSV header, CSV broken past some line).
    unreadable: bool = False
    #: The file holds no rows at all (empty, blank lines only, a CSV header alone): refused, as
    #: an empty export is more likely a mistake than history.
    empty: bool = False

    def summary(self) -> str:
        return f"imported {self.imported}, skipped {self.skipped} already present, {self.invalid} invalid"


class _Batch:
    """Valid rows waiting to be stored, and the counts so far."""

    def __init__(self, uow: UnitOfWork, governance: Governance, source: str, runtime: Runtime):
        self.uow, self.governance, self.source = uow, governance, source
        self.at = runtime.clock.now()
        self.rows: list[HistoryRow] = []
        self.imported = self.skipped = 0

    def add(self, row: HistoryRow) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        requests = [imported_request(self.governance, row) for row in self.rows]
        stored = self.uow.requests.add_imported(requests)
        votes: list[tuple[int, Vote]] = []
        entries: list[AuditEntry] = []
        for row, request in zip(self.rows, requests, strict=True):
            request_id = stored.get(row.source_id)
            if request_id is None:
                continue  # already present
            votes += _vote(request_id, row, request)
            data = audit_data(self.governance, row, source=self.source)
            entries.append(AuditEntry(request_id, self.at, IMPORT, str(Action.IMPORTED), data))
        self.uow.votes.add_many(votes)
        self.uow.audit.append_many(entries)
        self.imported += len(stored)
        self.skipped += len(self.rows) - len(stored)
        self.rows = []


def _vote(request_id: int, row: HistoryRow, request: Request) -> list[tuple[int, Vote]]:
    verdict = row.verdict
    if verdict is None or row.decided_by is None or row.decided_at is None:
        return []
    ballot = Ballot(row.decided_by, verdict, request.fields_hash)
    return [(request_id, Vote(ballot, row.decided_at, row.reason))]


def import_history(
    *, runtime: Runtime, rows: Iterable[RawRow | RowProblem], source: str, skip_invalid: bool = False
) -> ImportReport:
    """Check every row of ``rows`` against the governance in force, as of its own submission, and store them.

    ``source`` names the file in problems and audit events. Without ``skip_invalid`` any invalid
    row stores nothing (every row is still checked, so that every problem is listed); with it, the
    valid rows are stored. A source id seen twice in ``rows`` is a problem of the later row; one
    already stored is skipped (counted in ``skipped``). ``FileInvalid`` from ``rows`` stores nothing,
    nor does a file without a single row (``empty``).
    Everything is stored in one unit of work: a failure on the way stores nothing either.
    """
    governance = runtime.governance()
    now = runtime.clock.now()
    first_line: dict[str, int] = {}
    problems: list[RowProblem] = []
    invalid = seen = 0
    with runtime.uow() as uow:
        uow.audit.hold()  # first: an import waits for others' appends, never in the middle of its own inserts
        uow.governance_versions.ensure(governance.version, governance.source, now=now)
        batch = _Batch(uow, governance, source, runtime)
        try:
            for raw in rows:
                seen += 1
                found = _checked(governance, raw, now, first_line)
                if isinstance(found, HistoryRow):
                    if skip_invalid or not invalid:
                        batch.add(found)
                    continue
                problems += found
                invalid += 1
        except FileInvalid as exc:
            return ImportReport(0, 0, invalid, (*problems, *exc.problems), stored=False, unreadable=True)
        if not seen:
            return ImportReport(0, 0, 0, (), stored=False, empty=True)
        if invalid and not skip_invalid:
            return ImportReport(0, 0, invalid, tuple(problems), stored=False)  # rolled back on leaving
        batch.flush()
        uow.commit()
    return ImportReport(batch.imported, batch.skipped, invalid, tuple(problems), stored=True)


def _checked(
    governance: Governance, raw: RawRow | RowProblem, now: datetime, first_line: dict[str, int]
) -> HistoryRow | list[RowProblem]:
    """The row, or its problems; an id given on an earlier line (valid or not) is one of them."""
    if isinstance(raw, RowProblem):
        return [raw]
    found = read_row(governance, raw, now=now)
    problems = [] if isinstance(found, HistoryRow) else list(found)
    given = raw.columns.get("id")
    key = source_key(str(given)) if isinstance(given, str | JsonNumber) else ""
    if key:
        earlier = first_line.setdefault(key, raw.line)
        if earlier != raw.line:
            problems.append(RowProblem(raw.line, "id", f"{show_given(key)} is given again; first on line {earlier}"))
    return problems or found
