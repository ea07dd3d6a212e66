"""The bounds of the governance file found past the first hardening (issue 9 review: edge.md items
2, 4, 5, 8; values.md item 9): loose values refused with one located line, what the largest
accepted kind costs per request, files that are not regular files, rules in all kinds together."""

from __future__ import annotations

import os
import random
import string
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.fields import SETTING_FORM
from bot.domain.governance import GovernanceInvalid
from bot.domain.governance_spec import MAX_RULES
from bot.domain.outcome import resolve
from bot.domain.regex import MATCH_INPUT_LIMIT, MAX_KIND_PATTERN_COST, compile_pattern
from bot.governance_file import load_governance_file, load_governance_text
from tests.unit.test_hostile_governance import BASE, WHEN_LINE, with_field, with_when
from tests.unit.test_hostile_governance import test_check_refuses_a_hostile_file_with_one_located_line as check


def alias_chain(links: int, per: int = 60) -> str:
    """Lists nested ``per`` deep, each holding an alias to the one before: 4.7 KB that nest 1,440 deep."""
    out = ["x0: &a0 " + "[" * per + "1" + "]" * per]
    out += [f"x{i}: &a{i} " + "[" * per + f"*a{i - 1}" + "]" * per for i in range(1, links)]
    return "\n".join(out) + "\n"


def rules_of(count: int, rule: str) -> str:
    """BASE with ``count`` flow-style rules written from ``rule`` (``{i}`` is the rule's index)."""
    rules = "".join("      - " + rule.replace("{i}", str(i)) + "\n" for i in range(count))
    return BASE.split("    rules:\n")[0] + "    rules:\n" + rules


NOT_A_NUMBER = (
    "write digits 0-9 with “.” as the decimal mark and “,” only between groups of three, e.g. 1234.5 or 1,234.5"
)
WHOLE = "must be a whole number written without quotes, such as 2"
GOOD_RULE = "{amount: {lt: 5}}"
TOO_COSTLY = "at most 1,000 are allowed (large counted repetitions such as .{1000} cost the most): simplify it"

#: Values that used to pass ``check`` or crash it.
LOOSE = [
    pytest.param(
        alias_chain(24),
        "F:2: mappings and lists nest deeper than 64 levels here (aliases count as what they name); flatten the file",
        id="aliases-nest-deeper",
    ),
    pytest.param(
        with_when(GOOD_RULE).replace("reason: Fine.", "reason: !!binary aGVsbG8="),
        "F:19: the YAML tag !!binary is not allowed: write plain text, numbers, lists and mappings",
        id="binary-reason",
    ),
    pytest.param(
        with_when("!!set {a, b}"),
        f"F:{WHEN_LINE}: the YAML tag !!set is not allowed: write plain text, numbers, lists and mappings",
        id="set-tag",
    ),
    pytest.param(
        with_when(GOOD_RULE).replace("approvers: finance", "approvers: {group: finance, approvals: true}"),
        f"F:14: kinds.deal.approvers[0].approvals: {WHOLE} (true and false are not)",
        id="approvals-true",
    ),
    pytest.param(
        with_when(GOOD_RULE).replace("approvers: finance", "approvers: {group: finance, approvals: '2'}"),
        f"F:14: kinds.deal.approvers[0].approvals: {WHOLE} (“2” is not)",
        id="approvals-quoted",
    ),
    pytest.param(
        with_when(GOOD_RULE) + "        preview: 'false'\n",
        "F:20: kinds.deal.rules[0].preview: must be true or false, written without quotes (“false” is not)",
        id="preview-quoted",
    ),
    pytest.param(
        with_when(GOOD_RULE) + "        limit: {count: " + "9" * 400 + ", window: 30d}\n",
        "F:20: kinds.deal.rules[0].limit.count: must be less than or equal to 100000",
        id="limit-count-400-digits",
    ),
    pytest.param(
        with_when(GOOD_RULE) + "        limit: {count: true, window: 30d}\n",
        f"F:20: kinds.deal.rules[0].limit.count: {WHOLE} (true and false are not)",
        id="limit-count-true",
    ),
    pytest.param(
        with_when(GOOD_RULE) + "        limit: {sum: amount, max: '5_0', window: 30d}\n",
        f"F:20: kinds.deal.rules[0].limit.max: expected a number, got “5_0”, which is text; {SETTING_FORM}",
        id="limit-max-underscore",
    ),
    pytest.param(
        with_when(GOOD_RULE).replace("timezone: UTC", "timezone: Factory"),
        "F:2: timezone: unknown timezone “Factory” (use an IANA Area/Location name such as Europe/Berlin, or UTC)",
        id="timezone-factory",
    ),
    pytest.param(
        with_when(GOOD_RULE).replace("timezone: UTC", "timezone: EST5EDT"),
        "F:2: timezone: unknown timezone “EST5EDT” (use an IANA Area/Location name such as Europe/Berlin, or UTC)",
        id="timezone-posix-style",
    ),
    *(
        pytest.param(
            with_when(f"{{amount: {{lte: {written}}}}}"),
            f"F:{WHEN_LINE}: kinds.deal.rules[0].when.amount.lte: expected a number for amount, got “{written}”",
            id=f"yaml11-{name}",
        )
        for name, written in (("octal", "010"), ("base60", "1:30"), ("hex", "0x1F"), ("underscore", "5_0"))
    ),
    *(
        pytest.param(
            with_field("amount: {type: number}", f"amount: {{type: number, {bound}: {written}}}"),
            f"F:12: kinds.deal.fields.amount.{bound}: expected a number, got “{shown}”, which is text; {SETTING_FORM}",
            id=f"field-{bound}-{shown}",
        )
        for bound, written, shown in (
            ("max", "1:30", "1:30"),
            ("max", '"5_0"', "5_0"),
            ("max", '"1e2"', "1e2"),
            ("max", '"1e-400"', "1e-400"),
            ("min", "0x10", "0x10"),
            ("min", "010", "010"),
            ("max", "0012", "0012"),
        )
    ),
    pytest.param(
        with_field("amount: {type: number}", "amount: {type: number, max: " + "9" * 400 + "}"),
        "F:12: kinds.deal.fields.amount.max: expected a number, got a number with more than 15 digits",
        id="field-max-400-digits",
    ),
    pytest.param(
        with_field("amount: {type: number}", "amount: {type: number, min: true}"),
        f"F:12: kinds.deal.fields.amount.min: expected a number, got true; {NOT_A_NUMBER}",
        id="field-min-true",
    ),
    pytest.param(
        with_when("{account: {matches: '(?s).{1000}Q'}}"),
        f"F:{WHEN_LINE}: kinds.deal.rules[0].when.account.matches: the pattern is too costly to match: "
        f"it compiles to 7,005 RE2 instructions, {TOO_COSTLY}",
        id="matches-too-costly",
    ),
    pytest.param(
        with_field("code: {type: text}", "code: {type: text, pattern: '(?s).{200}'}"),
        f"F:11: kinds.deal.fields.code: pattern is too costly to match: it compiles to 1,404 RE2 instructions, "
        f"{TOO_COSTLY}",
        id="field-pattern-too-costly",
    ),
    pytest.param(
        rules_of(12, "{id: r{i}, when: {account: {matches: '(?s).{130}Q{i}'}}, decide: approve, reason: x}"),
        "F:15: kinds.deal.rules: the patterns of this kind (matches and fields' pattern) compile to 10,994 RE2 "
        "instructions together; at most 10,000 are allowed, as every request runs them all: "
        "use fewer or simpler patterns (in, eq or contains cost nothing)",
        id="kind-patterns-too-costly",
    ),
    pytest.param(
        rules_of(2001, f"{{id: r{{i}}, when: {GOOD_RULE}, decide: approve, reason: x}}"),
        "F:15: kinds.deal.rules: a kind holds at most 2,000 rules, here 2,001",
        id="too-many-rules",
    ),
    pytest.param(
        "version: 1\nx: [" + ", ".join(["1"] * 61_000) + "]\n",
        "F:2: too many values: the file holds more than 60,000 here; split or shorten it",
        id="too-many-values",
    ),
]


@pytest.mark.parametrize(("text", "expected"), LOOSE)
def test_check_refuses_a_loose_value_with_one_located_line(
    text: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    check(text, expected, tmp_path, capsys)


def test_rules_are_counted_across_kinds() -> None:
    rule = f"{{id: r{{i}}, when: {GOOD_RULE}, decide: approve, reason: x}}"
    first = rules_of(MAX_RULES // 2 + 1, rule)
    second = "".join(
        line.replace("  deal:", "  deal2:") + "\n" for line in first.split("\n")[5:] if line
    )  # the same kind again, under another name
    with pytest.raises(GovernanceInvalid) as caught:
        load_governance_text(first + second)
    assert [str(p) for p in caught.value.problems] == [
        f"line 5: kinds: a file holds at most {MAX_RULES:,} rules, here {2 * (MAX_RULES // 2 + 1):,} "
        "in all kinds together"
    ]


def test_numbers_in_file_tests_are_read_by_yaml_1_2() -> None:
    text = with_when(GOOD_RULE) + "    tests:\n      - {fields: {amount: 0x1F}, expect: route}\n"
    kind = load_governance_text(text).spec.kinds["deal"]
    assert kind.tests[0].fields == {"amount": "0x1F"}  # text, which the number field then refuses


#: Patterns of every cost, each repeated until the kind's total is reached: the per-request cost of
#: the largest kind ``check`` accepts. Measured ≤ 20 ms at 3000 characters; 300 rules of
#: ``(?s).{1000}Q…`` (refused now) took 9.5 s.
SHAPES = ["(?s).{140}Q{i}", "(?s).{30}Q{i}", "(?s).{3}Q{i}", "Q{i}", "(\\w+\\s*){1,20}Q{i}", "[^Q]{2,50}Q{i}"]


@pytest.mark.parametrize("shape", SHAPES)
def test_the_costliest_kind_check_accepts_evaluates_a_request_promptly(shape: str) -> None:
    count, total = 0, 0
    while total + compile_pattern(shape.replace("{i}", str(count))).cost <= MAX_KIND_PATTERN_COST:
        total += compile_pattern(shape.replace("{i}", str(count))).cost
        count += 1
    rule = f"{{id: r{{i}}, when: {{account: {{matches: '{shape}'}}}}, decide: approve, reason: x}}"
    governance = load_governance_text(rules_of(count, rule))
    kind = governance.kind("deal")
    assert len(kind.rules) == count
    generator = random.Random(9)
    best = float("inf")
    for _ in range(3):  # a new value each time: what the DFA cached for one value does not help the next
        account = "".join(generator.choice(string.ascii_letters + " \n") for _ in range(MATCH_INPUT_LIMIT))
        started = time.perf_counter()
        resolve(governance, kind, {"account": account}, requester="U0SAM", at=datetime.now(UTC)).receipt()
        best = min(best, time.perf_counter() - started)
    assert best < 0.1  # Slack's ack budget is 3 s; 300 such rules once took 9.5 s


@pytest.mark.parametrize("make", [os.mkfifo, os.mkdir], ids=["fifo", "directory"])
def test_a_path_that_is_not_a_regular_file_is_refused_without_blocking(make: object, tmp_path: Path) -> None:
    path = tmp_path / "signoff.yaml"
    make(path)  # type: ignore[operator]
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            load_governance_file(path)
        except BaseException as exc:  # the outcome is asserted on the test's thread
            outcome.append(exc)
        else:
            outcome.append(None)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=10)  # opening a FIFO for reading waits for a writer: forever, before
    assert not reader.is_alive(), "reading the FIFO blocked"
    (problem,) = outcome
    assert isinstance(problem, GovernanceInvalid)
    assert [str(p) for p in problem.problems] == [
        f"(top level): {path} is not a regular file (a FIFO, device, socket or directory); point to a YAML file"
    ]
