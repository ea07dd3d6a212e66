"""Every command that reads or writes what is stored says the same one line of a database that has
no Signoff tables yet (an empty SQLite file: `signoff db upgrade` was never run), exit 1."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import MARKETING_EXAMPLE

NOT_UPGRADED = "signoff: the database has no Signoff tables yet; run `signoff db upgrade`\n"


@pytest.fixture
def empty_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Path:
    # Alembic logs at INFO when it opens a migration context; after a test that configured logging
    # (as `signoff serve` does), those lines would reach stderr. The CLI itself configures none.
    caplog.set_level(logging.WARNING, logger="alembic")
    config = tmp_path / "signoff.yaml"
    config.write_text(MARKETING_EXAMPLE.read_text())
    monkeypatch.setenv("SIGNOFF_CONFIG", str(config))
    database = tmp_path / "signoff.db"
    sqlite3.connect(database).close()  # the file exists, with no tables in it
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", f"sqlite:///{database}")
    (tmp_path / "history.jsonl").write_text("")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "command",
    [
        ["report"],
        ["suggest"],
        ["simulate", "signoff.yaml"],
        ["history", "import", "history.jsonl"],
        ["audit", "verify"],
        ["audit", "export"],
        ["webhooks", "list"],
    ],
    ids=lambda command: " ".join(command),
)
def test_a_database_without_signoff_tables_is_one_line(
    empty_database: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    assert main(command) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", NOT_UPGRADED)
