"""`signoff simulate` says what its figures cover: requests a file could not replay, the requests
both files replayed, other governance versions, contract changes the values cannot show, the
kinds asked for, shadow rules, and where the stored history lies when the window is empty."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.services.simulate_history import GOVERNANCE
from tests.services.test_simulate_candidates import MID, with_rules
from tests.unit.test_cli_simulate import run, stored  # noqa: F401 — the fixture: a live history in SQLite

pytestmark = pytest.mark.usefixtures("stored")

NO_BRAND = GOVERNANCE.replace("\n  brand:\n", "\n  brand-x:\n")
NEW_REQUIRED = GOVERNANCE.replace(
    "deal_value: {type: money}", "deal_value: {type: money}\n      ticket: {type: text, required: true}"
)


def lines_of(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    code, out, err = run(capsys, "simulate", *args)
    assert code == 0, err
    return out.splitlines()


def test_what_the_file_in_force_could_not_replay_is_counted_and_shown(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "nobrand.yaml").write_text(NO_BRAND)
    lines = lines_of(capsys, "signoff.yaml", "--config", "nobrand.yaml")
    # 2 live brand requests (1 approved by a rule, 1 routed) the file in force has no kind for
    assert (
        "the file in force, replayed: 8 of 9 stored automatic decisions made again, 8 of 9 routed requests routed again"
        in lines
    )
    assert (
        "  2 of them it could not replay (1 decided by a rule, 1 routed): see “skipped by the file in force”" in lines
    )
    skipped = lines.index("skipped by the file in force: 2, e.g.")
    assert lines[skipped + 1].endswith(": the file has no kind “brand”")
    assert (
        "decided differently from the file in force: 0 of 16 requests both files replayed (2 not compared"
        in " ".join(lines)
    )
    # every stored request was filed under signoff.yaml, not nobrand.yaml
    assert any(
        line.startswith("  18 of the 18 live requests were filed under another governance version") for line in lines
    )
    _, out, _ = run(capsys, "simulate", "signoff.yaml", "--config", "nobrand.yaml", "--json")
    fidelity = json.loads(out)["current_vs_stored"]
    assert (fidelity["not_replayed_automatic"], fidelity["not_replayed_routed"], fidelity["other_governance"]) == (
        1,
        1,
        18,
    )


def test_differences_are_counted_over_the_requests_both_files_replayed_and_say_so(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "newreq.yaml").write_text(NEW_REQUIRED)
    lines = lines_of(capsys, "newreq.yaml")
    assert (
        "decided differently from the file in force: 0 of 2 requests both files replayed (16 not compared: a file skipped them)"
        in lines
    )
    assert "decided differently from the file in force: 2 of 18 requests" in lines_of(capsys, "candidate.yaml")
    assert not any("18 of the 18" in line or "another governance" in line for line in lines)


def test_a_currency_change_is_a_warning_in_text_and_json(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    euro = GOVERNANCE.replace("deal_value: {type: money}", "deal_value: {type: money, currency: EUR}")
    (tmp_path / "eur.yaml").write_text(euro)
    (tmp_path / "usd.yaml").write_text(euro.replace("EUR", "USD"))
    lines = lines_of(capsys, "usd.yaml", "--config", "eur.yaml")
    warning = (
        "discount.deal_value: currency EUR → USD; stored amounts are replayed as USD amounts (values carry no currency)"
    )
    assert lines[0] == f"warning: {warning}"
    _, out, _ = run(capsys, "simulate", "usd.yaml", "--config", "eur.yaml", "--json")
    assert json.loads(out)["warnings"] == [warning]
    (tmp_path / "whole.yaml").write_text(euro.replace("max: 100}", "max: 100, integer: true}"))
    _, out, _ = run(capsys, "simulate", "eur.yaml", "--config", "whole.yaml", "--json")
    assert json.loads(out)["warnings"] == [
        "discount.amount_pct: whole numbers → decimals; stored values were entered under the old rule"
    ]
    assert json.loads(run(capsys, "simulate", "candidate.yaml", "--json")[1])["warnings"] == []


def test_the_kinds_asked_for_are_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    assert lines_of(capsys, "candidate.yaml", "--kind", "Discount")[0].startswith("requests of kind discount submitted")
    _, out, _ = run(capsys, "simulate", "candidate.yaml", "--kind", "brand", "--kind", "discount", "--json")
    assert json.loads(out)["kinds"] == ["brand", "discount"]


def test_an_empty_window_says_where_the_stored_history_lies(
    capsys: pytest.CaptureFixture[str],
) -> None:
    window = ("--since", "2020-01-01", "--until", "2020-02-01")
    lines = lines_of(capsys, "candidate.yaml", *window)
    note = next(line for line in lines if line.startswith("no requests in the window; stored requests were submitted"))
    assert note.endswith(")") and "(try --since 20" in note
    _, out, _ = run(capsys, "simulate", "candidate.yaml", *window, "--json")
    span = json.loads(out)["stored_span"]
    assert span["first"] < span["last"] and f"--since {span['first'][:10]}" in note
    code, out, err = run(capsys, "report", *window)
    assert code == 0 and note in out.splitlines(), err
    _, out, _ = run(capsys, "report", *window, "--format", "json")
    assert json.loads(out)["stored_span"] == span
    _, out, _ = run(capsys, "report", "--kind", "brand", "--format", "json")
    assert "stored_span" not in json.loads(out)


def test_shadow_rules_of_the_candidate_are_said_to_be_trialled_not_replayed(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    shadow = MID.replace("reason: Mid is fine.}", "reason: Mid is fine., mode: shadow}")
    (tmp_path / "shadow.yaml").write_text(with_rules(shadow))
    lines = lines_of(capsys, "shadow.yaml")
    assert "shadow rules in the candidate: 1, trialled beside the rules, not replayed as decisions" in lines
    assert json.loads(run(capsys, "simulate", "shadow.yaml", "--json")[1])["shadow_rules_not_replayed"] == 1
    assert not any(line.startswith("shadow rules") for line in lines_of(capsys, "candidate.yaml"))
