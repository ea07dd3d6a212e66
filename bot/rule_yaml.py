"""Suggested rules written as governance-file YAML (DESIGN §8): what ``suggest --write`` adds to
the file and what the owner's **Show YAML** modal shows, the same text in both places.

An adapter (it uses PyYAML's emitter, never string templates for values, so any text a
suggestion carries is quoted as YAML needs); the domain only builds plain data
(``bot.domain.suggestions.Suggestion``).
"""

from __future__ import annotations

from typing import Any

import yaml

from bot.domain.suggestions import Suggestion


def _dump(data: Any) -> str:
    text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    return text


def evidence_comment(suggestion: Suggestion) -> list[str]:
    """The evidence as YAML comment lines (``# …``), one fact per line."""
    verdict = "approved" if suggestion.decide == "approve" else "rejected"
    agreeing = suggestion.approved if suggestion.decide == "approve" else suggestion.rejected
    lines = [
        f"suggested by `signoff suggest`: people {verdict} {agreeing} of {suggestion.support} such requests",
        f"decided by {suggestion.approvers} approvers; median wait {suggestion.median_wait_hours:.1f} h;",
        f"would have resolved {suggestion.coverage:.0%} of this kind's human decisions",
    ]
    if suggestion.examples:
        lines.append("examples: " + ", ".join(suggestion.examples))
    return [f"# {line}" for line in lines]


def rule_yaml(suggestion: Suggestion) -> str:
    """The rule as one item of a kind's ``rules:`` list, preceded by its evidence comment."""
    return "\n".join(evidence_comment(suggestion)) + "\n" + _dump([suggestion.rule()])


def tests_yaml(suggestion: Suggestion) -> str:
    """The suggestion's tests as items of a kind's ``tests:`` list ("" when it has none)."""
    return _dump([dict(test) for test in suggestion.tests]) if suggestion.tests else ""


def suggestion_yaml(suggestion: Suggestion) -> str:
    """What an owner reviews: the rule under ``rules:`` and its tests under ``tests:``, for ``kind``."""
    text = f"# kind: {suggestion.kind}\nrules:\n" + _indent(rule_yaml(suggestion))
    tests = tests_yaml(suggestion)
    if tests:
        text += "tests:\n" + _indent(tests)
    return text


def _indent(text: str) -> str:
    return "".join(f"  {line}" if line.strip() else line for line in text.splitlines(keepends=True))
