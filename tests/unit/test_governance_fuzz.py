"""Fuzzing the governance loader: whatever the bytes, the only outcomes are a loaded governance
or located problems (``GovernanceInvalid``) — never another exception, a stall or a crash.
A governance that loads also runs its own tests and builds receipts without an exception.

Short by default (``SIGNOFF_FUZZ_EXAMPLES``, 200 per strategy); ``bench/fuzz_governance.py``
runs the same properties for minutes and reports how many inputs it tried.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.filetests import run_file_tests
from bot.domain.governance import ERROR, GovernanceInvalid
from bot.governance_file import load_governance_text

EXAMPLES = int(os.environ.get("SIGNOFF_FUZZ_EXAMPLES", "200"))
VALID = (Path(__file__).parents[2] / "examples" / "marketing-ops.yaml").read_text()
#: How many inputs the properties below have been given (``bench/fuzz_governance.py`` reports it).
TRIED = [0]

FRAGMENTS = [
    *("version: 1\n", "timezone: UTC\n", "groups:\n", "kinds:\n", "  ", "    ", "- ", "\n", ": ", ", "),
    *("&a ", "&b ", "*a", "*b", "<<: *a\n", "? ", "|\n", ">-\n", "# c\n", "\t", "---\n", "...\n", "%YAML 1.1\n"),
    *("[", "]", "{", "}", '"', "'", "\\", "!!python/object:os.system ", "!!set ", "!!binary ", "!!omap ", "!x "),
    *("members: [U0A, U0B]\n", "owner: U0O\n", "approvers: g\n", "fields:\n", "a: {type: text}\n"),
    *("n: {type: number}\n", "d: {type: date}\n", "rules:\n", "- id: r\n", "when: ", "decide: approve\n"),
    *("reason: R\n", "all: ", "any: ", "not: ", "{n: {lt: 5}}", "{a: {matches: '(a+)+$'}}", "'(?=x)'"),
    *("{d: {lt: '+999999w'}}", "'-36501d'", "1e309", "-0", "0x10", "2024-02-30", "~", "null", "yes", "\x00"),
    *("\ufeff", "\u2028", "\x85", "é", "\U0001f600", "9" * 40),
    *("[" * 70, "{a: " * 70, "- " * 70, "x: &a [*a]\n", "b: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"),
]
yamlish = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=60).map("".join)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """The valid example file with a few slices deleted, duplicated or replaced by fragments."""
    text = VALID
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 40)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate", "replace"]))
        piece = draw(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)))
        if action == "delete":
            text = text[:start] + text[end:]
        elif action == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        elif action == "replace":
            text = text[:start] + piece + text[end:]
        else:
            text = text[:start] + piece + text[start:]
    return text


def only_located_problems_or_a_governance(content: str | bytes) -> None:
    TRIED[0] += 1
    try:
        governance = load_governance_text(content)
    except GovernanceInvalid as exc:
        assert exc.problems
        assert any(p.severity == ERROR for p in exc.problems)
        assert all(p.message and "Traceback" not in p.message for p in exc.problems)
        return
    for result in run_file_tests(governance, now=datetime(2026, 6, 1, 12, tzinfo=UTC)):
        if result.resolution is not None:
            result.resolution.receipt()


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


#: The strategies the tests below (and ``bench/fuzz_governance.py``) draw from.
STRATEGIES = {"bytes": st.binary(max_size=2000), "yamlish": yamlish, "mutated": mutated()}


@FUZZ
@given(STRATEGIES["bytes"])
def test_arbitrary_bytes(content: bytes) -> None:
    only_located_problems_or_a_governance(content)


@FUZZ
@given(STRATEGIES["yamlish"])
def test_yamlish_text(content: str) -> None:
    only_located_problems_or_a_governance(content)


@FUZZ
@given(STRATEGIES["mutated"])
def test_mutations_of_a_valid_file(content: str) -> None:
    only_located_problems_or_a_governance(content)
