"""A suggested default in Slack: what its **Show YAML** button carries, and the modal it opens.

The button's ``value`` (at most ``MAX_BUTTON_VALUE`` characters) carries the whole suggestion as
compact JSON, so that a click opens the modal from what was sent to the owner, without mining the
history again (and within Slack's 3 s). What does not fit is dropped, tests first (the modal then
says where the full tests are), then the example ids; a suggestion that still does not fit gets no
button. The modal shows the rule and its tests as the governance file would have them
(``bot.rule_yaml.suggestion_yaml``), in rich-text preformatted blocks (shown literally, nothing to
escape), and says that Slack changes no file.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, TypeGuard

from bot.domain.durations import format_duration
from bot.domain.operators import Op
from bot.domain.suggestions import Suggestion
from bot.rule_yaml import suggestion_yaml
from bot.slack.blocks import MAX_SECTION_TEXT, MAX_VIEW_BLOCKS, Block, clip, inert_line, section

SHOW_YAML = "signoff.show_yaml"
MAX_BUTTON_VALUE = 2000
#: What Slack does and does not do with a suggestion; the one way a default is adopted.
ADOPT = (
    "Slack does not change the file: to adopt it, add it to signoff.yaml in a reviewed change "
    "(`signoff suggest --write FILE` writes it for you)."
)
#: The kind a button names has a kind's name (``governance_spec.Name``): it goes into sentences as is.
_KIND = re.compile(r"[a-z][a-z0-9_-]{0,39}", re.ASCII)


@dataclass(frozen=True)
class Carried:
    """A suggestion as a button carried it; ``cut``: its tests were dropped to fit."""

    suggestion: Suggestion
    cut: bool = False


def _jsonable(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    return str(value)


def _encode(carried: Carried) -> str:
    s = carried.suggestion
    data: dict[str, Any] = {
        "k": s.kind,
        "i": s.rule_id,
        "w": dict(s.when),
        "d": s.decide,
        "r": s.reason,
        "n": [s.support, s.approved, s.rejected, s.approvers],
        "c": round(s.coverage, 4),
        "m": round(s.median_wait_hours, 2),
        "e": list(s.examples),
        "t": [dict(test) for test in s.tests],
    }
    if carried.cut:
        data["cut"] = True
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=_jsonable)


def suggestion_value(suggestion: Suggestion) -> str | None:
    """The button's value: the suggestion whole if it fits ``MAX_BUTTON_VALUE``, else without its
    tests, else without its examples too; None when even that does not fit (then no button)."""
    tries = (
        Carried(suggestion),
        Carried(replace(suggestion, tests=()), cut=bool(suggestion.tests)),
        Carried(replace(suggestion, tests=(), examples=()), cut=bool(suggestion.tests)),
    )
    for carried in tries:
        value = _encode(carried)
        if len(value) <= MAX_BUTTON_VALUE:
            return value
    return None


def read_suggestion_value(value: object) -> Carried | None:
    """What ``suggestion_value`` wrote, back as a suggestion; None for anything else.

    Everything is checked, since a value is only as good as the button it came in: the kind a
    name; the rule id and reason text; ``when`` a condition (fields named as a file names them,
    known operators, values that are text, finite numbers, booleans or lists of them, at most
    ``MAX_NESTING`` levels deep); ``tests`` mappings of the keys a file's test has, ``fields`` a
    mapping of such values (or null), ``expect`` an outcome; counts whole numbers from 0 to ``MAX_COUNT``
    with approved + rejected = support; ``coverage`` a share in [0, 1]; the median wait finite
    and ≥ 0; examples request ids."""
    if not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE:
        return None
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        return _decode(data)
    except (TypeError, ValueError):
        return None


#: How deeply ``all``/``any``/``not`` may nest in a carried ``when`` (the miner writes 2 levels).
MAX_NESTING = 6
#: The largest count a carried suggestion may claim (human decisions in its region).
MAX_COUNT = 10**9
_FIELD = re.compile(r"[a-z][a-z0-9_-]{0,39}", re.ASCII)
_REQUEST_ID = re.compile(r"REQ-[0-9]{1,12}", re.ASCII)
_OPERATORS = frozenset(op.value for op in Op)
_TEST_KEYS = frozenset({"name", "fields", "requester", "at", "expect", "rule", "steps", "shadow"})
_OUTCOMES = frozenset({"approve", "reject", "route"})


def _decode(data: Mapping[str, Any]) -> Carried | None:
    kind, rule_id, when, decide, reason = (data.get(key) for key in ("k", "i", "w", "d", "r"))
    counts, examples, tests = data.get("n"), data.get("e", []), data.get("t", [])
    if not (isinstance(kind, str) and _KIND.fullmatch(kind) and isinstance(rule_id, str) and rule_id):
        return None
    if not (_is_condition(when, 1) and decide in ("approve", "reject") and isinstance(reason, str)):
        return None
    if not (isinstance(counts, list) and len(counts) == 4 and all(_is_count(n) for n in counts)):
        return None
    if counts[1] + counts[2] != counts[0]:
        return None
    if not (isinstance(examples, list) and all(isinstance(e, str) and _REQUEST_ID.fullmatch(e) for e in examples)):
        return None
    if not (isinstance(tests, list) and all(_is_test(t) for t in tests)):
        return None
    coverage, median = data.get("c"), data.get("m")
    if not (_is_number(coverage) and 0 <= coverage <= 1 and _is_number(median) and 0 <= median <= 1e6):
        return None
    support, approved, rejected, approvers = counts
    suggestion = Suggestion(
        kind, rule_id, when, decide, reason, support, approved, rejected, approvers,
        float(coverage), float(median), tuple(examples), tuple(tests),
    )  # fmt: skip
    return Carried(suggestion, cut=data.get("cut") is True)


def _is_number(value: object) -> TypeGuard[int | float]:
    """A finite JSON number (not a boolean, NaN or ±infinity)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: object) -> TypeGuard[int]:
    return type(value) is int and 0 <= value <= MAX_COUNT


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | bool) or _is_number(value)


def _is_value(value: object) -> bool:
    """What a condition compares with or a test's field holds: a scalar or a flat list of them."""
    return _is_scalar(value) or (isinstance(value, list) and all(_is_scalar(item) for item in value))


def _is_condition(node: object, depth: int) -> TypeGuard[dict[str, Any]]:
    """A ``when`` mapping of §3.2: ``all``/``any`` lists, ``not``, or field → {operator: value}."""
    if depth > MAX_NESTING or not isinstance(node, dict) or not node:
        return False
    for key, value in node.items():
        if key in ("all", "any"):
            if not (isinstance(value, list) and value and all(_is_condition(c, depth + 1) for c in value)):
                return False
        elif key == "not":
            if not _is_condition(value, depth + 1):
                return False
        elif not _is_comparison(key, value):
            return False
    return True


def _is_comparison(field: str, operators: object) -> bool:
    """``field: {operator: value, …}``, a field named as a file names it, known operators."""
    if not (_FIELD.fullmatch(field) and isinstance(operators, dict) and operators):
        return False
    return all(op in _OPERATORS and _is_value(operand) for op, operand in operators.items())


def _is_test(test: object) -> bool:
    """A test of a governance file (§3.6) as the miner writes it."""
    if not (isinstance(test, dict) and set(test) <= _TEST_KEYS and test.get("expect") in _OUTCOMES):
        return False
    fields = test.get("fields")
    if not (
        isinstance(fields, dict) and all(_FIELD.fullmatch(k) and (v is None or _is_value(v)) for k, v in fields.items())
    ):
        return False
    texts = ("name", "requester", "at", "rule")
    if not all(isinstance(test[key], str) for key in texts if key in test):
        return False
    steps, shadow = test.get("steps", []), test.get("shadow", {})
    if not (isinstance(steps, list) and all(isinstance(g, str) and _FIELD.fullmatch(g) for g in steps)):
        return False
    return isinstance(shadow, dict) and all(isinstance(k, str) and v in _OUTCOMES for k, v in shadow.items())


def preformatted(text: str, *, limit: int = MAX_SECTION_TEXT) -> Iterator[Block]:
    """``text`` as Slack rich-text preformatted blocks, split at line ends to fit ``limit`` each.

    A rich-text ``text`` element is shown literally (Slack parses no mrkdwn, mentions or links in
    it), so the YAML is shown byte for byte — backticks, ``<!channel>`` and all — and copies back
    into the file as it was written."""
    chunk: list[str] = []
    size = 0
    for line in text.splitlines():
        while len(line) > limit:  # one line longer than a block: cut where it must be
            if chunk:
                yield _rich(chunk)
                chunk, size = [], 0
            yield _rich([line[:limit]])
            line = line[limit:]
        if size + len(line) + 1 > limit and chunk:
            yield _rich(chunk)
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        yield _rich(chunk)


def _rich(lines: list[str]) -> Block:
    preformatted_text = {"type": "text", "text": "\n".join(lines)}
    return {"type": "rich_text", "elements": [{"type": "rich_text_preformatted", "elements": [preformatted_text]}]}


def suggestion_modal(carried: Carried) -> Block:
    """The Show YAML modal: the rule and its tests as governance-file YAML, and how to adopt it."""
    s = carried.suggestion
    kind, rule = inert_line(s.kind), inert_line(clip(s.rule_id, 80))
    blocks: list[Block] = [section(f"Suggested default `{rule}` for `{kind}`, as the governance file would have it:")]
    room = MAX_VIEW_BLOCKS - 3
    yaml_blocks = list(preformatted(suggestion_yaml(s)))
    blocks += yaml_blocks[:room]
    if len(yaml_blocks) > room or carried.cut:
        blocks.append(
            _note(
                f"The full tests did not fit in Slack: `signoff suggest --kind {kind} --write FILE` "
                "writes the rule with all its tests."
            )
        )
    blocks.append(section(ADOPT))
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Suggested default"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks,
    }


def _note(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}]}
