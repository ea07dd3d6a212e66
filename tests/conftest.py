"""Shared helpers: governance from inline YAML, and a fixed moment to evaluate at."""

from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from bot.domain.clock import FixedClock
from bot.domain.governance import Governance
from bot.governance_file import load_governance_text
from bot.services.runtime import Runtime
from storage.engine import create_db_engine
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWorkFactory

ROOT = Path(__file__).resolve().parent.parent
DESIGN_EXAMPLE = ROOT / "tests" / "fixtures" / "design.yaml"
MARKETING_EXAMPLE = ROOT / "examples" / "marketing-ops.yaml"

#: Wednesday 2026-03-04 10:00 in Berlin.
AT = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def governance_from(text: str) -> Governance:
    return load_governance_text(textwrap.dedent(text))


@pytest.fixture
def design_governance() -> Governance:
    return load_governance_text(DESIGN_EXAMPLE.read_bytes())


BACKENDS = ["sqlite", "postgresql"]


def postgres_url() -> str | None:
    return os.environ.get("SIGNOFF_TEST_DATABASE_URL") or None


def database_url_for(backend: str, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'signoff.db'}"
        return
    base = postgres_url()
    if base is None:
        pytest.skip("SIGNOFF_TEST_DATABASE_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_url_for(request.param, tmp_path)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(AT)


def make_runtime(engine: Engine, governance: Governance, clock: FixedClock) -> Runtime:
    return Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=clock)
