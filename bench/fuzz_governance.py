"""Fuzz the governance loader for a while: ``python -m bench.fuzz_governance [SECONDS]``.

Runs the properties of ``tests/unit/test_governance_fuzz.py`` (arbitrary bytes, YAML-ish text,
mutations of the example file) round-robin until SECONDS (default 180) have passed, and prints
how many inputs were tried. Any input that makes the loader raise anything but located problems
fails the run with Hypothesis's minimal example.
"""

from __future__ import annotations

import sys
import time

from hypothesis import HealthCheck, given, settings

from tests.unit import test_governance_fuzz as fuzz

ROUND = 500


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 180.0
    long_run = settings(
        max_examples=ROUND,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    check = fuzz.only_located_problems_or_a_governance
    properties = [long_run(given(strategy)(check)) for strategy in fuzz.STRATEGIES.values()]
    started = time.perf_counter()
    rounds = 0
    while time.perf_counter() - started < seconds:
        properties[rounds % len(properties)]()  # each call draws fresh random inputs
        rounds += 1
    wall = time.perf_counter() - started
    print(f"governance loader fuzz: {fuzz.TRIED[0]:,} inputs in {wall:.0f} s ({rounds} rounds), no crash")


if __name__ == "__main__":
    main()
