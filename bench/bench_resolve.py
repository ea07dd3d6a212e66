"""How long one request takes to resolve as kinds grow to 10, 100 and 1,000 rules.

Run:  python -m bench.bench_resolve

For each size it prints the median time of ``resolve`` (every rule evaluated, the outcome
by precedence, the reason) beside a plain Python function that makes the same comparisons
on the same data with no engine around it, measured in the same run, and the ratio of the
two. Target: ≤ 20 µs per request at 100 rules, and cost growing no worse than linearly;
building the receipt (+receipt minus the decision) ≤ 50 µs at 100 rules. Last, the size of
the stored receipt (its JSON) at 10, 100 and 10,000 rules.
"""

from __future__ import annotations

import json
import operator
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from bot.domain.governance import Governance
from bot.domain.governance_build import build_governance
from bot.domain.outcome import resolve

SIZES = (10, 100, 1000)
AT = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
OPS = {"lte": operator.le, "gt": operator.gt, "gte": operator.ge, "lt": operator.lt}


def make_rules(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Rules in the proportions real files have: mostly approves, some rejects and requires."""
    rng = random.Random(seed)
    rules = []
    for i in range(count):
        roll = i % 10
        if roll < 6:
            rules.append(
                {
                    "id": f"approve-{i}",
                    "when": {"amount": {"lte": rng.randint(1, 9)}},
                    "decide": "approve",
                    "reason": "ok",
                }
            )
        elif roll < 8:
            rules.append(
                {
                    "id": f"reject-{i}",
                    "when": {"amount": {"gt": rng.randint(95, 99)}},
                    "decide": "reject",
                    "reason": "no",
                }
            )
        else:
            rules.append(
                {
                    "id": f"require-{i}",
                    "when": {"value": {"gte": rng.randint(900_000, 999_999)}},
                    "require": "cmo",
                    "reason": "big",
                }
            )
    return rules


def make_governance(rules: list[dict[str, Any]]) -> Governance:
    data = {
        "version": 1,
        "groups": {"finance": {"members": ["U0FIN"]}, "cmo": {"members": ["U0CMO"]}},
        "kinds": {
            "deal": {
                "title": "Deal",
                "owner": "U0OWNER",
                "fields": {
                    "amount": {"type": "number", "required": True},
                    "value": {"type": "money"},
                    "region": {"type": "choice", "options": ["emea", "amer"]},
                },
                "approvers": "finance",
                "rules": rules,
            }
        },
    }
    return build_governance(data, version="bench")


def make_baseline(rules: list[dict[str, Any]]) -> Callable[[dict[str, Any]], str]:
    """The same comparisons as a hand-written function: no trace, no receipt, no reason."""
    compiled = []
    for rule in rules:
        ((field, spec),) = rule["when"].items()
        ((op, expected),) = spec.items()
        effect = rule.get("decide") or "require"
        compiled.append((field, OPS[op], expected, effect))

    def decide(fields: dict[str, Any]) -> str:
        matched = []
        for field, compare, expected, effect in compiled:
            value = fields.get(field)
            if value is not None and compare(value, expected):
                matched.append(effect)
        if "reject" in matched:
            return "reject"
        if "require" in matched:
            return "route"
        if "approve" in matched:
            return "approve"
        return "route"

    return decide


def median_us(function: Callable[[], object], *, rounds: int = 15, budget_s: float = 0.25) -> float:
    calls = 1
    while True:  # calibrate so that one round takes about budget_s / rounds
        start = time.perf_counter()
        for _ in range(calls):
            function()
        elapsed = time.perf_counter() - start
        if elapsed > budget_s / rounds:
            break
        calls *= 2
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples)


REQUESTS = {
    "auto-approved": {"amount": 1, "region": "emea"},
    "routed": {"amount": 50, "region": "emea"},
}


def main() -> None:
    print("signoff µs: the decision (outcome, deciding rules, steps); +receipt µs: also the reason and the")
    print("full trace as the JSON receipt that is stored with a request; baseline: the bare comparisons.")
    header = ("rules", "request", "signoff µs", "+receipt µs", "baseline µs", "ratio", "µs/rule")
    print("{:>6} {:>14} {:>11} {:>12} {:>12} {:>6} {:>8}".format(*header))
    per_rule: dict[str, list[float]] = {name: [] for name in REQUESTS}
    receipts: dict[str, float] = {}
    for size in SIZES:
        rules = make_rules(size)
        governance = make_governance(rules)
        kind = governance.kind("deal")
        baseline = make_baseline(rules)
        for name, fields in REQUESTS.items():
            values = governance.validate_fields(kind, fields, at=AT)
            decide = partial(resolve, governance, kind, values, requester="U0SAM", at=AT)
            assert decide().outcome.value == baseline(dict(values)), (size, name)
            ours = median_us(decide)
            theirs = median_us(partial(baseline, values))
            full = median_us(lambda decide=decide: decide().receipt(), rounds=5)  # type: ignore[misc]
            per_rule[name].append(ours / size)
            if size == 100:
                receipts[name] = full - ours
            row = (
                size,
                name,
                f"{ours:.2f}",
                f"{full:.1f}",
                f"{theirs:.2f}",
                f"{ours / theirs:.1f}x",
                f"{ours / size:.3f}",
            )
            print("{:>6} {:>14} {:>11} {:>12} {:>12} {:>6} {:>8}".format(*row))
    for name, cost in receipts.items():
        print(f"{name}: building the receipt at 100 rules takes {cost:.1f} µs (≤ 50 µs)")
    for name, costs in per_rule.items():
        growth = costs[-1] / costs[0]
        print(
            f"{name}: cost per rule at {SIZES[-1]} rules is {growth:.2f}x that at {SIZES[0]} rules"
            " (≤ 1: linear or better)"
        )
    receipt_sizes()


def receipt_sizes() -> None:
    """The stored receipt's size as a kind grows: the trace keeps at most 20 rules in full."""
    for size in (10, 100, 2_000):  # 2,000: the most rules a file holds (governance_spec.MAX_RULES)
        governance = make_governance(make_rules(size))
        kind = governance.kind("deal")
        sizes = []
        for name, fields in REQUESTS.items():
            values = governance.validate_fields(kind, fields, at=AT)
            receipt = resolve(governance, kind, values, requester="U0SAM", at=AT).receipt()
            sizes.append(f"{name} {len(json.dumps(receipt).encode()):,} bytes")
        print(f"receipt at {size:,} rules: " + ", ".join(sizes))


if __name__ == "__main__":
    main()
