"""Show YAML with a signed but damaged value (QA finding ui.md item 5): every part of the value is
checked, and a value Signoff did not make for the file in force — wrong shapes, deep nesting,
impossible figures, a rule its kind cannot have — gets the damaged-button sentence, never
"Something went wrong on our side"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.slack.suggestion_view import MAX_NESTING, read_suggestion_value, suggestion_value
from handlers.suggestions import SUGGESTION_DAMAGED
from tests.slack.test_http_edge import Edge
from tests.slack.test_summary_suggestions import click, edge, opened, refusals, suggestion

__all__ = ["edge"]  # the fixture, shared with test_summary_suggestions


def valid() -> dict[str, Any]:
    value = suggestion_value(suggestion())
    assert value is not None
    data: dict[str, Any] = json.loads(value)
    return data


def nested(depth: int) -> dict[str, Any]:
    when: dict[str, Any] = {"amount_pct": {"lte": 5}}
    for _ in range(depth - 1):
        when = {"not": when}
    return when


DAMAGED: dict[str, dict[str, Any]] = {
    "tests with null fields": {"t": [{"fields": None, "expect": "explode"}]},
    "a test with null fields, a real outcome": {"t": [{"fields": None, "expect": "approve"}]},
    "a test with an unknown key": {"t": [{"fields": {"amount_pct": 5}, "expect": "approve", "run": "x"}]},
    "a test named by a number": {"t": [{"name": 7, "fields": {"amount_pct": 5}, "expect": "approve"}]},
    "a test's field holds a mapping": {"t": [{"fields": {"amount_pct": {"a": 1}}, "expect": "approve"}]},
    "a test on a field the kind lacks": {"t": [{"fields": {"no_such_field": 5}, "expect": "approve"}]},
    "deep lists in when": {"w": {"a": json.loads("[" * 400 + "]" * 400)}},
    "when nested too deep": {"w": nested(MAX_NESTING + 1)},
    "when on an unknown field": {"w": {"no_such_field": {"lte": 5}}},
    "when with an unknown operator": {"w": {"amount_pct": {"about": 5}}},
    "when with a YAML tag as key": {"w": {"!!python/object:os.system": {"lte": 5}}},
    "when empty": {"w": {}},
    "when compares with a mapping": {"w": {"amount_pct": {"lte": {"x": 1}}}},
    "an operator that does not fit the type": {"w": {"amount_pct": {"matches": "^5$"}}},
    "negative counts": {"n": [-1, -1, 0, 1]},
    "huge counts": {"n": [10**30, 10**30, 0, 3]},
    "counts that do not add up": {"n": [80, 90, 0, 3]},
    "a boolean count": {"n": [True, True, 0, 3]},
    "coverage NaN": {"c": float("nan")},
    "coverage above 1": {"c": 5},
    "coverage below 0": {"c": -0.5},
    "a negative median wait": {"m": -2},
    "an infinite median wait": {"m": float("inf")},
    "an example that is no request id": {"e": ["REQ-1\nrules: [x]"]},
    "a rule id the file refuses": {"i": "r\n- id: injected"},
    "a reason longer than the file allows": {"r": "x" * 501},
    "a test value no YAML reads back as it is": {"t": [{"fields": {"amount_pct": 1e17}, "expect": "approve"}]},
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_value_reads_as_nothing_or_as_a_rule_the_kind_cannot_have(case: str) -> None:
    data = valid() | DAMAGED[case]
    carried = read_suggestion_value(json.dumps(data, separators=(",", ":")))
    kind_checks = {
        "a test on a field the kind lacks",
        "when on an unknown field",
        "an operator that does not fit the type",
        "a rule id the file refuses",
        "a reason longer than the file allows",
        "a test value no YAML reads back as it is",  # refused when rendered (bot.rule_yaml.NotWritable)
    }
    assert (carried is None) is (case not in kind_checks)


def test_a_click_on_any_damaged_value_gets_the_damaged_sentence_and_opens_nothing(edge: Edge) -> None:
    for n, case in enumerate(sorted(DAMAGED), start=1):
        value = json.dumps(valid() | DAMAGED[case], separators=(",", ":"))
        click(edge, value, trigger=f"t-{n}")
        assert edge.slack.wait_for(lambda s, n=n: len(refusals(edge)) == n, timeout=5), case
        assert refusals(edge)[-1] == f":warning: {SUGGESTION_DAMAGED}", case
    assert opened(edge) == []
    good = suggestion_value(suggestion())
    assert good is not None
    click(edge, good, trigger="t-good")  # the same edge still opens a sound one
    assert edge.slack.wait_for(lambda s: len(opened(edge)) == 1, timeout=5)
