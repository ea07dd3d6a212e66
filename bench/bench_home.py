"""App Home's "Your kinds" figures (``owner_figures``: the last 7 and 30 days of one owner's kinds)
over 10,000 and 100,000 stored requests, and the weekly summary's chart.

Run:  python -m bench.bench_home [N …]   (default 10000 100000; SQLite, and PostgreSQL when reachable)

The rows are ``bench.bench_report``'s: spread over 90 days, two thirds of them of the owner's kind.
Prints the median of three runs of the figures (what the Home handler waits for before
``views.publish``), the requests they cover, and the time to draw the chart PNG.
"""

from __future__ import annotations

import sys
import tempfile
import time

from bench.bench_report import GOVERNANCE, NOW, backends, fill, measure
from bot.charts import share_by_week_png
from bot.domain.clock import FixedClock
from bot.governance_file import load_governance_text
from bot.services.runtime import Runtime
from bot.services.surface_summary import owner_figures
from bot.slack.blocks import home_view
from bot.slack.surface_blocks import your_kinds_blocks
from storage.engine import create_db_engine
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWorkFactory


def run(name: str, url: str, count: int) -> None:
    governance = load_governance_text(GOVERNANCE)
    engine = create_db_engine(url)
    upgrade(engine)
    fill(engine, count, governance.version)
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=FixedClock(NOW))

    def figures() -> int:
        surface = owner_figures(runtime=runtime, owner="U0FINLEAD")
        assert surface is not None
        home_view(waiting=[], mine=[], delegation=None, kinds=your_kinds_blocks(surface))
        return surface.kinds[0].month.requests

    seconds, mib, covered = measure(figures)
    surface = owner_figures(runtime=runtime, owner="U0FINLEAD")
    assert surface is not None
    start = time.perf_counter()
    png = share_by_week_png(surface.month, kinds=surface.kind_names)
    chart = time.perf_counter() - start
    print(f"{name:<11} {count:>7} {covered:>9} {seconds * 1000:>9.0f} {mib:>7.1f} {chart * 1000:>9.0f} {len(png):>9}")
    engine.dispose()


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    print(f"{'backend':<11} {'N':>7} {'30 d reqs':>9} {'home ms':>9} {'MiB':>7} {'chart ms':>9} {'PNG bytes':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for count in counts:
            for name, url in backends(folder, count):
                run(name, url, count)
    print("home ms: owner_figures (7 and 30 days of the owner's kind) and the Home view, median of 3")


if __name__ == "__main__":
    main()
