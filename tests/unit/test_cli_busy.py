"""Another process holds SQLite's write lock (as `signoff history import` does for its whole run):
commands that store nothing read on (WAL readers need no write lock); a command that writes says
one line naming SIGNOFF_DATABASE_URL, in bounded time, never a traceback."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import storage.engine
from bot.cli import main
from tests.unit.test_cli_history import GOOD
from tests.unit.test_cli_report import stored  # noqa: F401 — the fixture: three requests in a SQLite file

BUSY = "signoff: the database at SIGNOFF_DATABASE_URL is busy"


@pytest.fixture
def writer(stored: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[Path]:  # noqa: F811
    """A second connection holding ``BEGIN IMMEDIATE`` on the database; the busy timeout cut to 0.2 s."""
    caplog.set_level(logging.WARNING, logger="alembic")
    monkeypatch.setattr(storage.engine, "SQLITE_BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(stored / "signoff.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield stored
    holder.execute("ROLLBACK")
    holder.close()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "command",
    [
        ("report",),
        ("report", "--format", "json"),
        ("simulate", "signoff.yaml"),
        ("audit", "verify"),
        ("audit", "export"),
    ],
)
def test_commands_that_store_nothing_read_while_another_process_writes(
    writer: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    code, out, err = run(capsys, *command)
    assert (code, err.startswith(BUSY)) == (0, False), err
    assert out


def test_a_writing_command_says_the_database_is_busy_in_one_line(
    writer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = writer / "old.jsonl"
    rows.write_text(json.dumps(GOOD) + "\n")
    code, _, err = run(capsys, "history", "import", str(rows))
    assert code == 1
    assert err.startswith(BUSY) and err.count("\n") == 1, err
    code, _, err = run(capsys, "db", "upgrade")
    assert code == 1
    assert err.startswith(BUSY) and err.count("\n") == 1, err
