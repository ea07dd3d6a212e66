"""Building the governance in force from the parsed file: ``build_governance`` compiles each kind's
contract and rules, checks what needs the whole file, and gathers every problem, each located by
its path (``kinds.discount.rules[1].when.amount_pct``) and, where the reader can tell, its line;
any error raises ``GovernanceInvalid`` with all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from bot.domain.api_clients import check_api_clients
from bot.domain.condition_compiler import compile_condition
from bot.domain.conditions import (
    RESERVED_NAMES,
    ConditionError,
    Op,
)
from bot.domain.contracts import Contract
from bot.domain.fields import FieldType
from bot.domain.governance import (
    ERROR,
    WARNING,
    Governance,
    GovernanceInvalid,
    Kind,
    LoadProblem,
    Locator,
    Path,
    Rule,
    format_path,
)
from bot.domain.governance_lint import check_valid_parts, lint_kind
from bot.domain.governance_spec import (
    GovernanceSpec,
    KindSpec,
)
from bot.domain.regex import MAX_KIND_PATTERN_COST, PatternError, compile_pattern
from bot.domain.spec_errors import did_you_mean, spec_problem
from bot.domain.webhook_subscriptions import compile_webhooks


def build_governance(data: object, *, version: str, locate: Locator | None = None, source: str = "") -> Governance:
    """Validate and compile a parsed governance file; raise ``GovernanceInvalid`` with every problem.

    Every problem of the file is reported at once: schema errors, and the semantic checks of
    every part that has a valid shape (``bot.domain.governance_lint``). Warnings alone do not
    stop the file; they are kept in ``Governance.warnings``.
    """
    where = locate or (lambda path: None)
    problems: list[LoadProblem] = []

    def fail(path: Path, message: str) -> None:
        problems.append(LoadProblem(format_path(path), message, where(path)))

    def warn(path: Path, message: str) -> None:
        problems.append(LoadProblem(format_path(path), message, where(path), WARNING))

    try:
        spec = GovernanceSpec.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            path, message = spec_problem(error)
            problems.append(LoadProblem(format_path(path), message, where(path)))
        check_valid_parts(data, compile_kind=compile_kind, timezone=_timezone, fail=fail, warn=warn)
        raise GovernanceInvalid(problems) from None
    tz = _timezone(spec.timezone, fail)
    kinds = {name: compile_kind(name, kind, spec.groups, tz, fail) for name, kind in spec.kinds.items()}
    for name, kind in spec.kinds.items():
        lint_kind(name, kind, spec.groups, fail=fail, warn=warn)
    check_api_clients(list(enumerate(spec.api_clients)), spec.kinds, fail)
    webhooks = compile_webhooks(spec.webhooks, kinds=spec.kinds, fail=fail)
    if any(p.severity == ERROR for p in problems):
        raise GovernanceInvalid(problems)
    warnings = tuple(sorted(problems, key=lambda p: (p.line or 0, p.path)))
    return Governance(spec, version=version, kinds=kinds, tz=tz, source=source, warnings=warnings, webhooks=webhooks)


#: The IANA database's geographic areas (https://data.iana.org/time-zones/tz-link.html): a
#: governance timezone is ``Area/Location`` (``America/Argentina/Salta`` too) or ``UTC``. The
#: database's other names (``Factory``, ``EST5EDT``, ``Etc/GMT+3``, ``posixrules``) are not places.
_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"}
)


def _timezone(name: str, fail: Callable[[Path, str], None]) -> ZoneInfo:
    area, _, location = name.partition("/")
    if name == "UTC" or (area in _AREAS and location):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    fail(("timezone",), f"unknown timezone “{name}” (use an IANA Area/Location name such as Europe/Berlin, or UTC)")
    return ZoneInfo("UTC")


def compile_kind(
    name: str,
    spec: KindSpec,
    groups: Mapping[str, object],
    tz: ZoneInfo,
    fail: Callable[[Path, str], None],
    *,
    unchecked: Collection[str] = (),
) -> Kind:
    """Compile one kind whose shape is valid, reporting what needs the whole file through ``fail``.

    ``groups`` holds every group name of the file (the values are not used). ``unchecked`` names
    broken fields and rules of the kind (already reported): what refers to them is not reported.
    """
    at: Path = ("kinds", name)

    def need_group(group: str, path: Path) -> None:
        if group not in groups:
            fail(path, f"unknown group “{group}”{did_you_mean(group, groups)} (groups: {', '.join(groups)})")

    for field_name in spec.fields:
        if field_name in RESERVED_NAMES:
            fail((*at, "fields", field_name), f"“{field_name}” is reserved for conditions; choose another field name")
    for i, step in enumerate(spec.approvers):
        need_group(step.group, (*at, "approvers") if len(spec.approvers) == 1 else (*at, "approvers", i))
    for i, group in enumerate(spec.escalate):
        need_group(group, (*at, "escalate", i))
    if len(set(spec.escalate)) != len(spec.escalate):
        fail((*at, "escalate"), "a group is listed more than once")
    if spec.valid_until is not None:
        target = spec.fields.get(spec.valid_until)
        if spec.valid_until in unchecked:
            pass
        elif target is None or target.type is not FieldType.DATE:
            dates = [n for n, f in spec.fields.items() if f.type is FieldType.DATE]
            fail(
                (*at, "valid_until"), f"must name a date field of this kind (date fields: {', '.join(dates) or 'none'})"
            )
        elif not target.required and spec.max_duration is None:
            fail((*at, "valid_until"), f"{spec.valid_until} is optional, so set max_duration too or make it required")

    contract = Contract(name, spec.fields, tz=tz)
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for index, rule in enumerate(spec.rules):
        rule_at = (*at, "rules", index)
        if rule.id in seen:
            fail((*rule_at, "id"), f"rule id “{rule.id}” is already used by rules[{seen[rule.id]}]")
        seen.setdefault(rule.id, index)
        if rule.require is not None:
            need_group(rule.require.group, (*rule_at, "require"))
        if rule.limit is not None and rule.limit.sum is not None:
            summed = spec.fields.get(rule.limit.sum)
            if rule.limit.sum not in unchecked and (summed is None or not summed.is_numeric):
                numbers = [n for n, f in spec.fields.items() if f.is_numeric]
                fail(
                    (*rule_at, "limit", "sum"),
                    f"must name a number or money field (here: {', '.join(numbers) or 'none'})",
                )
        try:
            condition = compile_condition(rule.when, fields=spec.fields, groups=list(groups), tz=tz)
        except ConditionError as exc:
            for sub, message in exc.problems:
                if not (sub and sub[-1] in unchecked and message.startswith("unknown field")):
                    fail((*rule_at, "when", *sub), message)
            continue
        rules.append(
            Rule(rule.id, index, rule.decide, rule.require, rule.reason, rule.limit, condition, rule.mode, rule.preview)
        )

    _check_pattern_cost(at, spec, rules, fail)
    shadows = {r.id: None for r in rules if r.shadow}
    for index, test in enumerate(spec.tests):
        test_at = (*at, "tests", index)
        if test.rule is not None and test.rule not in seen and test.rule not in unchecked:
            fail((*test_at, "rule"), f"no rule “{test.rule}” in {name}{did_you_mean(test.rule, seen)}")
        for rule_id in test.shadow or {}:
            if rule_id not in shadows and rule_id not in unchecked:
                listed = ", ".join(shadows) or "none"
                message = (
                    f"no shadow rule “{rule_id}” in {name}{did_you_mean(rule_id, shadows)} (shadow rules: {listed})"
                )
                fail((*test_at, "shadow", rule_id), message)
        for group in test.steps or ():
            need_group(group, (*test_at, "steps"))
    return Kind(name, spec, contract, rules)


def _check_pattern_cost(at: Path, spec: KindSpec, rules: list[Rule], fail: Callable[[Path, str], None]) -> None:
    """A kind's patterns together compile to at most ``MAX_KIND_PATTERN_COST`` RE2 instructions
    (``bot.domain.regex``): each request runs every one of them."""
    sources = [field.pattern for field in spec.fields.values() if field.pattern is not None]
    sources += [leaf.expected for rule in rules for leaf in rule.condition.leaves() if leaf.op is Op.MATCHES]
    total = 0
    for source in sources:
        try:
            total += compile_pattern(source).cost
        except PatternError:  # already reported where it is written
            continue
    if total > MAX_KIND_PATTERN_COST:
        fail(
            (*at, "rules"),
            f"the patterns of this kind (matches and fields' pattern) compile to {total:,} RE2 instructions together; "
            f"at most {MAX_KIND_PATTERN_COST:,} are allowed, as every request runs them all: "
            "use fewer or simpler patterns (in, eq or contains cost nothing)",
        )
