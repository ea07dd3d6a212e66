"""Every YAML text Signoff writes says what the data says (QA finding ui.md item 2): a suggested
rule and its tests, in ``signoff suggest``'s output, the Show YAML modal and the file
``suggest --write`` writes, read back with ``signoff check``'s reader, are exactly the suggestion —
no folded long line, no U+2028 / U+2029 / NEL read as a line break, no look-alike, no text read
as a number. What no YAML can say is refused with one line naming the rule."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import rule_yaml as writer
from bot.cli_suggest import _yaml_block
from bot.domain.suggestions import Suggestion
from bot.governance_file import load_governance_text, read_yaml
from bot.rule_yaml import NotWritable, rule_yaml, same, suggestion_yaml, with_suggestions
from bot.slack.suggestion_view import Carried, suggestion_modal
from tests.unit.test_rule_yaml import BASE, LAYOUTS

TEXT_BASE = BASE.replace(
    "      p: {type: number, required: true}\n",
    "      p: {type: number, required: true}\n      account: {type: text, multiline: true}\n",
)

SPECIALS = [
    "sep\u2028line", "\u2029para", "next\x85line", "\u2028", "tab\there", "it's", 'say "hi"', "#not a comment",
    "a: b", "- x", " leading", "trailing ", "yes", "no", "null", "~", "true", "1e3", "010", "0x1F", "1_000",
    "2024-01-01", "&anchor", "*alias", "!tag", "%x", "@x", "`tick`", "[x]", "{x}", "a\nb", "a\r\nb", "é ü 漢",
    "x" * 600, ("word " * 150).strip(), "\ufeffbom", "nul\x00", "\x1b[31m", "",
]  # fmt: skip
texts = st.one_of(
    st.sampled_from(SPECIALS),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.text(st.sampled_from(list("ab :#'\"\t\n\r\x85\u2028\u2029\\-?,[]{}")), max_size=30),
    st.builds(lambda a, b: a * 130 + b, st.sampled_from(["word ", "a", "\u2028 "]), st.text(max_size=5)),
)


def suggestion_with(value: str) -> Suggestion:
    return Suggestion(
        kind="d",
        rule_id="suggested-account",
        when={"account": {"in": [value]}},
        decide="approve",
        reason=f"People approved {value[:100]!r}.",
        support=40,
        approved=40,
        rejected=0,
        approvers=3,
        coverage=0.5,
        median_wait_hours=1.0,
        examples=("REQ-1",),
        tests=(
            {"name": value, "fields": {"account": value, "p": 5}, "expect": "approve", "rule": "suggested-account"},
        ),
    )


def meant(s: Suggestion) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return s.rule(), [dict(t) for t in s.tests]


def under_key(block: str) -> object:
    data = read_yaml("key:\n" + "".join("  " + line if line.strip() else line for line in block.splitlines(True)))
    assert isinstance(data, dict)
    return data["key"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_any_text_value_reads_back_exactly_wherever_it_is_written(value: str) -> None:
    s = suggestion_with(value)
    rule, tests = meant(s)
    assert same(under_key(rule_yaml(s)), [rule])
    assert same(under_key(writer.tests_yaml(s)), tests)
    shown = suggestion_yaml(s)
    assert same(read_yaml(shown), {"rules": [rule], "tests": tests})
    assert all(line == line.rstrip("\u2028\u2029\x85\r") for line in shown.split("\n"))
    assert len(shown.splitlines()) == len(shown.split("\n")) - shown.endswith("\n")  # "\n" ends every line
    for layout in ("no keys", "flow lists", "block lists and comments"):
        source = LAYOUTS[layout].replace(BASE, TEXT_BASE)
        written = read_yaml(with_suggestions(source, [s]))
        assert isinstance(written, dict)
        kind = written["kinds"]["d"]
        assert same(kind["rules"][-1], rule) and same(kind["tests"][-1], tests[0]), layout


@pytest.mark.parametrize("value", ["sep\u2028line", "next\x85line", "x" * 600, "1e3", "\u2029"])
def test_the_file_suggest_write_writes_loads_with_the_value_as_it_was(value: str) -> None:
    governance = load_governance_text(with_suggestions(TEXT_BASE, [suggestion_with(value)]))
    test = governance.kinds["d"].spec.tests[-1]
    assert test.fields["account"] == value and test.name == value
    assert "\u2028" not in suggestion_yaml(suggestion_with(value))  # written escaped, on one line


def test_what_no_yaml_can_say_is_refused_in_one_line_naming_the_rule() -> None:
    s = replace(suggestion_with("x"), tests=({"fields": {"p": float("nan")}, "expect": "approve"},))
    with pytest.raises(NotWritable, match=r"^a test of the suggested rule “suggested-account” of d cannot be written"):
        suggestion_yaml(s)
    with pytest.raises(NotWritable, match="suggested-account"):
        with_suggestions(TEXT_BASE, [s])


@pytest.mark.parametrize("value", ["sep\u2028line", "para\u2029", "next\x85line", "Acme `x`", "x" * 600])
def test_the_show_yaml_modal_holds_the_same_yaml_and_it_reads_back_exactly(value: str) -> None:
    s = suggestion_with(value)
    modal = suggestion_modal(Carried(s))
    pre = [b["elements"][0]["elements"][0]["text"] for b in modal["blocks"] if b["type"] == "rich_text"]
    assert "\n".join(pre) + "\n" == suggestion_yaml(s)
    rule, tests = meant(s)
    assert same(read_yaml("\n".join(pre)), {"rules": [rule], "tests": tests})


def test_suggest_prints_one_line_instead_of_yaml_that_would_read_back_differently() -> None:
    s = replace(suggestion_with("x"), tests=({"fields": {"p": float("nan")}, "expect": "approve"},))
    assert _yaml_block(s) == (
        "    (a test of the suggested rule “suggested-account” of d cannot be written as YAML that reads back "
        "as it is; add it by hand)"
    )
