"""`signoff suggest` end to end on a SQLite file: imported latent-policy history, text, JSON, --write, errors."""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from tests.latent_history import LATENT_GOVERNANCE, month_rows, write_jsonl

SINCE = ("--since", "2026-01-01", "--until", "2026-06-01")


@pytest.fixture
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Path:
    """One month (Feb 2026) of latent-policy history, imported; the governance file in ``signoff.yaml``."""
    caplog.set_level(logging.WARNING, logger="alembic")
    config = tmp_path / "signoff.yaml"
    config.write_text(LATENT_GOVERNANCE)
    monkeypatch.setenv("SIGNOFF_CONFIG", str(config))
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", f"sqlite:///{tmp_path / 'signoff.db'}")
    monkeypatch.chdir(tmp_path)
    rows = [row for row, _ in month_rows(start=date(2026, 2, 1), count=2500, seed=3)]
    write_jsonl(tmp_path / "history.jsonl", rows)
    assert main(["db", "upgrade"]) == 0
    assert main(["history", "import", str(tmp_path / "history.jsonl")]) == 0
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_has_the_design_shape(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "suggest", *SINCE, "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["requests"] == 2500 and data["skipped_invalid"] == 0
    assert data["suggestions"], data["kinds"]
    for suggestion in data["suggestions"]:
        assert set(suggestion) >= {
            "kind",
            "rule",
            "support",
            "approved",
            "rejected",
            "approvers",
            "coverage",
            "median_wait_hours",
            "examples",
        }
        assert set(suggestion["rule"]) == {"id", "when", "decide", "reason"}
        assert suggestion["support"] == suggestion["approved"] + suggestion["rejected"] >= 30
        assert suggestion["approvers"] >= 2 and 0 < suggestion["coverage"] <= 1
        assert all(example.startswith("REQ-") for example in suggestion["examples"])
    kinds = {k["kind"] for k in data["suggestions"]}
    assert "discount" in kinds


def test_text_shows_each_rule_and_why_a_kind_has_none(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "suggest", *SINCE, "--kind", "discount")
    assert code == 0
    assert "suggest `suggested-amount-pct-le-10` (approve): people approved" in out
    assert "      - id: suggested-amount-pct-le-10" in out
    code, out, _ = run(capsys, "suggest", *SINCE, "--min-support", "100000")
    assert code == 0
    assert out.count("no suggestion: ") == 3
    assert "fewer than --min-support 100000" in out


def test_write_then_check_and_test_pass_and_the_file_keeps_its_comments(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "suggest", *SINCE, "--write", "out.yaml")
    assert code == 0 and err.startswith("wrote out.yaml")
    text = (stored / "out.yaml").read_text()
    assert "# the one rule the finance team already wrote" in text
    assert "# suggested by `signoff suggest`" in text
    assert text.startswith(LATENT_GOVERNANCE.split("kinds:")[0])
    assert (stored / "signoff.yaml").read_text() == LATENT_GOVERNANCE
    assert run(capsys, "--config", "out.yaml", "check")[0] == 0
    code, out, _ = run(capsys, "--config", "out.yaml", "test")
    assert code == 0 and "0 failed" in out and "just inside suggested-" in out


def test_write_shadow_rules_trial_first(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "suggest", *SINCE, "--write", "trial.yaml", "--mode", "shadow")
    assert code == 0
    assert "mode: shadow" in (stored / "trial.yaml").read_text()
    assert run(capsys, "--config", "trial.yaml", "test")[0] == 0


FLOW = LATENT_GOVERNANCE.replace(
    """    rules:
      # the one rule the finance team already wrote
      - id: over-limit
        when: {amount_pct: {gt: 60}}
        decide: reject
        reason: Discounts above 60% are not permitted.
    tests:
      - {fields: {account: Acme, amount_pct: 70, tier: standard}, expect: reject, rule: over-limit}
""",
    """    rules: [{id: over-limit, when: {amount_pct: {gt: 60}}, decide: reject, reason: No.}]
    tests: []
""",
)


def test_write_into_flow_lists_and_kinds_without_rules_or_tests(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert FLOW != LATENT_GOVERNANCE
    (stored / "signoff.yaml").write_text(FLOW)
    code, _, err = run(capsys, "suggest", *SINCE, "--write", "signoff.yaml")  # the file in force, named explicitly
    assert code == 0, err
    written = (stored / "signoff.yaml").read_text()
    assert written.startswith(FLOW.split("rules: [")[0]) and "suggested-amount-pct-le-10" in written
    assert run(capsys, "check")[0] == 0
    assert run(capsys, "test")[0] == 0


def test_write_is_refused_when_the_file_would_fail_its_tests(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = LATENT_GOVERNANCE.replace("expect: reject, rule: over-limit", "expect: approve")
    (stored / "signoff.yaml").write_text(broken)
    code, _, err = run(capsys, "suggest", *SINCE, "--write", "out.yaml")
    assert code == 1 and "test(s) would fail" in err and err.count("\n") == 1
    assert not (stored / "out.yaml").exists()


SHARED = LATENT_GOVERNANCE.replace("    rules:\n      # the one rule", "    rules: &std\n      # the one rule").replace(
    "\n  budget-move:",
    """
  discount-eu:
    title: Discount (EU)
    owner: U0EULEAD
    fields: {account: {type: text, required: true}, amount_pct: {type: number, required: true}}
    approvers: finance
    rules: *std

  budget-move:""",
)


def test_write_never_changes_a_kind_that_shares_the_rules_through_an_alias(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (stored / "signoff.yaml").write_text(SHARED)
    code, _, err = run(capsys, "suggest", *SINCE, "--write", "out.yaml")
    line = SHARED.splitlines().index("    rules: &std") + 1
    assert code == 0, err
    assert (
        "signoff suggest: kinds.discount.rules is shared with kinds.discount-eu.rules through the anchor &std "
        f"(line {line}); write these rules by hand"
    ) in err
    written = (stored / "out.yaml").read_text()
    assert "rules: *std" in written and "suggested-amount-pct" not in written  # discount refused, others written
    assert "suggested-" in written and run(capsys, "--config", "out.yaml", "check")[0] == 0
    code, out, _ = run(capsys, "--config", "out.yaml", "explain", "discount-eu", "account=X", "amount_pct=5")
    assert code == 0 and "Outcome: needs people" in out and "suggested-" not in out


def test_an_anchor_nobody_else_uses_does_not_stop_the_write(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (stored / "signoff.yaml").write_text(
        LATENT_GOVERNANCE.replace("    rules:\n      # the one", "    rules: &mine\n      # the one")
    )
    code, _, err = run(capsys, "suggest", *SINCE, "--kind", "discount", "--write", "out.yaml")
    assert code == 0 and err.startswith("wrote out.yaml"), err
    assert run(capsys, "--config", "out.yaml", "check")[0] == 0 and run(capsys, "--config", "out.yaml", "test")[0] == 0


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--min-support", "0", "--min-support takes a whole number ≥ 1"),
        ("--min-support", "2.5", "--min-support takes a whole number ≥ 1"),
        ("--min-support", "-1", "--min-support takes a whole number ≥ 1"),
        ("--min-approval", "0.5", "--min-approval takes a share in (0.5, 1]"),
        ("--min-approval", "1.01", "--min-approval takes a share in (0.5, 1]"),
        ("--min-approval", "nan", "--min-approval takes a share in (0.5, 1]"),
        ("--min-approval", "0.9_9", "--min-approval takes a share in (0.5, 1]"),
        ("--min-approval", "-0.99", "--min-approval takes a share in (0.5, 1]"),
        ("--since", "yesterday", "--since expects"),
        ("--kind", "refund", "there is no kind “refund”"),
        ("--write", "", "--write takes the name of the file to write; got an empty name"),
        ("--mode", "bogus", "--mode takes live or shadow; got “bogus”"),
    ],
)
def test_bad_options_get_one_line(
    stored: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    code, out, err = run(capsys, "suggest", option, value)
    assert code == 2 and out == ""
    assert err.startswith(f"signoff suggest: {message}") and err.count("\n") == 1


def test_a_window_wholly_in_the_future_gets_one_line(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "suggest", "--since", "2999-01-01", "--until", "2999-02-01")
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert err.startswith("signoff suggest: --since: the window starts 2999-01-01 00:00, after now")


def test_a_target_that_cannot_be_replaced_gets_a_truthful_line(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "suggest", *SINCE, "--write", "/proc/version")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(
        "signoff suggest: cannot write /proc/version: a temporary file cannot be made in the folder /proc"
    )


def test_imported_examples_show_their_source_id(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "suggest", *SINCE, "--kind", "discount")
    assert code == 0
    examples = next(line for line in out.splitlines() if line.startswith("  examples: "))
    assert re.fullmatch(r"  examples: REQ-\d+ \(LAT202602-\d{5}\)(, REQ-\d+ \(LAT202602-\d{5}\))*", examples)
    data = json.loads(run(capsys, "suggest", *SINCE, "--kind", "discount", "--json")[1])
    first = data["suggestions"][0]
    assert set(first["example_sources"]) == set(first["examples"])
