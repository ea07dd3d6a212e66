"""The request form's live preview as a Block Kit section (``PREVIEW_BLOCK``), and the form rebuilt around it.

Pure functions from a ``bot.domain.preview.Preview``. Text from the governance file (reasons,
labels, group names) and what a person typed (quoted in a problem) are ``inert``; rule ids are
``[a-z0-9_-]`` (``RuleSpec.id``) and safe inside backticks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.domain.durations import format_duration
from bot.domain.errors import mention
from bot.domain.fields import render_value
from bot.domain.governance_spec import Outcome
from bot.domain.preview import PRIVATE_NOTE, Budget, NearMiss, Preview
from bot.domain.routing import StepRoute
from bot.slack.blocks import MAX_SECTION_TEXT, Block, clip, inert, inert_line

#: The preview's block id: a dot, so no field's block id (``[a-z][a-z0-9_]*``) can be the same.
PREVIEW_BLOCK = "signoff.preview"
#: The block id of the warning a form opens with (a slash command's errors); the first preview drops it.
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
    """The section that shows ``preview`` (at most Slack's 3,000 characters, ``preview_lines``)."""
    text = clip("\n".join(preview_lines(preview)), MAX_SECTION_TEXT)
    return {"type": "section", "block_id": PREVIEW_BLOCK, "text": {"type": "mrkdwn", "text": text}}


def preview_lines(preview: Preview, room: int = MAX_SECTION_TEXT) -> list[str]:
    """The preview in mrkdwn lines, together at most ``room`` characters: what would happen (or what
    to fix first), budgets, a near miss, the private-rules note.

    Only the long parts are cut to fit — reasons, group names, field labels and problems, each on
    its own (``_Flex``) — so the outcome line, every budget line, the near miss and the note always
    show, whatever the lengths in the file or on the form."""
    tail = [clip(_budget(budget), _TAIL_LINE) for budget in preview.budgets]
    if preview.near_miss is not None:
        tail.append(clip(_near_miss(preview.near_miss), _TAIL_LINE))
    if preview.private:
        tail.append(f"_{PRIVATE_NOTE}_")
    middle = _middle(preview)
    fixed = sum(len(part) for line in middle for part in line if isinstance(part, str))
    newlines = len(middle) + len(tail)
    left = room - len(_HEAD) - sum(len(line) for line in tail) - newlines - fixed
    fitted = _fit([part for line in middle for part in line if isinstance(part, _Flex)], max(left, 0))
    shown = ["".join(fitted.get(id(part), "") if isinstance(part, _Flex) else part for part in line) for line in middle]
    return [_HEAD, *shown, *tail]


#: The first line of every preview.
_HEAD = "*If you submit now*"
#: The most characters a budget or near-miss line takes (they hold rule ids and numbers: shorter).
_TAIL_LINE = 300


@dataclass(frozen=True, eq=False)
class _Flex:
    """A part of a line that may be cut to fit: ``raw`` text (a reason, a label), shown ``render``-ed."""

    raw: str
    render: Callable[[str], str] = inert

    def fit(self, limit: int) -> str:
        """``raw`` rendered in at most ``limit`` characters, cut (with an ellipsis) before rendering."""
        shown, n = self.render(self.raw), len(self.raw)
        while len(shown) > limit and n > 0:
            n = max(0, min(n - 1, n * limit // len(shown)))  # rendering may lengthen it: shrink in proportion
            shown = self.render(clip(self.raw, n)) if n else ""
        return shown


def _fit(parts: list[_Flex], room: int) -> dict[int, str]:
    """Each part's text (by ``id``) so that all fit in ``room``: the short ones whole, the room
    left shared equally among the longer ones."""
    full = {id(part): part.render(part.raw) for part in parts}
    fitted: dict[int, str] = {}
    waiting = sorted(parts, key=lambda part: len(full[id(part)]))
    for count, part in zip(range(len(waiting), 0, -1), waiting, strict=True):
        share = room // count
        fitted[id(part)] = full[id(part)] if len(full[id(part)]) <= share else part.fit(share)
        room -= len(fitted[id(part)])
    return fitted


def _middle(preview: Preview) -> list[list[str | _Flex]]:
    """What would happen, or what to fix first: lines of fixed text and parts that may be cut."""
    if preview.outcome is None:
        lines: list[list[str | _Flex]] = []
        if preview.needed:
            names: list[str | _Flex] = [_Flex(name, inert_line) for name in preview.needed]
            lines.append([":pencil2: Still needed: ", *_joined(names, ", ")])
        for p in preview.problems:
            lines.append([":warning: ", _Flex(str(p.field or "Form"), inert_line), ": ", _Flex(p.message)])
        lines.append(["_Nothing is evaluated until the form is complete and valid._"])
        return lines
    if preview.outcome is Outcome.APPROVE:
        return [[f":white_check_mark: Auto-approved by `{preview.rule}` — ", _Flex(preview.reason or "")]]
    if preview.outcome is Outcome.REJECT:
        return [[f":x: Rejected by `{preview.rule}` — ", _Flex(preview.reason or "")]]
    because: list[str | _Flex] = [" — ", _Flex(preview.reason)] if preview.reason else []
    return [[":hourglass_flowing_sand: Needs ", *_steps(preview), *because]]


def _joined(parts: list[str | _Flex], between: str) -> list[str | _Flex]:
    joined: list[str | _Flex] = []
    for index, part in enumerate(parts):
        joined += [between, part] if index else [part]
    return joined


def with_preview(view: Mapping[str, Any], form: Block) -> Block:
    """``view`` (as a ``block_actions`` payload carries it) for ``views.update``: its ``title``,
    ``callback_id``, ``private_metadata`` and the like, and the blocks of ``form``, the form built
    afresh from the kind's contract with the new preview (``bot.slack.modals.request_modal``, the
    builder that opened it). The payload's blocks are never echoed; what was typed stays because
    each input keeps its block and action ids."""
    rebuilt: Block = {key: view[key] for key in _VIEW_KEYS if key in view}
    rebuilt["blocks"] = list(form["blocks"])
    return rebuilt


def _steps(preview: Preview) -> list[str | _Flex]:
    """``*finance* (1 approval) and *cmo-office* (1 approval)``: where each step really goes."""
    routes = preview.routes or tuple(StepRoute(step, (step.group,)) for step in preview.steps)
    text = " and ".join(route_text(route, count_one=True) for route in routes)
    return [_Flex(text, str)] if text else ["people"]


def route_text(route: StepRoute, *, count_one: bool) -> str:
    """Where one step really goes, as the preview and the acknowledgement both say it:
    ``*esc* (1 approval; in place of *solo*, where no one may approve it)``. ``count_one``: say the
    quorum even when it is one approval."""
    names = [f"*{inert_line(group)}*" for group in route.groups]
    names += [f"the owner {mention(route.owner)}"] if route.owner is not None else []
    group = f"*{inert_line(route.step.group)}*"
    approvals = route.step.approvals
    notes = [f"{approvals} approval{'' if approvals == 1 else 's'}"] if count_one or approvals > 1 else []
    if not names:
        notes.append("where no one may approve it now")
    elif route.step.group not in route.groups:
        notes.append(f"in place of {group}, where no one may approve it")
    return " + ".join(names or [group]) + (f" ({'; '.join(notes)})" if notes else "")


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
