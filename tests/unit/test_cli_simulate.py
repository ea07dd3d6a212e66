"""`signoff simulate` end to end on a SQLite file: JSON, text, --per-request against `signoff explain`, errors."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.domain.clock import FixedClock
from bot.domain.requests import format_request_id
from bot.governance_file import load_governance_file
from bot.services.runtime import Runtime
from storage.engine import create_db_engine
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWorkFactory
from tests.services.simulate_history import GOVERNANCE, History, file_history
from tests.services.test_simulate_candidates import MID, with_rules


def wednesday_weeks_ago() -> datetime:
    """09:00 UTC on the Wednesday two to three weeks back: inside the default 90 days, and the history ends before now."""
    day = (datetime.now(UTC) - timedelta(days=14)).date()
    day -= timedelta(days=(day.weekday() - 2) % 7)
    return datetime.combine(day, time(9), tzinfo=UTC)


@pytest.fixture
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> History:
    """The history of ``tests.services.simulate_history`` in a SQLite file; the file in force is
    ``signoff.yaml``, the candidate ``candidate.yaml`` (the same plus the rule ``mid``)."""
    caplog.set_level(logging.WARNING, logger="alembic")
    config = tmp_path / "signoff.yaml"
    config.write_text(GOVERNANCE)
    (tmp_path / "candidate.yaml").write_text(with_rules(MID))
    monkeypatch.setenv("SIGNOFF_CONFIG", str(config))
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", f"sqlite:///{tmp_path / 'signoff.db'}")
    monkeypatch.chdir(tmp_path)
    engine = create_db_engine(f"sqlite:///{tmp_path / 'signoff.db'}")
    upgrade(engine)
    governance = load_governance_file(config)
    clock = FixedClock(wednesday_weeks_ago())
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=clock)
    history = file_history(runtime, clock)
    engine.dispose()
    return history


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, unwarned(captured.err)


#: ``signoff check``'s warning about the history's file: ``team-budget`` sums ``deal_value``, which
#: stays optional because the history files requests without it.
_OPTIONAL_SUM = "sums deal_value, which is optional"


def unwarned(err: str) -> str:
    """``err`` without that warning (and its count in a file's heading line)."""
    lines = [line for line in err.splitlines(keepends=True) if _OPTIONAL_SUM not in line]
    lines = [line.replace(", 1 warning\n", "\n") for line in lines]
    return "".join(line for line in lines if not line.endswith(": 1 warning\n"))


def test_json_has_the_design_keys_and_counts(stored: History, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "simulate", "candidate.yaml", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) >= {
        "requests",
        "replayed",
        "skipped_invalid",
        "candidate",
        "current",
        "human_decisions_saved",
        "contradictions",
        "by_rule",
    }
    assert (data["requests"], data["replayed"], data["skipped_invalid"], data["human_decisions_saved"]) == (
        18,
        18,
        0,
        1,
    )
    for side in ("candidate", "current"):
        assert set(data[side]) >= {"auto_approved", "auto_rejected", "routed", "resolved_by_default_share"}
    assert data["candidate"]["auto_approved"] == data["current"]["auto_approved"] + 2 == 10
    assert data["contradictions"] == {
        "approved_where_humans_rejected": 1,
        "rejected_where_humans_approved": 0,
        "examples": [format_request_id(stored["ana_mid"])],
    }
    mid = next(rule for rule in data["by_rule"] if rule["rule"] == "mid")
    assert mid == {
        "kind": "discount",
        "rule": "mid",
        "decide": "approve",
        "would_decide": 2,
        "agreed_with_humans": 1,
        "contradicted": 1,
    }
    assert data["current_vs_stored"] == {
        "live_automatic": 9,
        "reproduced": 9,
        "live_routed": 9,
        "routed_again": 9,
        "not_replayed_automatic": 0,
        "not_replayed_routed": 0,
        "other_governance": 0,
    }
    assert (data["kinds"], data["warnings"], data["both_replayed"], data["shadow_rules_not_replayed"]) == (
        None,
        [],
        18,
        0,
    )


def test_text_compares_the_files_and_names_the_contradictions(
    stored: History, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "simulate", "candidate.yaml", "--kind", "discount")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("requests of kind discount submitted from ") and lines[0].endswith(
        "16, replayed through the candidate 16, skipped 0"
    )
    assert next(line for line in lines if line.startswith("approved by a rule")).split()[-2:] == ["9", "7"]
    assert "human decisions saved: 1 (people decided; the candidate would have decided the same way)" in lines
    assert f"  e.g. {format_request_id(stored['ana_mid'])}" in lines
    assert next(line for line in lines if " mid " in line).split() == ["discount", "mid", "approve", "2", "1", "1"]
    assert (
        "the file in force, replayed: 8 of 8 stored automatic decisions made again, 8 of 8 routed requests routed again"
        in lines
    )


def explain(capsys: pytest.CaptureFixture[str], line: dict[str, Any], *config: str) -> dict[str, Any]:
    pairs = [f"{name}={value}" for name, value in line["fields"].items()]
    at = line["submitted_at"]
    code, out, err = run(
        capsys, "explain", line["kind"], *pairs, "--requester", line["requester"], "--at", at, "--json", *config
    )
    assert (code, err) == (0, ""), err
    receipt: dict[str, Any] = json.loads(out)
    return receipt


def test_per_request_lines_agree_with_explain(
    stored: History, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "simulate", "candidate.yaml", "--per-request", "lines.jsonl")
    assert code == 0 and err == "wrote lines.jsonl: one line per request\n"
    lines = [json.loads(text) for text in (tmp_path / "lines.jsonl").read_text().splitlines()]
    assert len(lines) == 18 and [line["request"] for line in lines] == [
        format_request_id(i) for i in sorted(stored.ids.values())
    ]
    first = lines[0]
    assert set(first) >= {"request", "kind", "submitted_at", "requester", "candidate", "current", "happened"}
    assert first["happened"] == {"state": "approved", "by": "rule:small"}
    # explain reads no usage: compare where no limit was consulted, or (the first request) none was used yet
    sample = [first] + [line for line in lines if line["kind"] == "brand" or line["fields"].get("amount_pct", 0) > 30]
    assert len(sample) == 6
    for line in sample:
        receipt = explain(capsys, line, "--config", "candidate.yaml")
        assert (receipt["outcome"], receipt["rule"]) == (line["candidate"]["outcome"], line["candidate"]["rule"])
        receipt = explain(capsys, line)
        assert (receipt["outcome"], receipt["rule"]) == (line["current"]["outcome"], line["current"]["rule"])
    decided = next(line for line in lines if line["request"] == format_request_id(stored["ana_mid"]))
    assert decided["candidate"] == {"outcome": "approve", "rule": "mid"}
    assert decided["happened"] == {"state": "rejected", "by": "U0FIN2"}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["missing.yaml"], 1, "signoff simulate: CANDIDATE missing.yaml does not exist\n"),
        (["empty.yaml"], 1, "signoff simulate: CANDIDATE empty.yaml: the file is empty\n"),
        ([""], 2, "signoff simulate: CANDIDATE is empty: name the governance file to try"),
        (
            ["candidate.yaml", "--config", "nope.yaml"],
            1,
            "signoff simulate: the file in force (--config) nope.yaml does not exist; `signoff init` writes",
        ),
        (["candidate.yaml", "--per-request", ""], 2, "signoff simulate: --per-request needs a file name\n"),
        (["candidate.yaml", "--per-request", "."], 2, "signoff simulate: --per-request: cannot write .: it is not"),
        (["candidate.yaml", "--since", "yesterday"], 2, "signoff simulate: --since expects a duration such as 90s"),
        (["candidate.yaml", "--until", "2020-01-01"], 2, "must be after --since"),
        (
            ["candidate.yaml", "--kind", "refund"],
            2,
            "signoff simulate: there is no kind “refund”; kinds: brand, discount\n",
        ),
        (
            ["candidate.yaml", "--per-request", "/nonexistent/dir/x.jsonl"],
            2,
            "signoff simulate: --per-request: cannot write /nonexistent/dir/x.jsonl: there is no folder",
        ),
    ],
)
def test_bad_input_is_one_line_on_stderr(
    stored: History, capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    (stored_dir := Path.cwd()).joinpath("empty.yaml").write_text("")
    got, out, err = run(capsys, "simulate", *args)
    assert (got, out) == (code, "") and message in err and err.count("\n") == 1
    assert not list(stored_dir.glob(".*.tmp"))


@pytest.mark.parametrize(
    "args",
    [
        ["--kind", "nope"],  # refused once the database is open: after the output file was opened
        ["--since", "-5d"],
    ],
)
def test_a_failed_run_leaves_an_existing_per_request_file_whole(
    stored: History, capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str]
) -> None:
    kept = tmp_path / "existing.jsonl"
    kept.write_text("keep\n")
    code, _, _ = run(capsys, "simulate", "candidate.yaml", "--per-request", str(kept), *args)
    assert code == 2
    assert kept.read_text() == "keep\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_a_failed_run_without_a_database_leaves_the_per_request_file_whole(
    stored: History, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    kept = tmp_path / "existing.jsonl"
    kept.write_text("keep\n")
    code, _, err = run(capsys, "simulate", "candidate.yaml", "--per-request", str(kept))
    assert code == 1 and "no database" in err
    assert kept.read_text() == "keep\n"


def test_a_successful_run_replaces_the_per_request_file(
    stored: History, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    kept = tmp_path / "existing.jsonl"
    kept.write_text("keep\n")
    code, _, err = run(capsys, "simulate", "candidate.yaml", "--per-request", str(kept))
    assert code == 0 and err == f"wrote {kept}: one line per request\n"
    assert len(kept.read_text().splitlines()) == 18


def test_an_invalid_candidate_lists_its_problems_by_line(
    stored: History, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = GOVERNANCE.replace("decide: reject, reason: Too much.", "decide: refuse, reason: Too much.")
    (tmp_path / "broken.yaml").write_text(broken)
    code, out, err = run(capsys, "simulate", "broken.yaml")
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == "broken.yaml: 1 error"
    assert err.splitlines()[1].startswith("  broken.yaml:34: kinds.discount.rules[3].decide: ")
    assert "Traceback" not in err
