"""The ``tests:`` of a governance file: example requests and what must happen to them.

Like ``opa test`` for policies: ``signoff test`` runs them all, so that a reviewed change
to a rule shows which decisions it changes before it is merged.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.domain.contracts import ContractError
from bot.domain.governance import Governance
from bot.domain.governance_spec import Decision, KindTestSpec
from bot.domain.moments import parse_datetime
from bot.domain.outcome import Resolution, resolve

#: Who files a test request that names no requester: someone in no group.
TEST_REQUESTER = "U0TESTER"


@dataclass(frozen=True)
class FileTestResult:
    kind: str
    index: int
    spec: KindTestSpec
    failures: tuple[str, ...]
    resolution: Resolution | None

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def title(self) -> str:
        name = self.spec.name or ", ".join(f"{k}={v}" for k, v in self.spec.fields.items())
        return f"{self.kind}.tests[{self.index}] {name}"


def run_file_tests(governance: Governance, *, now: datetime) -> list[FileTestResult]:
    """Run every kind's tests; a test without ``at`` is evaluated as of ``now``."""
    results = []
    for kind in governance.kinds.values():
        for index, test in enumerate(kind.spec.tests):
            requester = test.requester or TEST_REQUESTER
            try:
                # ``at`` is read like ``explain --at``: bounded, never a time the timezone skips; a date is its start.
                at = parse_datetime(test.at, governance.tz, bare_date=True) if test.at is not None else now
            except ValueError as exc:
                results.append(FileTestResult(kind.name, index, test, (f"at is not valid: {exc}",), None))
                continue
            try:
                fields = governance.validate_fields(kind, test.fields, at=at)
            except ContractError as exc:
                failures = tuple(f"fields are not valid: {problem}" for problem in exc.problems)
                results.append(FileTestResult(kind.name, index, test, failures, None))
                continue
            resolution = resolve(governance, kind, fields, requester=requester, at=at)
            failures = _compare(test, resolution, {rule.id for rule in kind.shadows})
            results.append(FileTestResult(kind.name, index, test, failures, resolution))
    return results


def _compare(test: KindTestSpec, resolution: Resolution, shadows: Collection[str]) -> tuple[str, ...]:
    """What differs from the test's expectations. ``expect``, ``rule`` and ``steps`` are about
    live rules only: a shadow rule never decides, so naming one fails, and says so."""
    failures = []
    trialled = {verdict.rule: verdict.decide for verdict in resolution.shadow}
    if resolution.outcome is not test.expect:
        got = resolution.outcome.value + (f" by {resolution.rule}" if resolution.rule else "")
        in_shadow = [rule for rule, decide in trialled.items() if decide.value == test.expect.value]
        failures.append(f"expected {test.expect.value}, got {got}" + _in_shadow(in_shadow))
    if test.rule is not None and test.rule not in resolution.rules:
        decided = ", ".join(resolution.rules) or "no rule"
        failures.append(
            f"expected rule {test.rule} to decide, but {decided} did"
            + _in_shadow([test.rule] if test.rule in shadows else [])
        )
    if test.steps is not None:
        got_steps = [step.group for step in resolution.steps]
        if got_steps != test.steps:
            failures.append(f"expected steps [{', '.join(test.steps)}], got [{', '.join(got_steps)}]")
    if test.shadow is not None and trialled != test.shadow:
        failures.append(f"expected shadow verdicts {_verdicts(test.shadow)}, got {_verdicts(trialled)}")
    return tuple(failures)


def _in_shadow(rules: list[str]) -> str:
    """``; rule small-budget is in shadow (mode: shadow): a shadow rule never decides``, or nothing."""
    if not rules:
        return ""
    names = ", ".join(rules)
    verb = "is" if len(rules) == 1 else "are"
    return f"; rule {names} {verb} in shadow (mode: shadow): a shadow rule never decides"


def _verdicts(verdicts: Mapping[str, Decision]) -> str:
    return "{" + ", ".join(f"{rule}: {decide.value}" for rule, decide in verdicts.items()) + "}"
