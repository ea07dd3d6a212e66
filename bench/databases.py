"""The databases a bench runs on: a SQLite file, and PostgreSQL in a fresh schema when it answers."""

from __future__ import annotations

import os

from sqlalchemy import create_engine

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_in_schema(schema: str) -> str | None:
    """``$SIGNOFF_BENCH_DATABASE_URL`` (else the local server) in a fresh, empty ``schema``; None, after
    a line saying so, when PostgreSQL does not answer."""
    url = os.environ.get("SIGNOFF_BENCH_DATABASE_URL") or DEFAULT_POSTGRES
    try:
        probe = create_engine(url)
        with probe.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        probe.dispose()
    except Exception as exc:
        print(f"PostgreSQL skipped: {url} is not reachable ({exc.__class__.__name__})")
        return None
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
