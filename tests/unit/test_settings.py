"""Settings as an operator gives them: environment, ./.env, and mistakes that must read as one line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import Settings, SettingsError, load_settings
from tests.conftest import MARKETING_EXAMPLE, ROOT

BAD_VALUES = {
    "SIGNOFF_PORT": ("abc", "SIGNOFF_PORT='abc' is not valid; it accepts a whole number from 1 to 65535"),
    "SIGNOFF_DATABASE_URL": (
        "mysql://admin:hunter2@db/signoff",
        "SIGNOFF_DATABASE_URL is not valid (unsupported scheme mysql://); it accepts a sqlite:///path/to/file.db "
        "or postgresql+psycopg://user:password@host:5432/db URL",
    ),
    "SIGNOFF_SLACK_API_URL": (
        "slack.com/api",
        "SIGNOFF_SLACK_API_URL='slack.com/api' is not valid (not an http(s) URL); "
        "it accepts an http(s) URL such as https://slack.com/api/",
    ),
    "SIGNOFF_RETRY_BACKOFF": ("-1", "SIGNOFF_RETRY_BACKOFF='-1' is not valid; it accepts a number > 0 and ≤ 900"),
    "SIGNOFF_DIGEST_CHECK_SECONDS": (
        "often",
        "SIGNOFF_DIGEST_CHECK_SECONDS='often' is not valid; it accepts a number > 0 and ≤ 3600",
    ),
}
COMMANDS = [
    ["serve"],
    ["serve", "--no-worker"],
    ["worker"],
    ["digest", "--now"],
    ["audit", "verify"],
    ["db", "upgrade"],
]


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in [*BAD_VALUES, "SIGNOFF_CONFIG", "SLACK_APP_TOKEN"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", f"sqlite:///{tmp_path / 'signoff.db'}")
    return tmp_path


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("name", list(BAD_VALUES))
def test_a_bad_setting_is_one_line_naming_it_and_exit_2(
    command: list[str], name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    value, message = BAD_VALUES[name]
    monkeypatch.setenv(name, value)
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [f"signoff: {message}"]
    assert "hunter2" not in err  # a URL's password is never echoed


def test_every_bad_setting_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNOFF_PORT", "0")
    monkeypatch.setenv("SIGNOFF_RETRY_BACKOFF", "never")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert [line.split(" ", 1)[0] for line in raised.value.lines] == [
        "SIGNOFF_PORT='0'",
        "SIGNOFF_RETRY_BACKOFF='never'",
    ]


def test_the_web_api_url_gets_its_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNOFF_SLACK_API_URL", "https://slack-gov.com/api")
    assert load_settings().slack_api_url == "https://slack-gov.com/api/"


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db:5432/signoff", "postgresql+psycopg://u:p@db:5432/signoff"),
        ("postgresql+psycopg://u:p@db/signoff", "postgresql+psycopg://u:p@db/signoff"),
        ("sqlite:////data/signoff.db", "sqlite:////data/signoff.db"),
    ],
)
def test_supported_database_urls_are_taken(given: str, used: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", given)
    assert load_settings().database_url == used


def test_dotenv_is_read_after_the_environment(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SIGNOFF_DATABASE_URL")
    (clean_environment / ".env").write_text(
        f"SIGNOFF_CONFIG={MARKETING_EXAMPLE}\nSIGNOFF_PORT=4000\nSIGNOFF_DATABASE_URL=sqlite:///from-dotenv.db\n"
    )
    monkeypatch.setenv("SIGNOFF_PORT", "5000")
    settings = load_settings()
    assert (settings.port, settings.database_url) == (5000, "sqlite:///from-dotenv.db")  # the environment wins
    assert main(["check"]) == 0  # SIGNOFF_CONFIG from .env, through Settings
    assert "5 kinds, 7 groups" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["audit", "verify"], ["audit", "export"]], ids=" ".join)
def test_audit_on_a_missing_sqlite_file_creates_nothing(
    command: list[str], clean_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(command) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"signoff: there is no database at {clean_environment / 'signoff.db'} (SIGNOFF_DATABASE_URL), "
        "and none was created; check the path, or run `signoff db upgrade` to create it"
    ]
    assert list(clean_environment.iterdir()) == []


def test_the_env_template_lists_every_setting_with_its_default() -> None:
    template = (ROOT / "bot" / "templates" / "env.example").read_text()
    listed = dict(re.findall(r"^#? ?([A-Z][A-Z_]+)=(.*)$", template, flags=re.MULTILINE))
    for field in Settings.model_fields.values():
        assert field.alias in listed, f"{field.alias} is missing from env.example"
        if field.default is not None:
            shown = field.default if not isinstance(field.default, float) else f"{field.default:g}"
            assert listed[field.alias] == str(shown), field.alias


def test_check_and_serve_never_load_the_emulator_or_the_demo() -> None:
    probe = (
        "import sys; import bot.cli, bot.app, bot.lifecycle; "
        "from bot.cli import main; code = main(['check', '--config', sys.argv[1]]); "
        "loaded = sorted(m for m in sys.modules if m.startswith(('bot.slack.emulator', "
        "'bot.slack.socket_mode_emulator', 'bot.demo'))); print(loaded); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(MARKETING_EXAMPLE)], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("environment", "dotenv", "argv", "message"),
    [
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "  "},
            None,
            ["serve"],
            "SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": ""},
            None,
            ["serve"],
            "SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "\t \n"},
            None,
            ["serve"],
            "SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1"},
            b"SLACK_SIGNING_SECRET=\n",
            ["serve"],
            "SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)",
        ),
        (
            {"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "s"},
            None,
            ["worker"],
            "SLACK_BOT_TOKEN is required (xoxb-…)",
        ),
        (
            {"SIGNOFF_CONFIG": ""},
            None,
            ["check"],
            "SIGNOFF_CONFIG='' is not valid (empty); it accepts a file path",
        ),
        (
            {},
            b"\xff\xfeS\x00L\x00",  # UTF-16, as some editors save it
            ["check"],
            ".env is not UTF-8 text; save it as UTF-8 (one NAME=value per line)",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"},
            None,
            ["serve", "--host", "no.such.invalid"],
            "--host no.such.invalid cannot be listened on (Invalid host/port specified.); "
            "it accepts an address or a local name",
        ),
    ],
    ids=[
        "blank signing secret",
        "empty signing secret",
        "whitespace signing secret",
        "signing secret empty in .env",
        "empty bot token",
        "empty config path",
        "dotenv not utf-8",
        "host that does not resolve",
    ],
)
def test_blank_secrets_odd_files_and_hosts_are_one_line_and_exit_2(
    environment: dict[str, str],
    dotenv: bytes | None,
    argv: list[str],
    message: str,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    if dotenv is not None:
        (clean_environment / ".env").write_bytes(dotenv)
    assert main(argv) == 2
    assert capsys.readouterr().err == f"signoff: {message}\n"
    assert not (clean_environment / "signoff.db").exists()  # refused before any work: no database either
