"""A mined region written as a governance-file rule (DESIGN §3.2), compiled next to the kind's own rules.

``when_of`` writes cuts as the file writes conditions (values in their JSON form: ``36h``,
``2026-01-05``, ``12``); ``with_rules`` compiles the kind with extra rules appended, exactly as
the loader would (``compile_kind``), so the outcome of a request under the file plus suggestions
is ``bot.domain.outcome.resolve``'s, never a second reading of the precedence.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from bot.domain.conditions import OPERATORS
from bot.domain.field_types import FIELD_TYPES
from bot.domain.fields import FieldType
from bot.domain.governance import Governance, Kind
from bot.domain.governance_build import compile_kind
from bot.domain.governance_spec import RuleSpec
from bot.domain.operators import Op
from bot.domain.suggest_regions import Cut

_OPS_WORDS = {"lte": "le", "gte": "ge", "between": "from", "in": "in", "eq": "is", "contains": "has"}
#: The longest id written (the file takes 63 characters; room is left for a ``-N`` that makes it unique).
_ID_LENGTH = 58


class NotCompiled(ValueError):
    """The rules would not load (a message per problem, joined); a bug in the miner if ever raised."""


def json_value(kind: Kind, name: str, value: Any) -> Any:
    """A typed value as the governance file writes it (a whole number without ``.0``)."""
    spec = kind.spec.fields[name]
    if isinstance(value, bool):
        return value
    if spec.type is FieldType.DATE and isinstance(value, int):  # days from the submission day
        return f"{value:+d}d"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int | float | str):
        return value
    return FIELD_TYPES[spec.type].to_json(value)


def written(kind: Kind, cut: Cut) -> Cut:
    """``cut`` as the file writes it: a ``between`` whose two ends are one value is that value, as
    ``in: [v]`` where the field's type takes ``in`` (a number: "x is 4"), else ``eq: v`` (a
    duration: "length = 4h"); the id says the value alone (``…-length-4h``). A date stays
    ``between`` (its offsets from submission are compared one bound at a time)."""
    kind_of = kind.spec.fields[cut.field].type
    if cut.op != "between" or cut.value[0] != cut.value[1] or kind_of is FieldType.DATE:
        return cut
    if Op.IN in OPERATORS[kind_of]:
        return Cut(cut.field, "in", (cut.value[0],))
    return Cut(cut.field, "eq", cut.value[0]) if Op.EQ in OPERATORS[kind_of] else cut


def leaves_json(kind: Kind, cut: Cut) -> list[dict[str, Any]]:
    """The leaves of one cut: a date ``between`` two offsets is two leaves (``gte``, ``lte``), as
    the file compares a date with an offset from submission one bound at a time."""
    cut = written(kind, cut)
    if cut.op == "between" and kind.spec.fields[cut.field].type is FieldType.DATE:
        low, high = (json_value(kind, cut.field, v) for v in cut.value)
        return [{cut.field: {"gte": low}}, {cut.field: {"lte": high}}]
    return [leaf_json(kind, cut)]


def leaf_json(kind: Kind, cut: Cut) -> dict[str, Any]:
    if cut.op == "between":
        return {cut.field: {"between": [json_value(kind, cut.field, v) for v in cut.value]}}
    if cut.op == "in":
        return {cut.field: {"in": [json_value(kind, cut.field, v) for v in cut.value]}}
    return {cut.field: {cut.op: json_value(kind, cut.field, cut.value)}}


def when_of(kind: Kind, cuts: Sequence[Cut]) -> dict[str, Any]:
    """One leaf as ``{field: {op: value}}``; two as ``{"all": [leaf, leaf]}``."""
    leaves = [leaf for cut in cuts for leaf in leaves_json(kind, cut)]
    return leaves[0] if len(leaves) == 1 else {"all": leaves}


def rule_id(kind: Kind, cuts: Sequence[Cut], taken: Collection[str]) -> str:
    """A readable id unique in the kind, ``^[a-z0-9][a-z0-9_-]{0,62}$``: ``suggested-amount-pct-le-12``."""
    parts = ["suggested"]
    for cut in (written(kind, c) for c in cuts):
        value = cut.value
        joint = "-to-" if cut.op == "between" else "-"
        shown = joint.join(str(json_value(kind, cut.field, v)) for v in value) if isinstance(value, tuple) else None
        words = [cut.field] if cut.op in ("in", "contains", "eq") else [cut.field, _OPS_WORDS[cut.op]]
        words.append(shown if shown is not None else str(json_value(kind, cut.field, value)))
        parts += words
    tokens = [t for t in re.split(r"[^a-z0-9]+", "-".join(parts).lower()) if t]
    while len("-".join(tokens)) > _ID_LENGTH and len(tokens) > 1:
        tokens.pop()  # whole words only: never half a number
    base = "-".join(tokens)[:_ID_LENGTH]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def with_rules(governance: Governance, kind: Kind, rules: Sequence[Mapping[str, Any]]) -> tuple[Governance, Kind]:
    """The governance with ``rules`` (rule mappings as in the file) appended to ``kind``'s rules.

    Raises ``NotCompiled`` when they would not load. The result's version is the original's with
    ``+suggested``: it is a governance nobody loaded from a file."""
    problems: list[str] = []
    try:
        specs = [RuleSpec.model_validate(rule) for rule in rules]
    except ValidationError as exc:
        raise NotCompiled(str(exc)) from None
    spec = kind.spec.model_copy(update={"rules": [*kind.spec.rules, *specs]})
    compiled = compile_kind(
        kind.name, spec, governance.groups, governance.tz, lambda path, message: problems.append(message)
    )
    if problems:
        raise NotCompiled("; ".join(problems))
    kinds = {**governance.kinds, kind.name: compiled}
    extended = Governance(governance.spec, version=f"{governance.version}+suggested", kinds=kinds, tz=governance.tz)
    return extended, compiled
