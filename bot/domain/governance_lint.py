"""Checks of a governance file beyond the shape of each section.

- ``lint_kind``: a step whose quorum can never be met is an error (DESIGN §3.4: the step's
  group, then the escalation chain, then the owner are all the people who can ever approve);
  a ``decide: reject`` rule with no ``when`` (it rejects everything), a budget that sums an
  optional field (a request without it is never approved by the rule) and a ``warn_before``
  longer than half of ``max_duration`` are warnings.
- ``check_valid_parts``: when the file has schema errors, the parts that do have a valid shape
  are still checked, so that one run reports every problem of the file.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from functools import cache
from typing import Annotated, Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, TypeAdapter, ValidationError

from bot.domain.api_clients import check_api_clients
from bot.domain.durations import format_duration
from bot.domain.governance_spec import (
    ApiClientSpec,
    Decision,
    GroupSpec,
    KindSpec,
    KindTestSpec,
    RuleMode,
    RuleSpec,
    StepSpec,
)
from bot.domain.regex import PatternError, compile_pattern

Path = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)
Report = Callable[[Path, str], None]


class CompileKind(Protocol):
    def __call__(
        self,
        name: str,
        spec: KindSpec,
        groups: Mapping[str, object],
        tz: ZoneInfo,
        fail: Report,
        *,
        unchecked: Collection[str] = (),
    ) -> object: ...


def lint_kind(
    name: str, spec: KindSpec, groups: Mapping[str, GroupSpec], *, fail: Report, warn: Report, quorum: bool = True
) -> None:
    """Check one kind against the groups of the file: quorums that can be met, rules that make sense.

    ``groups`` holds the groups whose shape is valid; steps naming other groups are not checked
    here (an unknown group is reported by the compiler).
    """
    at: Path = ("kinds", name)
    if quorum:
        _check_quorums(at, spec, groups, fail)
    for index, rule in enumerate(spec.rules):
        if rule.decide is Decision.REJECT and rule.when is None and rule.mode is RuleMode.LIVE:
            warn(
                (*at, "rules", index),
                f"rule “{rule.id}” has decide: reject and no `when`: it rejects every {name} request",
            )
        total = rule.limit.sum if rule.limit is not None else None
        summed = spec.fields.get(total) if total is not None else None
        if summed is not None and summed.is_numeric and not summed.required:
            warn(
                (*at, "rules", index, "limit", "sum"),
                f"rule “{rule.id}” sums {total}, which is optional: a request "
                "that leaves it empty is never approved by this rule (the budget cannot count it); "
                "make the field required",
            )
        if not rule.preview and rule.mode is RuleMode.SHADOW:
            warn(
                (*at, "rules", index, "preview"),
                f"rule “{rule.id}” is a shadow rule, which the request form's preview never shows: "
                "preview: false changes nothing",
            )
    longest = spec.max_duration
    if "warn_before" in spec.model_fields_set and longest is not None and spec.warn_before * 2 > longest:
        warn(
            (*at, "warn_before"),
            f"{format_duration(spec.warn_before)} is more than half of max_duration ({format_duration(longest)}): "
            f"the warning comes halfway through, {format_duration(longest / 2)} before the end",
        )


def _check_quorums(at: Path, spec: KindSpec, groups: Mapping[str, GroupSpec], fail: Report) -> None:
    if any(group not in groups for group in spec.escalate):
        return
    chain = {member for group in spec.escalate for member in groups[group].members}
    steps: list[tuple[Path, StepSpec]] = [
        ((*at, "approvers") if len(spec.approvers) == 1 else (*at, "approvers", i), step)
        for i, step in enumerate(spec.approvers)
    ]
    steps += [((*at, "rules", i, "require"), r.require) for i, r in enumerate(spec.rules) if r.require is not None]
    for path, step in steps:
        if step.group not in groups:
            continue
        people = set(groups[step.group].members) | chain | {spec.owner}
        if step.approvals > len(people):
            via = ", the escalation chain" if spec.escalate else ""
            fail(
                path,
                f"needs {step.approvals} approvals but only {len(people)} people can ever approve "
                f"({step.group}{via} and the owner): lower approvals or add members",
            )


def check_valid_parts(
    data: object,
    *,
    compile_kind: CompileKind,
    timezone: Callable[[str, Report], ZoneInfo],
    fail: Report,
    warn: Report,
) -> None:
    """Run the semantic checks on every part of a file with schema errors whose shape is valid.

    A kind with a broken section is checked as far as its valid sections allow: every valid
    rule and test is checked; only what depends on a broken field (conditions on it, a limit
    summing it) or on a broken rule (a test naming it) is left out.
    """
    if not isinstance(data, dict):
        return
    tz_name = data.get("timezone", "UTC")
    tz = timezone(tz_name, fail) if isinstance(tz_name, str) else ZoneInfo("UTC")
    raw_groups = _mapping(data.get("groups"))
    names = {str(name): None for name in raw_groups}
    groups = {str(n): g for n, v in raw_groups.items() if (g := _valid(GroupSpec, v)) is not None}
    raw_kinds = _mapping(data.get("kinds"))
    for name, value in raw_kinds.items():
        whole = _valid(KindSpec, value)
        if not isinstance(name, str):
            continue
        kind, complete, unchecked = (whole, True, set()) if whole is not None else _valid_parts_of_kind(value)
        if kind is None:
            continue
        _check_broken_patterns(("kinds", name), value, fail)
        compile_kind(name, kind, names, tz, fail, unchecked=unchecked)
        lint_kind(name, kind, groups, fail=fail, warn=warn, quorum=complete)
    _check_valid_api_clients(data.get("api_clients"), {str(name) for name in raw_kinds}, fail)


def _check_valid_api_clients(raw: object, kinds: set[str], fail: Report) -> None:
    """``check_api_clients`` on the entries of ``api_clients`` whose shape is valid (DESIGN §9)."""
    entries = raw if isinstance(raw, list) else []
    valid = [(i, client) for i, entry in enumerate(entries) if (client := _valid(ApiClientSpec, entry)) is not None]
    check_api_clients(valid, kinds, fail)


def _valid_parts_of_kind(value: object) -> tuple[KindSpec | None, bool, set[str]]:
    """A kind with only its valid sections and entries, whether its routing is all valid, and the
    names of its broken fields and rules (what depends on them is not checked)."""
    if not isinstance(value, dict):
        return None, False, set()
    parts: dict[str, Any] = {}
    for key in KindSpec.model_fields:
        if key in value and key not in ("rules", "tests", "fields"):
            ok, typed = _valid_field(key, value[key])
            if ok:
                parts[key] = typed
    fields, unchecked = _valid_entries(value.get("fields"))
    parts["fields"] = fields
    raw_rules = value.get("rules", [])
    rules: list[RuleSpec] = []
    for index, item in enumerate(raw_rules if isinstance(raw_rules, list) else []):
        rule = _valid(RuleSpec, item)
        if rule is None:
            rule = _placeholder_rule(index, item)
            unchecked.add(rule.id)
        rules.append(rule)
    raw_tests = value.get("tests", [])
    tests = (
        [t for item in raw_tests if (t := _valid(KindTestSpec, item)) is not None]
        if isinstance(raw_tests, list)
        else []
    )
    if not isinstance(value.get("fields"), dict):
        rules, tests = [], []  # without any fields, every condition would look wrong
        parts.pop("valid_until", None)
    elif not isinstance(raw_rules, list):
        tests = []  # a test may name any rule
    complete = all(key in parts for key in ("owner", "approvers")) and ("escalate" in parts or "escalate" not in value)
    parts.setdefault("approvers", [])
    return KindSpec.model_construct(**parts, rules=rules, tests=tests), complete, unchecked


def _placeholder_rule(index: int, raw: object) -> RuleSpec:
    """A broken rule's stand-in, so the rules after it keep their index; its ``when`` is still checked."""
    item = raw if isinstance(raw, dict) else {}
    raw_id = item.get("id")
    rule_id = raw_id if isinstance(raw_id, str) else f"rules[{index}]"
    when = item.get("when") if isinstance(item.get("when"), dict) else None
    return RuleSpec.model_construct(id=rule_id, when=when, decide=None, require=None, reason="", limit=None)


def _valid_entries(raw: object) -> tuple[dict[str, Any], set[str]]:
    """The fields of a kind whose name and spec are valid, and the names of the broken ones."""
    valid: dict[str, Any] = {}
    broken: set[str] = set()
    for name, spec in raw.items() if isinstance(raw, dict) else ():
        ok, typed = _valid_field("fields", {name: spec})
        if ok:
            valid.update(typed)
        else:
            broken.add(str(name))
    return valid, broken


def _check_broken_patterns(at: Path, kind: object, fail: Report) -> None:
    """A field's ``pattern`` is checked only once the rest of the field is valid; check it anyway."""
    fields = kind.get("fields") if isinstance(kind, dict) else None
    for name, spec in fields.items() if isinstance(fields, dict) else ():
        pattern = spec.get("pattern") if isinstance(spec, dict) else None
        if not isinstance(pattern, str) or _valid_field("fields", {name: spec})[0]:
            continue
        try:
            compile_pattern(pattern)
        except PatternError as exc:
            if not _pattern_reported(name, spec):
                fail((*at, "fields", name, "pattern"), str(exc))


def _pattern_reported(name: object, spec: object) -> bool:
    try:
        _field_adapter("fields").validate_python({name: spec})
    except ValidationError as exc:
        return any(str(e.get("msg", "")).startswith("Value error, pattern ") for e in exc.errors(include_url=False))
    return False


def _mapping(value: object) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _valid(model: type[M], value: object) -> M | None:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _valid_field(key: str, value: object) -> tuple[bool, Any]:
    try:
        return True, _field_adapter(key).validate_python(value)
    except ValidationError:
        return False, None


@cache
def _field_adapter(key: str) -> TypeAdapter[Any]:
    field = KindSpec.model_fields[key]
    annotation: Any = field.annotation
    if field.metadata:
        annotation = Annotated[(annotation, *field.metadata)]
    return TypeAdapter(annotation)
