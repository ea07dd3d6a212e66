"""The CLI as a new user runs it: on `signoff init` output and on the shipped example."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import MARKETING_EXAMPLE


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def starter(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIGNOFF_CONFIG", raising=False)
    code, out, _ = run(capsys, "init")
    assert code == 0
    assert "wrote signoff.yaml" in out
    return tmp_path


def test_init_output_passes_check_and_test(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (starter / ".env.example").read_text().count("SLACK_BOT_TOKEN") == 1
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert out.startswith("signoff.yaml is valid: 2 kinds, 3 groups, 4 rules, 6 tests")
    code, out, _ = run(capsys, "test")
    assert code == 0
    assert out.strip().endswith("6 passed, 0 failed")


def test_init_refuses_to_overwrite(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "init")
    assert code == 1
    assert "already exist" in err


def test_explain_prints_outcome_reason_steps_and_trace(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "explain",
        "discount",
        "account=Acme Corp",
        "amount_pct=25",
        "region=emea",
        "--at",
        "2026-03-04T10:00:00+01:00",
    )
    assert code == 0
    assert "Discount approval (discount), requested by U0TESTER at 2026-03-04 10:00 CET" in out
    assert "Outcome: needs people: finance (1 approval)" in out
    assert "Why: No governed default covers this: small-discount applies when amount_pct ≤ 10 (got 25)." in out
    assert "✗ small-discount (approve)\n      amount_pct 25 lte 10 → false" in out
    assert (
        "? big-deal (require cmo-office)\n      deal_value gte 100000 → cannot evaluate: deal_value is not set" in out
    )


def test_explain_json_has_the_documented_shape(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "discount", "account=Acme", "amount_pct=25", "region=emea", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["outcome"] == "route"
    assert data["rule"] is None
    assert data["steps"] == [{"group": "finance", "approvals": 1}]
    assert len(data["governance"]) == 64
    first = data["trace"][0]
    assert first["rule"] == "small-discount" and first["matched"] is False
    assert first["conditions"] == [{"field": "amount_pct", "op": "lte", "expected": 10, "actual": 25, "result": False}]
    code, out, _ = run(capsys, "explain", "discount", "account=Acme", "amount_pct=5", "region=emea", "--json")
    assert (json.loads(out)["outcome"], json.loads(out)["rule"]) == ("approve", "small-discount")


def test_explain_names_bad_fields_and_unknown_kinds(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "explain", "discount", "amount_pct=250")
    assert code == 1
    assert "account: is required" in err
    assert "amount_pct: must be at most 100 (got 250)" in err
    assert "region: is required (one of emea, amer, apac)" in err
    code, _, err = run(capsys, "explain", "refund", "x=1")
    assert code == 1
    assert "there is no kind “refund”; kinds: brand-exception, discount" in err


def test_explain_refuses_an_exception_that_already_ended(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys,
        "explain",
        "brand-exception",
        "asset=https://a.io/x.png",
        "guideline=logo",
        "until=2026-03-01",
        "--at",
        "2026-03-04T10:00:00+01:00",
    )
    assert code == 1
    assert "until: must be today or later (today is 2026-03-04 in Europe/Berlin)" in err


def test_check_lists_every_problem_with_file_and_line(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = starter / "signoff.yaml"
    text = (
        path.read_text()
        .replace("approvers: finance", "approvers: finanse")
        .replace("{amount_pct: {gt: 40}}", "{amount_pct: {gt: forty}}")
    )
    path.write_text(text)
    code, _, err = run(capsys, "check")
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == "signoff.yaml: 2 errors"
    assert lines[1].startswith("  signoff.yaml:") and "kinds.discount.approvers: unknown group “finanse”" in lines[1]
    assert "kinds.discount.rules[1].when.amount_pct.gt: expected a number for amount_pct, got “forty”" in lines[2]


def test_test_reports_failures_with_the_trace(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = starter / "signoff.yaml"
    path.write_text(path.read_text().replace("when: {amount_pct: {lte: 10}}", "when: {amount_pct: {lte: 4}}"))
    code, out, _ = run(capsys, "test")
    assert code == 1
    assert "FAIL  discount.tests[0] account=Acme, amount_pct=5, region=emea" in out
    assert "      expected approve, got route" in out
    assert "      |       amount_pct 5 lte 4 → false" in out
    assert out.strip().endswith("5 passed, 1 failed")


def test_config_comes_from_the_environment(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNOFF_CONFIG", str(MARKETING_EXAMPLE))
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert "5 kinds, 7 groups" in out


def test_missing_config_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIGNOFF_CONFIG", raising=False)
    code, _, err = run(capsys, "check")
    assert code == 1
    assert "signoff.yaml does not exist; `signoff init` writes a starter file" in err


def test_installed_console_script_runs_the_example_tests() -> None:
    env = {**os.environ, "SIGNOFF_CONFIG": str(MARKETING_EXAMPLE)}
    script = Path(sys.executable).with_name("signoff")
    completed = subprocess.run([str(script), "test"], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("19 passed, 0 failed")
    explained = subprocess.run(
        [
            str(script),
            "explain",
            "data-pull",
            "purpose=Churn",
            "dataset=crm-contacts",
            "includes_pii=yes",
            "recipient=ana@example.com",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert explained.returncode == 0, explained.stderr
    assert [s["group"] for s in json.loads(explained.stdout)["steps"]] == ["analytics", "privacy"]


def test_an_option_followed_by_another_option_still_lacks_its_value(capsys: pytest.CaptureFixture[str]) -> None:
    """``--since --kind x``: the value really is missing; only values that are not options are joined."""
    with pytest.raises(SystemExit) as raised:
        main(["report", "--since", "--kind", "x"])
    assert raised.value.code == 2
    assert "argument --since: expected one argument" in capsys.readouterr().err


def test_a_requester_starting_with_a_dash_is_named_by_its_reader(
    starter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", "discount", "--requester", "-U1", "amount_pct=5"]) != 0
    assert "--requester takes a Slack user id such as U012AB3CD, got “-U1”" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "meant"),
    [
        (["simulate", "x.yaml", "--sin", "-5d"], "--sin is --since?"),
        (["report", "--sin", "5d"], "--sin is --since?"),
        (["explain", "discount", "account=Acme", "--req", "-U1"], "--req is --requester?"),
    ],
)
def test_options_are_not_abbreviated_and_an_abbreviation_is_named(
    capsys: pytest.CaptureFixture[str], argv: list[str], meant: str
) -> None:
    """argparse took ``--sin`` for ``--since`` but then ``--sin -5d`` lacked its value; full names only."""
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert f"(options are not abbreviated: {meant})" in err and "expected one argument" not in err


def test_an_unreachable_postgresql_is_one_line_naming_the_setting_and_host(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", "postgresql+psycopg://signoff:secret@127.0.0.1:1/signoff")
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("signoff: cannot open the database on 127.0.0.1:1 (SIGNOFF_DATABASE_URL): ")
    assert err.count("\n") == 1 and "sqlalche.me" not in err and "secret" not in err
