"""``signoff history import`` as an operator runs it: located problems, exit codes, all or nothing."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from bot.cli import main
from storage.records import AuditEventRecord, OutboxRecord, RequestRecord, VoteRecord
from tests.conftest import DESIGN_EXAMPLE
from tests.history_quarter import COLUMNS, FIELDS, quarter_rows, write_jsonl, write_quarter

GOOD: dict[str, Any] = {
    "id": "OLD-1",
    "kind": "discount",
    "requester": "U0REQ01",
    "submitted_at": "2025-10-01T10:00:00+02:00",
    "outcome": "approved",
    "decided_by": "U0FIN1",
    "decided_at": "2025-10-01T12:00:00+02:00",
    "reason": None,
    "fields": {"account": "Acme", "amount_pct": 5, "region": "emea"},
}
BRAND = {
    "kind": "brand-exception",
    "fields": {"asset": "https://a.io/x.png", "guideline": "logo", "until": "2025-10-09"},
}


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    url = f"sqlite:///{tmp_path / 'signoff.db'}"
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", url)
    monkeypatch.setenv("SIGNOFF_CONFIG", str(DESIGN_EXAMPLE))
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    return url


#: A log record, printed when an earlier test in the process configured logging (alembic says hello).
LOG_RECORD = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:,]+ [A-Z]+ ")


def history(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    code = main(["history", "import", *args])
    captured = capsys.readouterr()
    return code, captured.out, [line for line in captured.err.splitlines() if not LOG_RECORD.match(line)]


def counts(url: str) -> tuple[int, ...]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = tuple(
            int(connection.execute(select(func.count()).select_from(r)).scalar_one())
            for r in (RequestRecord, VoteRecord, AuditEventRecord, OutboxRecord)
        )
    engine.dispose()
    return found


def row(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def as_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*COLUMNS, *FIELDS])
    for r in rows:
        cells = [r.get(c) for c in COLUMNS] + [r["fields"].get(f) for f in FIELDS]
        writer.writerow(["" if c is None else str(c) for c in cells])
    return out.getvalue()


JSONL_CASES = [
    (row(kind="nope"), "kind", "there is no kind “nope” in the governance file (kinds: brand-exception, discount)"),
    (row(fields={"amount_pct": 5, "region": "emea"}), "fields.account", "is required (text, up to 80 characters)"),
    (row(fields={**GOOD["fields"], "amount_pct": "lots"}), "fields.amount_pct", "expected a percentage from 0 to 100"),
    (row(fields={**GOOD["fields"], "region": 3}), "fields.region", "expected one of emea, amer, apac; got 3"),
    (
        row(id="B-1", submitted_at="2025-10-10T10:00:00+02:00", **BRAND),
        "fields.until",
        "2025-10-09 is before the day it was submitted, 2025-10-10 (Europe/Berlin); it must be on or after that day",
    ),
    (row(outcome="done"), "outcome", "expected one of approved, rejected, cancelled, expired, got “done”"),
    (
        row(decided_at="2025-10-01T09:00:00+02:00"),
        "decided_at",
        "2025-10-01T09:00:00+02:00 is before submitted_at 2025-10-01T10:00:00+02:00",
    ),
    (row(submitted_at="2025-10-01T10:00:00+25:00"), "submitted_at", "expected a UTC offset from -14:00 to +14:00"),
    (row(submitted_at="2025-10-01T10:00:00-14:30"), "submitted_at", "expected a UTC offset from -14:00 to +14:00"),
    (
        row(submitted_at="2025-10-01T10:00:00+0200"),
        "submitted_at",
        "“2025-10-01T10:00:00+0200”: write the UTC offset as ±HH:MM",
    ),
    (
        row(submitted_at="2025-10-01T10:00:00+02"),
        "submitted_at",
        "“2025-10-01T10:00:00+02”: write the UTC offset as ±HH:MM",
    ),
    (
        row(submitted_at="20251001T100000+0200"),
        "submitted_at",
        "“20251001T100000+0200”: write the UTC offset as ±HH:MM",
    ),
    (
        row(submitted_at="2025-02-30T10:00:00+01:00"),
        "submitted_at",
        "“2025-02-30T10:00:00+01:00” is not a time of the calendar (no such",
    ),
    (row(submitted_at="10:00 2025-10-01+01:00"), "submitted_at", "expected a date and time with a UTC offset, e.g."),
    (row(requester="sam"), "requester", "expected a Slack user id such as U012AB3CD, got “sam”"),
    (row(decided_by="finance"), "decided_by", "expected a Slack user id such as U012AB3CD, got “finance”"),
    (row(decided_by=None), "decided_by", "is required"),
    (row(outcome="expired"), "decided_by", "must be empty for an expired request (nobody decided it)"),
    (row(submitted_at="2025-10-01T10:00:00"), "submitted_at", "“2025-10-01T10:00:00” has no UTC offset"),
    (row(submitted_at="2999-10-01T10:00:00Z"), "submitted_at", "is in the future"),
    (row(colour="red"), "colour", "is not a column of a history row"),
    (row(fields=[1]), "fields", "expected an object of field values, got a JSON array"),
]


@pytest.mark.parametrize(("bad", "field", "message"), JSONL_CASES, ids=[c[1] + ":" + c[2][:20] for c in JSONL_CASES])
def test_each_invalid_jsonl_row_is_located_and_nothing_is_stored(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: dict[str, Any], field: str, message: str
) -> None:
    path = tmp_path / "old.jsonl"
    write_jsonl(path, [row(id="OK-1"), row(id="OK-2"), {**bad, "id": bad["id"] + "-bad"}])

    code, out, err = history(capsys, str(path))

    assert code == 1 and out == "imported 0, skipped 0 already present, 1 invalid\n"  # the summary, refused too
    assert any(line.startswith(f"{path}:3: {field}: {message}") for line in err), err
    assert err[-1].endswith(
        "1 invalid row in " + str(path) + "; nothing was imported (--skip-invalid imports the valid rows)"
    )
    assert counts(database) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("line", "located"),
    [
        ('"fields": {"account": "Acme", "region": "emea", "amount_pct": 5, "account": ""}', "fields.account"),
        ('"fields": {"account": "Acme", "region": "emea", "region": "apac", "amount_pct": 5}', "fields.region"),
        ('"fields": {"account": "Acme", "region": "emea", "amount_pct": 5}, "id": "again"', "id"),
    ],
)
def test_a_key_given_twice_is_located_by_its_path(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, located: str
) -> None:
    head = json.dumps({k: v for k, v in row().items() if k != "fields"})[:-1]
    path = tmp_path / "twice.jsonl"
    path.write_text(f"{head}, {line}}}\n", encoding="utf-8")

    code, _, err = history(capsys, str(path))

    assert code == 1
    assert err[0] == f"{path}:1: {located}: is given twice in one object; give each key once"


def test_whole_row_problems_and_duplicates_name_their_lines(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.ndjson"
    good = json.dumps(row())
    path.write_text(f"{good}\n\nnot json\n[1]\n{good}\n", encoding="utf-8")

    code, _, err = history(capsys, str(path))

    assert code == 1
    assert err[:3] == [
        f"{path}:3: row: is not a JSON object: a value is missing or is not JSON (strings in double quotes;"
        " true, false, null) (at character 1)",
        f"{path}:4: row: is a JSON array; each line holds one JSON object",
        f"{path}:5: id: “OLD-1” is given again; first on line 1",
    ]


def test_csv_cells_are_read_as_the_slash_command_reads_text(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.csv"
    multiline = row(id="ML-1", fields={**GOOD["fields"], "justification": "two\nlines"})
    ambiguous = row(id="AM-1", fields={**GOOD["fields"], "deal_value": "1.500"})
    mention = row(id="MT-1", requester="<@U0REQ02|kim>")  # the requester column takes an id, nothing else
    other_kind = row(id="OK-9", fields={**GOOD["fields"], "until": "2025-12-01"})
    path.write_text(as_csv([row(), multiline, ambiguous, mention, other_kind]), encoding="utf-8")

    code, _, err = history(capsys, str(path))

    assert code == 1
    assert err[:3] == [
        f"{path}:5: deal_value: “1.500” is ambiguous: write 1.5 or 1500",
        f"{path}:6: requester: expected a Slack user id such as U012AB3CD, got “<@U0REQ02|kim>”",
        f"{path}:7: until: is not a field of discount (its fields: account, amount_pct, deal_value, region, justification)",
    ]


def test_an_unknown_csv_column_refuses_the_file(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.csv"
    path.write_text(as_csv([row()]).replace("until", "colour"), encoding="utf-8")

    code, _, err = history(capsys, "--skip-invalid", str(path))

    assert code == 1
    assert err[0].startswith(f"{path}:1: colour: is not a column (id, kind, requester")
    assert err[-1] == f"signoff history import: {path} cannot be read as a history file; nothing was imported"
    assert counts(database) == (0, 0, 0, 0)


def test_a_csv_header_with_a_trailing_comma_names_the_empty_column(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.csv"
    text = as_csv([row()])
    header, rest = text.split("\n", 1)
    path.write_text(header + ",\n" + rest, encoding="utf-8")
    columns = header.count(",") + 2

    code, _, err = history(capsys, str(path))

    assert code == 1
    said = f"{path}:1: header: the last column of {columns} has no name (a trailing or doubled comma?)"
    assert err[0].startswith(said)
    assert counts(database) == (0, 0, 0, 0)


def test_skip_invalid_imports_the_rest_and_exits_0(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.jsonl"
    write_jsonl(path, [row(id="A"), row(id="B", outcome="maybe"), row(id="C", outcome="expired", decided_by=None)])

    code, out, err = history(capsys, "--skip-invalid", str(path))

    assert (code, out) == (0, "imported 2, skipped 0 already present, 1 invalid\n")
    assert err == [f"{path}:2: outcome: expected one of approved, rejected, cancelled, expired, got “maybe”"]
    assert counts(database) == (2, 1, 2, 0)


def test_a_quarter_imports_once_and_the_audit_log_verifies(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quarter = write_quarter(tmp_path, rows=300)

    assert history(capsys, str(quarter.csv))[:2] == (0, "imported 300, skipped 0 already present, 0 invalid\n")
    before = counts(database)
    assert history(capsys, "--format", "jsonl", str(quarter.jsonl))[:2] == (
        0,
        "imported 0, skipped 300 already present, 0 invalid\n",
    )
    assert counts(database) == before

    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out.startswith("audit log intact: 300 events")


def test_the_format_comes_from_the_option_or_the_name(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.txt"
    write_jsonl(path, [row()])

    code, _, err = history(capsys, str(path))
    assert code == 2
    assert err == [
        f"signoff history import: cannot tell the format of {path}; name it .jsonl, .ndjson, .csv, "
        "or give --format jsonl|csv"
    ]
    assert history(capsys, "--format", "jsonl", str(path))[:2] == (
        0,
        "imported 1, skipped 0 already present, 0 invalid\n",
    )
    assert history(capsys, str(tmp_path / "missing.csv"))[2][0].startswith("signoff history import: cannot read")


def test_ten_thousand_rows_import_quickly(database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "big.jsonl"
    write_jsonl(path, quarter_rows(rows=10_000, seed=3))

    started = time.perf_counter()
    code, out, _ = history(capsys, str(path))
    took = time.perf_counter() - started

    assert (code, out) == (0, "imported 10000, skipped 0 already present, 0 invalid\n")
    assert took < 30, f"10,000 rows took {took:.1f} s (target: under 10 s; see bench/bench_import.py)"


def test_the_readme_examples_import(database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## History import", 1)[1].split("\n## ", 1)[0]
    example_json = section.split("```json\n", 1)[1].split("```", 1)[0]
    example_csv = section.split("```csv\n", 1)[1].split("```", 1)[0]
    (tmp_path / "readme.jsonl").write_text(json.dumps(json.loads(example_json)) + "\n", encoding="utf-8")
    (tmp_path / "readme.csv").write_text(example_csv, encoding="utf-8")

    assert history(capsys, str(tmp_path / "readme.csv"))[:2] == (
        0,
        "imported 2, skipped 0 already present, 0 invalid\n",
    )
    assert history(capsys, str(tmp_path / "readme.jsonl"))[:2] == (
        0,
        "imported 0, skipped 1 already present, 0 invalid\n",
    )


def test_bytes_that_are_not_utf8_make_their_row_invalid(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.jsonl"
    good = json.dumps(row()).encode()
    path.write_bytes(good + b"\n" + good.replace(b"Acme", b"Ac\xffme").replace(b"OLD-1", b"OLD-2") + b"\n")

    code, out, err = history(capsys, "--skip-invalid", str(path))

    assert (code, out) == (0, "imported 1, skipped 0 already present, 1 invalid\n")
    assert err == [f"{path}:2: row: is not UTF-8 text"]


def test_a_csv_quote_never_closed_refuses_the_file(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.csv"
    path.write_text(as_csv([row()]) + 'OLD-2,discount,U0REQ01,"2025-10-01\n', encoding="utf-8")

    code, _, err = history(capsys, "--skip-invalid", str(path))

    assert code == 1
    assert err[0].startswith(f"{path}:3: row: is not CSV (")
    assert counts(database) == (0, 0, 0, 0)


IDS = [
    ("J\t1", "contains U+0009, which an id may not hold"),
    ("Q\u202e1", "contains U+202E RIGHT-TO-LEFT OVERRIDE, which an id may not hold"),
    ("J\u200b1", "contains U+200B ZERO WIDTH SPACE, which an id may not hold"),
    ("J\u00a01", "contains U+00A0 NO-BREAK SPACE, which an id may not hold"),
    ("J\u3164", "contains U+3164 HANGUL FILLER, which an id may not hold"),
    ("J\x001", "contains U+0000, which an id may not hold"),
]


@pytest.mark.parametrize(("given", "message"), IDS, ids=[m.split(",")[0] for _, m in IDS])
@pytest.mark.parametrize("form", ["jsonl", "csv"])
def test_ids_with_characters_nobody_sees_are_refused(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], given: str, message: str, form: str
) -> None:
    path = tmp_path / f"ids.{form}"
    if form == "jsonl":
        write_jsonl(path, [row(id=given)])
    else:
        path.write_text(as_csv([row(id=given)]), encoding="utf-8")

    code, _, err = history(capsys, str(path))

    assert code == 1
    assert err[0].startswith(f"{path}:2: id: {message}" if form == "csv" else f"{path}:1: id: {message}"), err


def test_a_composed_and_a_decomposed_id_are_one_id(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "accents.jsonl"
    write_jsonl(path, [row(id="caf\u00e9-1"), row(id="cafe\u0301-1")])
    code, _, err = history(capsys, str(path))
    assert code == 1 and err[0] == f"{path}:2: id: “café-1” is given again; first on line 1"

    write_jsonl(path, [row(id="cafe\u0301-1")])
    assert history(capsys, str(path))[:2] == (0, "imported 1, skipped 0 already present, 0 invalid\n")
    write_jsonl(path, [row(id="caf\u00e9-1")])
    assert history(capsys, str(path))[:2] == (0, "imported 0, skipped 1 already present, 0 invalid\n")


@pytest.mark.parametrize("given", [-1, 1.5])
def test_an_id_that_is_no_whole_number_says_what_ids_are(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], given: float
) -> None:
    path = tmp_path / "ids.jsonl"
    write_jsonl(path, [row(id=given)])
    code, _, err = history(capsys, str(path))
    assert code == 1
    assert err[0] == f"{path}:1: id: expected text, or a whole number of 0 or more written in digits 0-9, got {given}"


@pytest.mark.parametrize("content", ["", "\n\n", "HEADER"])
@pytest.mark.parametrize("form", ["jsonl", "csv"])
def test_a_file_without_rows_is_refused_alike_in_both_forms(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, form: str
) -> None:
    if content == "HEADER":
        content = as_csv([]) if form == "csv" else "\n"
    path = tmp_path / f"empty.{form}"
    path.write_text(content, encoding="utf-8")

    code, out, err = history(capsys, str(path))

    assert (code, out) == (1, "imported 0, skipped 0 already present, 0 invalid\n")
    assert err == [f"signoff history import: {path} holds no rows (an empty export?); nothing was imported"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "A", "kind": "discount",}', "a trailing comma before “}” (at character 31)"),
        (
            '{"id": "A", "kind": "discount",',
            "the line ends before the object is closed; each object must be on one line",
        ),
        ("{'id': 'A'}", "a key is not in double quotes (at character 2)"),
        ('{"id": "A"} {"id": "B"}', "something follows the object (one object per line) (at character 13)"),
        ('{"id": "A", "kind": discount}', "a value is missing or is not JSON"),
    ],
)
def test_json_syntax_errors_are_said_in_words(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    path = tmp_path / "junk.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    code, _, err = history(capsys, str(path))
    assert code == 1
    assert err[0].startswith(f"{path}:1: row: is not a JSON object: {message}"), err[0]


def test_a_csv_cell_past_pythons_limit_is_refused_by_its_column_with_its_line(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "long.csv"
    path.write_text(as_csv([row(id="L-1", reason="x" * 200_000), row(id="L-2")]), encoding="utf-8")

    code, out, err = history(capsys, "--skip-invalid", str(path))

    assert (code, out) == (0, "imported 1, skipped 0 already present, 1 invalid\n")
    assert err == [f"{path}:2: reason: must be at most 1000 characters (got 200000)"]
