"""``with_suggestions``: suggested rules and tests go into the file's own text, whatever its layout,
and nothing else of it changes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.suggestions import Suggestion
from bot.governance_file import load_governance_text
from bot.rule_yaml import SharedNode, suggestion_yaml, with_suggestions

SUGGESTION = Suggestion(
    kind="d",
    rule_id="suggested-p-le-5",
    when={"p": {"lte": 5}},
    decide="approve",
    reason="People approved 40 of 40 such requests.",
    support=40,
    approved=40,
    rejected=0,
    approvers=3,
    coverage=0.5,
    median_wait_hours=1.0,
    examples=("REQ-1",),
    tests=({"name": "in", "fields": {"p": 5}, "expect": "approve", "rule": "suggested-p-le-5"},),
)
BASE = """version: 1
timezone: UTC
groups:
  g: {members: [U0A, U0B]}   # the approvers
kinds:
  d:
    title: D
    owner: U0O
    fields:
      p: {type: number, required: true}
    approvers: g
"""
LAYOUTS = {
    "no keys": BASE,
    "no trailing newline": BASE.rstrip("\n"),
    "empty keys": BASE + "    rules:\n    tests:\n",
    "null keys": BASE + "    rules: ~\n    tests: null\n",
    "flow lists": BASE + "    rules: [{id: big, when: {p: {gt: 50}}, decide: reject, reason: No.}]\n    tests: []\n",
    "block lists and comments": BASE
    + "    rules:\n      - {id: big, when: {p: {gt: 50}}, decide: reject, reason: No.}  # keep\n"
    + "    # about the tests\n    tests:\n      - fields: {p: 60}\n        expect: reject\n  # after the kind\n",
    "indentless lists": BASE
    + "    rules:\n    - id: big\n      when: {p: {gt: 50}}\n      decide: reject\n      reason: No.\n",
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_the_rule_and_its_test_go_in_and_the_text_around_them_stays(layout: str) -> None:
    source = LAYOUTS[layout]
    written = with_suggestions(source, [SUGGESTION])
    governance = load_governance_text(written)
    kind = governance.kinds["d"]
    assert kind.rules[-1].id == "suggested-p-le-5"
    assert kind.spec.tests[-1].rule == "suggested-p-le-5"
    assert written.startswith(BASE.rstrip("\n"))
    for line in source.splitlines():  # every line is still there (a null emptied, a flow list's `]` moved)
        assert line.replace(" ~", "").replace(" null", "").removesuffix("]") in written
    if layout != "flow lists":
        assert "# suggested by `signoff suggest`: people approved 40 of 40 such requests" in written


def test_a_kind_written_in_flow_style_is_refused_by_name() -> None:
    source = BASE.replace(
        "  d:\n    title: D\n    owner: U0O\n    fields:\n      p: {type: number, required: true}\n    approvers: g\n",
        "  d: {title: D, owner: U0O, fields: {p: {type: number}}, approvers: g}\n",
    )
    with pytest.raises(ValueError, match=r"kinds\.d is not a block mapping"):
        with_suggestions(source, [SUGGESTION])


def test_the_show_yaml_text_is_the_rule_and_its_tests() -> None:
    text = suggestion_yaml(SUGGESTION)
    assert text.startswith("# kind: d\nrules:\n  # suggested by")
    assert "    when: {p: {lte: 5}}\n" in text and "tests:\n  - name: in\n" in text


SHARED_BASE = (
    BASE.replace("      p: {type: number, required: true}\n", "      p: {type: number, required: true}\n")
    + """\
    rules: &std
      - {id: big, when: {p: {gt: 90}}, decide: reject, reason: No.}
"""
)


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        (
            SHARED_BASE + "  e:\n    title: E\n    owner: U0O\n    fields: {p: {type: number}}\n    approvers: g\n"
            "    rules: *std\n",
            "d",
            "kinds.d.rules is shared with kinds.e.rules through the anchor &std (line 12); write these rules by hand",
        ),
        (
            SHARED_BASE + "  e:\n    title: E\n    owner: U0O\n    fields: {p: {type: number}}\n    approvers: g\n"
            "    rules: *std\n",
            "e",
            "kinds.e.rules is an alias of kinds.d.rules (the anchor &std, line 12); write these rules by hand",
        ),
        (
            BASE.replace("  d:\n", "  d: &base\n") + "  e:\n    <<: *base\n    title: E\n",
            "e",
            "kinds.e takes entries from another place through a YAML merge (<<); write these rules by hand",
        ),
    ],
)
def test_a_list_or_kind_shared_through_an_anchor_is_refused_naming_where(text: str, kind: str, message: str) -> None:
    with pytest.raises(SharedNode, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        with_suggestions(text, [replace(SUGGESTION, kind=kind)])
