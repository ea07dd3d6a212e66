"""Every command that reads or writes what is stored says the same one line of a database that has
no Signoff tables yet (an empty SQLite file: `signoff db upgrade` was never run), exit 1."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from storage.migrate import expected_revisions
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


COMMANDS = [
    ["report"],
    ["suggest"],
    ["simulate", "signoff.yaml"],
    ["history", "import", "history.jsonl"],
    ["audit", "verify"],
    ["webhooks", "list"],
]


def at_revision(database: Path, revision: str) -> None:
    """Migrate ``database`` only as far as ``revision`` (an install that has not run `db upgrade` since)."""
    from alembic import command
    from sqlalchemy import create_engine

    from storage.migrate import _config

    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command))
def test_a_database_at_an_older_schema_is_one_line_naming_the_upgrade(
    empty_database: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    at_revision(empty_database / "signoff.db", "0005")
    capsys.readouterr()
    assert main(command) == 1
    out, err = capsys.readouterr()
    needed = ", ".join(sorted(expected_revisions()))
    assert out == ""
    assert (
        err
        == f"signoff: the database is at schema revision 0005; this Signoff needs {needed}: run `signoff db upgrade`\n"
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command))
def test_a_database_at_a_revision_this_signoff_does_not_know_is_one_line(
    empty_database: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    with sqlite3.connect(empty_database / "signoff.db") as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('0099')")
    assert main(command) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(
        "signoff: the database is at schema revision 0099, which this Signoff does not know"
    )
    assert err.count("\n") == 1
