"""`signoff report` end to end on a SQLite file: JSON to stdout, text, html to a file, one-line errors."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.domain.clock import FixedClock
from bot.domain.routing import Verdict
from bot.governance_file import load_governance_file
from bot.services.decide import decide_request
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from storage.engine import create_db_engine
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWorkFactory
from tests.services.conftest import LIFECYCLE


@pytest.fixture
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Path:
    """Three discount requests from two days ago: one approved by a rule, one by a person, one rejected by a rule."""
    # Alembic logs at INFO when it opens a migration context; after a test that configured logging
    # (as `signoff serve` does), those lines would reach stderr. The CLI itself configures none.
    caplog.set_level(logging.WARNING, logger="alembic")
    config = tmp_path / "signoff.yaml"
    config.write_text(LIFECYCLE)
    monkeypatch.setenv("SIGNOFF_CONFIG", str(config))
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", f"sqlite:///{tmp_path / 'signoff.db'}")
    monkeypatch.chdir(tmp_path)
    engine = create_db_engine(f"sqlite:///{tmp_path / 'signoff.db'}")
    upgrade(engine)
    clock = FixedClock(datetime.now(UTC) - timedelta(days=2))
    governance = load_governance_file(config)
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=clock)
    for pct in (5, 25, 50):
        submit_request(runtime=runtime, kind="discount", requester="U0SAM", text=f"account=Acme amount_pct={pct}")
    clock.advance(timedelta(hours=3))
    decide_request(runtime=runtime, request_id=2, voter="U0FIN1", verdict=Verdict.APPROVE)
    engine.dispose()
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_to_stdout_parses_and_has_the_design_keys(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "report", "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) >= {"from", "to", "governance", "totals", "kinds"}
    totals = data["totals"]
    assert (totals["requests"], totals["auto_approved"], totals["auto_rejected"], totals["human_approved"]) == (
        3,
        1,
        1,
        1,
    )
    assert round(totals["resolved_by_default_share"], 4) == round(2 / 3, 4)
    discount = data["kinds"][0]
    assert discount["kind"] == "discount" and discount["time_to_decision_hours"] == {"p50": 3.0, "p90": 3.0}
    assert discount["approvers"][0]["user"] == "U0FIN1"
    code, out, _ = run(capsys, "report", "--format", "json", "--since", "1d")
    assert code == 0 and json.loads(out)["totals"]["requests"] == 0


def test_text_shows_a_row_per_kind_and_the_totals(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "report", "--kind", "discount")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("requests submitted from ") and "(exclusive, Europe/Berlin)" in lines[0]
    discount = next(line for line in lines if line.startswith("discount"))
    assert discount.split()[:4] == ["discount", "U0FINLEAD", "3", "1"] and "66.7%" in discount
    assert not any(line.startswith("contract") for line in lines)


def test_html_needs_an_output_file_and_is_one_self_contained_page(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "report", "--format", "html")
    assert (code, out) == (2, "") and err.count("\n") == 1 and "--output" in err
    code, _, err = run(capsys, "report", "--format", "html", "--output", "r.html")
    page = (stored / "r.html").read_text()
    assert code == 0 and page.startswith("<!DOCTYPE html>")
    assert page.count('src="data:image/png;base64,') == 3
    assert "http://" not in page and "https://" not in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "refund"], "signoff report: there is no kind “refund”; kinds: brand, contract, discount\n"),
        (["--since", "yesterday"], "--since expects a duration such as 90s, 15m, 8h, 14d or 2w back from now"),
        (["--until", "2020-01-01"], "must be after --since"),
        (
            ["--since", "0001-01-01"],
            "--since: “0001-01-01” is out of range; expected a date from 1900-01-01 to 2999-12-31",
        ),
        (["--until", "9999-12-31"], "--until: “9999-12-31” is out of range; expected a date from 1900-01-01"),
        (["--since", "999999d"], "--since: a duration is at most 36500d (about 100 years), got “999999d”"),
        # A value starting with "-" reaches the option's own reader (argparse said "expected one argument").
        (["--since", "-5d"], "--since expects a duration such as 90s, 15m, 8h, 14d or 2w back from now, or a date"),
        (["--until", "-2026-01-01"], "--until expects a date such as 2026-06-01 (exclusive), got “-2026-01-01”"),
        (
            ["--format", "html", "--output", "/nonexistent/dir/r.html"],
            "signoff report: --output: cannot write /nonexistent/dir/r.html",
        ),
        (["--output", ""], "signoff report: --output needs a file name\n"),
        (["--format", "json", "--output", "."], "signoff report: --output: cannot write .: it is not a regular file"),
    ],
)
def test_bad_options_are_one_line_on_stderr(
    stored: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "report", *args)
    assert code != 0 and out == "" and message in err and err.count("\n") == 1


def test_a_failed_report_leaves_an_existing_output_file_whole(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kept = stored / "report.json"
    kept.write_text("keep\n")
    code, _, _ = run(capsys, "report", "--format", "json", "--output", str(kept), "--kind", "refund")
    assert code == 2 and kept.read_text() == "keep\n"
    code, _, err = run(capsys, "report", "--format", "json", "--output", str(kept))
    assert (code, err) == (0, f"wrote {kept}\n")
    assert json.loads(kept.read_text())["totals"]["requests"] == 3
    assert [p.name for p in stored.iterdir() if p.name.endswith(".tmp")] == []
