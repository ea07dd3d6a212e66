"""A long preview fits Slack's 3,000 characters by cutting only its long parts (reasons, group
names, labels, problems), each on its own: the outcome line, every budget line, the near miss and
the private-rules note always show."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.contracts import FieldProblem
from bot.domain.governance_spec import Outcome, StepSpec
from bot.domain.preview import Budget, NearMiss, Preview
from bot.slack.blocks import MAX_SECTION_TEXT
from bot.slack.preview_blocks import PRIVATE_NOTE, preview_block, preview_lines

BUDGETS = (
    Budget("low", 0, 1, timedelta(days=30), False),
    Budget("budget", 400, 1000, timedelta(days=7), True, True, "EUR", 50),
)
MISS = NearMiss("small-discount", "amount_pct ≤ 10", BUDGETS[0])


def shown(preview: Preview) -> str:
    text = preview_block(preview)["text"]["text"]
    assert isinstance(text, str) and len(text) <= MAX_SECTION_TEXT
    return text


def ending(preview: Preview) -> list[str]:
    """The lines a preview must never lose: budgets, near miss, private note."""
    return preview_lines(Preview(**{**preview.__dict__, "reason": None, "steps": (), "needed": (), "problems": ()}))[2:]


def test_eight_long_require_reasons_keep_the_outcome_budgets_near_miss_and_note() -> None:
    reason = " ".join(chr(65 + i) * 500 for i in range(8))  # 8 requires of 500 characters each
    steps = tuple(StepSpec(group=f"g{i}-" + "x" * 37, approvals=1) for i in range(8))
    preview = Preview("k", Outcome.ROUTE, reason=reason, steps=steps, budgets=BUDGETS, near_miss=MISS, private=True)
    text = shown(preview)
    lines = text.split("\n")
    assert lines[1].startswith(":hourglass_flowing_sand: Needs *g0-") and "(1 approval) and *g1-" in lines[1]
    assert lines[1].endswith("…") and " — AAAA" in lines[1]
    assert lines[2:] == ending(preview) and lines[-1] == f"_{PRIVATE_NOTE}_"
    assert lines[2] == ":bar_chart: `low`: 0 of 1 left this 30 d, so people decide"
    assert lines[4].startswith(":bulb: amount_pct ≤ 10 is pre-approved by `small-discount`")


def test_a_long_deciding_reason_is_cut_not_the_lines_after_it() -> None:
    for outcome, start in (
        (Outcome.APPROVE, ":white_check_mark: Auto-approved by `r`"),
        (Outcome.REJECT, ":x: Rejected"),
    ):
        preview = Preview("k", outcome, rule="r", reason="<&>" * 1500, budgets=BUDGETS, private=True)
        lines = shown(preview).split("\n")
        assert lines[1].startswith(start) and lines[1].endswith("…") and "&lt;&amp;&gt;" in lines[1]
        assert lines[2:] == ending(preview)


def test_many_long_problems_each_show_their_field() -> None:
    problems = tuple(FieldProblem(f"Label {i} " + "l" * 300, "bad " + "p" * 500) for i in range(25))
    preview = Preview("k", None, needed=tuple("n" * 200 for _ in range(5)), problems=problems, private=True)
    lines = shown(preview).split("\n")
    assert lines[1].startswith(":pencil2: Still needed: ")
    assert [line.split(" ", 3)[:3] for line in lines[2:27]] == [[":warning:", "Label", f"{i}"] for i in range(25)]
    assert lines[-2:] == ["_Nothing is evaluated until the form is complete and valid._", f"_{PRIVATE_NOTE}_"]


@settings(max_examples=100, deadline=None)
@given(
    reason=st.text(max_size=5000),
    groups=st.lists(st.from_regex(r"[a-z][a-z0-9_-]{0,39}", fullmatch=True), max_size=12),
    outcome=st.sampled_from([Outcome.ROUTE, Outcome.APPROVE, Outcome.REJECT]),
)
def test_any_lengths_fit_and_keep_the_end(reason: str, groups: list[str], outcome: Outcome) -> None:
    steps = tuple(StepSpec(group=g, approvals=2) for g in groups)
    preview = Preview("k", outcome, rule="r", reason=reason or None, steps=steps, budgets=BUDGETS, private=True)
    lines = shown(preview).split("\n")
    assert lines[-len(ending(preview)) :] == ending(preview)
