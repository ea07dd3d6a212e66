"""``signoff suggest`` over 10,000 and 100,000 stored requests, beside reading the same rows with one query.

Run:  python -m bench.bench_suggest [N …]   (default 10000 100000; SQLite, and PostgreSQL when reachable)

The rows are latent-policy history (``tests.latent_history``: three kinds, routine, reject,
judgement and habit regions, 1 % noise, cancellations and expiries), stored with ``signoff history
import``. The suggest side is ``bot.services.suggest.suggest_defaults`` (the streamed read with
contents, every row's fields validated, the miner, the checks with ``resolve``); the baseline runs
the same SELECT (requests with contents joined with votes) once and keeps its rows (``.all()``).
Each side runs three times timed (the median counts), then once under ``tracemalloc`` for its
peak memory (Python allocations only, measured in this process). It prints both sides, the ratios
suggest / baseline, and how many suggestions were found.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from bench.databases import postgres_in_schema
from bot.cli import main as signoff
from bot.domain.clock import FixedClock
from bot.domain.surface import Window
from bot.governance_file import load_governance_text
from bot.services.runtime import Runtime
from bot.services.suggest import suggest_defaults
from storage.engine import create_db_engine
from storage.surface_store import CONTENTS
from storage.tables import REQUESTS
from storage.uow import SqlUnitOfWorkFactory
from tests.latent_history import LATENT_GOVERNANCE, history, write_jsonl

WINDOW = Window(datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
ROUNDS = 3


def measure(work: Callable[[], object]) -> tuple[float, float, object]:
    """(seconds, peak MiB of Python allocations, result): the median of ``ROUNDS`` timed runs, one traced run."""
    times = []
    result: object = None
    for _ in range(ROUNDS):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return statistics.median(times), peak, result


def fill(folder: Path, url: str, count: int) -> None:
    """``count`` rows of latent history (whole months of up to 10,000 rows), imported with the CLI."""
    months = [date(2025 + (m // 12), 1 + m % 12, 1) for m in range(max(1, -(-count // 10_000)))]
    rows, _ = history(months=months, count=count // len(months), seed=5)
    write_jsonl(folder / "history.jsonl", rows)
    (folder / "signoff.yaml").write_text(LATENT_GOVERNANCE)
    os.environ.update(SIGNOFF_CONFIG=str(folder / "signoff.yaml"), SIGNOFF_DATABASE_URL=url)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert signoff(["db", "upgrade"]) == 0
        assert signoff(["history", "import", str(folder / "history.jsonl")]) == 0


def run(name: str, url: str, folder: Path, count: int) -> None:
    fill(folder, url, count)
    governance = load_governance_text(LATENT_GOVERNANCE)
    engine = create_db_engine(url)
    runtime = Runtime(
        uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=FixedClock(datetime.now(UTC))
    )

    def baseline() -> int:
        with engine.connect() as connection:
            rows = connection.execute(CONTENTS.where(REQUESTS.c.created_at >= WINDOW.start)).all()
        return len(rows)

    def suggest() -> tuple[int, int]:
        report = suggest_defaults(runtime, window=WINDOW)
        return report.requests, len(report.suggestions)

    base_s, base_mib, rows = measure(baseline)
    suggest_s, suggest_mib, result = measure(suggest)
    assert isinstance(result, tuple)
    requests, found = result
    print(
        f"{name:<11} {requests:>7} {rows:>7} {base_s:>8.2f} {base_mib:>9.1f} {suggest_s:>10.2f} {suggest_mib:>11.1f}"
        f" {suggest_s / base_s:>7.2f}× {suggest_mib / base_mib:>7.2f}× {found:>5}"
    )
    engine.dispose()


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    print(
        f"{'backend':<11} {'N':>7} {'rows':>7} {'query s':>8} {'query MiB':>9} {'suggest s':>10} {'suggest MiB':>11}"
        f" {'time':>8} {'memory':>8} {'found':>5}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for count in counts:
            places = [("SQLite", f"sqlite:///{Path(folder) / f'bench{count}.db'}")]
            postgres = postgres_in_schema(f"bench_suggest_{count}")
            places += [("PostgreSQL", postgres)] if postgres else []
            for name, url in places:
                run(name, url, Path(folder), count)
    print("rows: requests with contents joined with their votes; time and memory: suggest / one query")


if __name__ == "__main__":
    main()
