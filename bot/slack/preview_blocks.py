"""The request form's live preview as a Block Kit section (``PREVIEW_BLOCK``), and the form rebuilt around it.

Pure functions from a ``bot.domain.preview.Preview``. Text from the governance file (reasons,
labels, group names) and what a person typed (quoted in a problem) are ``inert``; rule ids are
``[a-z0-9_-]`` (``RuleSpec.id``) and safe inside backticks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bot.domain.durations import format_duration
from bot.domain.fields import render_value
from bot.domain.governance_spec import Outcome, StepSpec
from bot.domain.preview import PRIVATE_NOTE, Budget, NearMiss, Preview
from bot.slack.blocks import MAX_SECTION_TEXT, MAX_VIEW_BLOCKS, Block, clip, inert, inert_line

#: The preview's block id: a dot, so no field's block id (``[a-z][a-z0-9_]*``) can be the same.
PREVIEW_BLOCK = "signoff.preview"
#: The block id of the warning a form opens with (a slash command's errors); the first preview replaces it.
NOTICE_BLOCK = "signoff.notice"
#: What a view carries that ``views.update`` takes back (Slack refuses id, hash, state, team_id, …).
_VIEW_KEYS = (
    "type",
    "title",
    "submit",
    "close",
    "private_metadata",
    "callback_id",
    "clear_on_close",
    "notify_on_close",
    "external_id",
    "submit_disabled",
)


def preview_block(preview: Preview) -> Block:
    """The section that shows ``preview`` (at most Slack's 3,000 characters)."""
    text = clip("\n".join(preview_lines(preview)), MAX_SECTION_TEXT)
    return {"type": "section", "block_id": PREVIEW_BLOCK, "text": {"type": "mrkdwn", "text": text}}


def preview_lines(preview: Preview) -> list[str]:
    """The preview in mrkdwn lines: what would happen (or what to fix first), budgets, a near miss."""
    lines = ["*If you submit now*"]
    if preview.outcome is None:
        if preview.needed:
            lines.append(":pencil2: Still needed: " + ", ".join(inert_line(name) for name in preview.needed))
        lines += [f":warning: {inert_line(str(p.field or 'Form'))}: {inert(p.message)}" for p in preview.problems]
        lines.append("_Nothing is evaluated until the form is complete and valid._")
    elif preview.outcome is Outcome.APPROVE:
        lines.append(f":white_check_mark: Auto-approved by `{preview.rule}` — {inert(preview.reason or '')}")
    elif preview.outcome is Outcome.REJECT:
        lines.append(f":x: Rejected by `{preview.rule}` — {inert(preview.reason or '')}")
    else:
        because = f" — {inert(preview.reason)}" if preview.reason else ""
        lines.append(f":hourglass_flowing_sand: Needs {_steps(preview.steps)}{because}")
    lines += [_budget(budget) for budget in preview.budgets]
    if preview.near_miss is not None:
        lines.append(_near_miss(preview.near_miss))
    if preview.private:
        lines.append(f"_{PRIVATE_NOTE}_")
    return lines


def with_preview(view: Mapping[str, Any], preview: Preview) -> Block:
    """``view`` (as a ``block_actions`` payload carries it) for ``views.update``: the same blocks,
    ids, ``callback_id`` and ``private_metadata`` (so Slack keeps what was typed), the opening
    notice dropped, and the preview block replaced by ``preview``'s."""
    kept = [
        block
        for block in view.get("blocks") or []
        if isinstance(block, Mapping) and block.get("block_id") not in (PREVIEW_BLOCK, NOTICE_BLOCK)
    ]
    rebuilt: Block = {key: view[key] for key in _VIEW_KEYS if key in view}
    rebuilt["blocks"] = [*kept[: MAX_VIEW_BLOCKS - 1], preview_block(preview)]
    return rebuilt


def _steps(steps: tuple[StepSpec, ...]) -> str:
    shown = [
        f"*{inert_line(step.group)}* ({step.approvals} approval{'' if step.approvals == 1 else 's'})" for step in steps
    ]
    return " and ".join(shown) or "people"


def _near_miss(miss: NearMiss) -> str:
    """The variant ``miss.rule`` pre-approves, and, when its limit would not let it now, why not."""
    line = f":bulb: {inert(miss.requirement)} is pre-approved by `{miss.rule}`"
    short = miss.short
    if short is None:
        return line
    left, allowed, window = _amount(short, short.left), _amount(short, short.allowed), _window(short.window)
    if short.missing is not None:
        return line + f", but {inert_line(short.missing)} is not given and its budget counts it"
    if short.left <= 0 or not short.amount:
        return line + f", but its limit is used up: {left} of {allowed} left {window}"
    return line + f", but its budget has only {left} of {allowed} left {window}"


def _budget(budget: Budget) -> str:
    left, allowed = _amount(budget, budget.left), _amount(budget, budget.allowed)
    line = f":bar_chart: `{budget.rule}`: {left} of {allowed} left {_window(budget.window)}"
    if budget.ok:
        return line
    if budget.missing is not None:
        return line + f"; {inert_line(budget.missing)} is not given and the budget counts it, so people decide"
    if budget.amount and budget.needs is not None:
        return line + f"; this request needs {_amount(budget, budget.needs)}, so people decide"
    return line + ", so people decide"


def _amount(budget: Budget, value: float) -> str:
    shown = render_value(float(value))
    return f"{inert_line(budget.currency)} {shown}" if budget.amount and budget.currency else shown


def _window(window: timedelta) -> str:
    """``this week`` for 7 days, else ``this 30 d``: the rolling window that ends now."""
    if window == timedelta(days=7):
        return "this week"
    written = format_duration(window)
    return f"this {written[:-1]} {written[-1]}"
