"""`signoff check`, `test` and `explain` as an author and a CI job use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.domain.slash_text import SlashTextError, split_slash_text
from tests.processes import free_port
from tests.unit.test_cli import run
from tests.unit.test_cli import starter as starter  # the fixture

FIELDS = ("account=Acme", "amount_pct=5", "region=emea")


def plant(path: Path, *replacements: tuple[str, str]) -> None:
    text = path.read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text)


THREE_MISTAKES = (
    ("approvers: finance", "approvers: finanse"),  # semantic: unknown group
    ("{amount_pct: {gt: 40}}", "{amount_pct: {gt: forty}}"),  # semantic: value does not fit the field
    ("expire_after: 14d", "expire_after: two weeks"),  # shape: not a duration
)


def test_check_reports_all_three_planted_mistakes(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plant(starter / "signoff.yaml", *THREE_MISTAKES)
    code, _, err = run(capsys, "check")
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == "signoff.yaml: 3 errors"
    assert "kinds.discount.approvers: unknown group “finanse”" in lines[1]
    assert "kinds.discount.expire_after: expected a duration" in lines[2]
    assert "kinds.discount.rules[1].when.amount_pct.gt: expected a number" in lines[3]


def test_check_json_is_machine_readable(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plant(starter / "signoff.yaml", *THREE_MISTAKES)
    plant(
        starter / "signoff.yaml",
        (
            "      - id: small-discount\n",
            "      - {id: freeze, decide: reject, reason: Frozen.}\n      - id: small-discount\n",
        ),
    )
    code, out, err = run(capsys, "check", "--format", "json")
    assert code == 1 and err == ""
    data = json.loads(out)
    assert data["valid"] is False and data["governance"] is None
    assert [(p["path"], p["severity"]) for p in data["problems"]] == [
        ("kinds.discount.approvers", "error"),
        ("kinds.discount.expire_after", "error"),
        ("kinds.discount.rules[0]", "warning"),
        ("kinds.discount.rules[2].when.amount_pct.gt", "error"),
    ]
    first = data["problems"][0]
    assert set(first) == {"file", "line", "path", "message", "severity"}
    assert first["file"] == "signoff.yaml" and isinstance(first["line"], int)


def test_check_json_of_a_valid_file(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["valid"], data["problems"], len(data["governance"])) == (True, [], 64)
    assert (data["kinds"], data["groups"], data["rules"], data["tests"]) == (2, 3, 4, 6)


def test_warnings_print_but_the_file_is_valid(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plant(
        starter / "signoff.yaml",
        (
            "      - id: small-discount\n",
            "      - {id: freeze, decide: reject, reason: Frozen.}\n      - id: small-discount\n",
        ),
    )
    code, out, err = run(capsys, "check")
    assert code == 0
    assert out.startswith("signoff.yaml is valid")
    assert err.splitlines()[0] == "signoff.yaml: 1 warning"
    assert "warning: kinds.discount.rules[0]: rule “freeze” has decide: reject and no `when`" in err
    code, out, _ = run(capsys, "check", "--format", "json")
    assert code == 0
    assert [p["severity"] for p in json.loads(out)["problems"]] == ["warning"]


def test_test_json_lists_every_test(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "test", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["passed"], data["failed"], len(data["tests"])) == (6, 0, 6)
    plant(starter / "signoff.yaml", ("when: {amount_pct: {lte: 10}}", "when: {amount_pct: {lte: 4}}"))
    code, out, _ = run(capsys, "test", "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert (data["passed"], data["failed"]) == (5, 1)
    failed = [t for t in data["tests"] if not t["passed"]]
    assert failed == [
        {
            "kind": "discount",
            "index": 0,
            "name": "account=Acme, amount_pct=5, region=emea",
            "passed": False,
            "failures": ["expected approve, got route", "expected rule small-discount to decide, but no rule did"],
        }
    ]


def test_test_json_of_an_invalid_file(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plant(starter / "signoff.yaml", THREE_MISTAKES[0])
    code, out, _ = run(capsys, "test", "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert (data["passed"], data["failed"], data["tests"], data["valid"]) == (0, 0, [], False)
    assert [p["path"] for p in data["problems"]] == ["kinds.discount.approvers"]


@pytest.mark.parametrize(
    "argv",
    [
        ["explain", "discount", *FIELDS, "--config", "{f}"],
        ["explain", "--config", "{f}", "discount", *FIELDS],
        ["explain", "discount", "--config", "{f}", *FIELDS],
        ["explain", "discount", FIELDS[0], "--config", "{f}", *FIELDS[1:]],
        ["explain", "discount", FIELDS[0], "--requester", "U0SAM", FIELDS[1], "--config", "{f}", FIELDS[2]],
    ],
    ids=["config-last", "config-first", "config-after-kind", "config-between-fields", "options-between-fields"],
)
def test_explain_takes_options_anywhere_on_the_line(
    starter: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    elsewhere = tmp_path / "elsewhere.yaml"
    (starter / "signoff.yaml").rename(elsewhere)
    code, out, err = run(capsys, *[arg.replace("{f}", str(elsewhere)) for arg in argv])
    assert (code, err) == (0, "")
    assert "Outcome: approved by rule small-discount" in out


def test_explain_json_flag_between_fields(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "discount", FIELDS[0], "--json", *FIELDS[1:])
    assert code == 0
    assert json.loads(out)["rule"] == "small-discount"


def test_explain_refuses_a_field_given_twice_like_the_slash_command(
    starter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SlashTextError) as slash:
        split_slash_text("account=Acme amount_pct=5 amount_pct=50")
    code, out, err = run(capsys, "explain", "discount", *FIELDS, "amount_pct=50")
    assert (code, out) == (1, "")
    assert f"the discount request is not valid:\n  {slash.value}\n" in err
    code, _, err = run(capsys, "explain", "discount", *FIELDS, "--json", "Amount_Pct=50")
    assert code == 1 and str(slash.value) in err


def test_unknown_options_are_still_refused_anywhere(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["explain", "discount", *FIELDS, "--jsn"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --jsn" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["check", "stray"])
    assert "unrecognized arguments: stray" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["check"], ["test"], ["explain", "discount", *FIELDS]])
def test_config_may_also_come_before_the_command(
    starter: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    elsewhere = tmp_path / "elsewhere.yaml"
    (starter / "signoff.yaml").rename(elsewhere)
    code, _, err = run(capsys, "--config", str(elsewhere), *command)
    assert (code, err) == (0, "")
    code, _, err = run(capsys, *command)  # and without it, ./signoff.yaml is gone
    assert code == 1 and "does not exist" in err


def test_config_before_a_command_that_does_not_take_it_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--config", "f.yaml", "audit", "verify"])
    assert exit_.value.code == 2
    assert (
        "--config applies to check, test, explain, serve, worker, digest, webhooks, api-token, report, simulate, suggest, history, not to `signoff audit`\n"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize("command", [["serve"], ["worker"], ["digest", "--now"]])
@pytest.mark.parametrize("where", ["before", "after"])
def test_the_commands_that_run_signoff_take_config_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: list[str], where: str
) -> None:
    """`signoff serve --config f.yaml` reads f.yaml (it was "unrecognized arguments"), before or after the command."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGNOFF_CONFIG", str(tmp_path / "from-env.yaml"))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", f"sqlite:///{tmp_path / 'signoff.db'}")
    monkeypatch.setenv("SIGNOFF_PORT", str(free_port()))
    monkeypatch.setenv("SIGNOFF_SLACK_API_URL", "http://127.0.0.1:9/api/")  # nothing answers: Slack is unreachable
    given = str(tmp_path / "given.yaml")
    argv = ["--config", given, *command] if where == "before" else [*command, "--config", given]
    code = main(argv)
    err = capsys.readouterr().err
    assert code != 0
    assert "unrecognized arguments" not in err
    assert "given.yaml" in err and "from-env.yaml" not in err, err


@pytest.mark.parametrize(
    ("replacement", "expected"),
    [
        pytest.param(
            ("reason: Deals of 100k", 'reason: "Deals of 100k'),
            "signoff.yaml:50: a quote opened on line 50 is never closed",
            id="unclosed-double-quote",
        ),
        pytest.param(
            ('digest: "0 9 * * MON-FRI"', "digest: !!python/object/apply:os.system [ls]"),
            "signoff.yaml:9: the YAML tag !!python/object/apply:os.system is not allowed",
            id="yaml-tag",
        ),
        pytest.param(
            ('digest: "0 9 * * MON-FRI"', 'digest: "0 9 31 2 *"'),
            "signoff.yaml:9: digest: day of month: there is no day 31 in Feb, so this schedule never fires",
            id="never-fires",
        ),
    ],
)
def test_check_names_the_line_to_fix_never_a_traceback(
    starter: Path, capsys: pytest.CaptureFixture[str], replacement: tuple[str, str], expected: str
) -> None:
    plant(starter / "signoff.yaml", replacement)
    code, _, err = run(capsys, "check")
    assert code == 1
    assert expected in err, err
    assert "Traceback" not in err and "Error" not in err, err
