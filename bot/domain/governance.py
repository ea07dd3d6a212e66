"""The governance in force: the validated file, compiled once into kinds, contracts and rules.

``build_governance`` takes the parsed file (plain data) and returns a ``Governance``, or
raises ``GovernanceInvalid`` with every problem found, each located by its path in the file
(``kinds.discount.rules[1].when.amount_pct``) and, where the reader can tell, its line.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from bot.domain.api_clients import check_api_clients
from bot.domain.condition_compiler import compile_condition
from bot.domain.conditions import (
    HOUR,
    NOW,
    REQUESTER,
    REQUESTER_GROUP,
    RESERVED_NAMES,
    TODAY,
    WEEKDAY,
    WEEKDAYS,
    Condition,
    ConditionError,
    DoubtPlan,
    MatchPlan,
    Op,
    Truth,
)
from bot.domain.contracts import Contract, ContractError, FieldProblem
from bot.domain.errors import WrongCategory
from bot.domain.fields import FieldType, FieldValue, coerce
from bot.domain.governance_lint import check_valid_parts, lint_kind
from bot.domain.governance_spec import (
    Category,
    Decision,
    GovernanceSpec,
    GroupSpec,
    KindSpec,
    LimitSpec,
    RuleMode,
    StepSpec,
)
from bot.domain.regex import MAX_KIND_PATTERN_COST, PatternError, compile_pattern
from bot.domain.spec_errors import did_you_mean, spec_problem
from bot.domain.webhook_subscriptions import Subscription, compile_webhooks

Path = tuple[str | int, ...]
Locator = Callable[[Path], int | None]


ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class LoadProblem:
    """One problem in a governance file: where it is, what is wrong, and whether it stops the file.

    ``severity`` is ``"error"`` (the file cannot be used) or ``"warning"`` (it can, but
    probably does not do what its author meant).
    """

    path: str
    message: str
    line: int | None = None
    severity: str = ERROR

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        level = "warning: " if self.severity == WARNING else ""
        return f"{where}{level}{self.path or '(top level)'}: {self.message}"


class GovernanceInvalid(ValueError):
    """The governance file cannot be used; ``problems`` lists everything found (errors and
    warnings), in file order. At least one of them is an error."""

    def __init__(self, problems: list[LoadProblem]):
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


class UnknownKind(LookupError):
    def __init__(self, name: str, known: list[str]):
        self.name = name
        self.known = known
        super().__init__(f"there is no kind “{name}”; kinds: {', '.join(known)}")


def format_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class Rule:
    """A compiled governed default of one kind."""

    id: str
    index: int
    decision: Decision | None
    require: StepSpec | None
    reason: str
    limit: LimitSpec | None
    condition: Condition
    mode: RuleMode = RuleMode.LIVE

    @property
    def shadow(self) -> bool:
        """A shadow rule is evaluated and recorded, but never decides, adds a step or uses its limit."""
        return self.mode is RuleMode.SHADOW

    @cached_property
    def effect(self) -> str:
        if self.require is not None:
            quorum = f" ×{self.require.approvals}" if self.require.approvals > 1 else ""
            return f"require {self.require.group}{quorum}"
        return str(self.decision)

    def in_doubt(self, facts: Mapping[str, Any], exact: Truth) -> bool:
        """Whether the rule holds or fails only by how a look-alike is read (``Condition.outcomes``),
        given its ``exact`` truth. A reject or require that holds exactly is not in doubt: it
        refuses or asks people anyway; an approve is in doubt either way, since it decides alone."""
        if exact is True and self.decision is not Decision.APPROVE:
            return False
        outcomes = self.condition.outcomes(facts)
        return True in outcomes and len(outcomes) > 1


class Kind:
    """A kind of request, compiled: its contract, rules and routing policy."""

    def __init__(self, name: str, spec: KindSpec, contract: Contract, rules: list[Rule]):
        self.name = name
        self.spec = spec
        self.contract = contract
        self.rules = tuple(rules)
        live = [r for r in rules if not r.shadow]
        self.rejects = tuple(r for r in live if r.decision is Decision.REJECT)
        self.requires = tuple(r for r in live if r.require is not None)
        self.approves = tuple(r for r in live if r.decision is Decision.APPROVE)
        #: The shadow rules (DESIGN §3.7): none of the plans the outcome is decided by holds them.
        self.shadows = tuple(r for r in rules if r.shadow)
        self.reject_plan = MatchPlan([(r.condition, r) for r in self.rejects])
        self.require_plan = MatchPlan([(r.condition, r) for r in self.requires])
        self.approve_plan = MatchPlan([(r.condition, r) for r in self.approves])
        self.shadow_plan = MatchPlan([(r.condition, r) for r in self.shadows])
        self.doubt_plan = DoubtPlan([(r.condition, r) for r in live])
        subjects = {leaf.subject for rule in rules for leaf in rule.condition.leaves()}
        relatives = {leaf.relative.anchor for rule in rules for leaf in rule.condition.leaves() if leaf.relative}
        self.needs_groups = REQUESTER_GROUP in subjects
        self.needs_clock = bool(subjects & {WEEKDAY, HOUR}) or bool(relatives)

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def category(self) -> Category:
        return self.spec.category

    @property
    def owner(self) -> str:
        return self.spec.owner

    @property
    def default_steps(self) -> tuple[StepSpec, ...]:
        return tuple(self.spec.approvers)

    def check_filed_with(self, command_category: Category | None) -> None:
        """``/request`` files any kind; ``/exception`` only exception kinds (``WrongCategory`` otherwise)."""
        if command_category is Category.EXCEPTION and self.category is not Category.EXCEPTION:
            raise WrongCategory(f"{self.name} is an approval kind: file it with /request")

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


class Governance:
    """The governance in force, identified by ``version`` (the content hash of its file)."""

    def __init__(
        self,
        spec: GovernanceSpec,
        *,
        version: str,
        kinds: dict[str, Kind],
        tz: ZoneInfo,
        source: str = "",
        warnings: tuple[LoadProblem, ...] = (),
        webhooks: tuple[Subscription, ...] = (),
    ):
        self.spec = spec
        #: The webhook subscriptions declared in the file (DESIGN §9), enabled or not.
        self.webhooks = webhooks
        self.version = version
        #: What ``signoff check`` warns about: the file works, but probably not as meant.
        self.warnings = warnings
        #: The file's text, stored once per version so every decision can be traced to its rules.
        self.source = source
        self.kinds = kinds
        self.tz = tz
        memberships: dict[str, set[str]] = {}
        for group, group_spec in spec.groups.items():
            for member in group_spec.members:
                memberships.setdefault(member, set()).add(group)
        self._groups_of = {user: frozenset(groups) for user, groups in memberships.items()}

    @property
    def groups(self) -> Mapping[str, GroupSpec]:
        return self.spec.groups

    def kind(self, name: str) -> Kind:
        try:
            return self.kinds[name.strip().lower()]
        except KeyError:
            raise UnknownKind(name, sorted(self.kinds)) from None

    def groups_of(self, user: str) -> frozenset[str]:
        return self._groups_of.get(user, frozenset())

    def members(self, group: str) -> tuple[str, ...]:
        return tuple(self.spec.groups[group].members)

    def facts(self, kind: Kind, values: Mapping[str, FieldValue], *, requester: str, at: datetime) -> dict[str, Any]:
        """What a kind's conditions see: the fields plus the requester and the submission time."""
        facts: dict[str, Any] = dict(values)
        facts[REQUESTER] = requester
        if kind.needs_groups:
            facts[REQUESTER_GROUP] = self.groups_of(requester)
        if kind.needs_clock:
            local = at.astimezone(self.tz)
            facts[WEEKDAY] = WEEKDAYS[local.weekday()]
            facts[HOUR] = local.hour
            facts[TODAY] = local.date()
            facts[NOW] = at
        return facts

    def today(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def validate_fields(
        self, kind: Kind, raw: Mapping[str, object], *, at: datetime, submitted: bool = False
    ) -> dict[str, FieldValue]:
        """A request's typed fields per its kind's contract, as of ``at``; ``ContractError`` listing every problem.

        ``submitted``: ``at`` is when a past request was submitted (history), not now: a ``valid_until``
        date before it is named as before the day it was submitted, never as before "today".
        """
        try:
            values = kind.contract.validate(raw)
        except ContractError as exc:
            raise self._with_validity(kind, exc, at, submitted) from None
        self._check_validity(kind, values, at, raw, submitted)
        return values

    def parse_slash_text(self, kind: Kind, text: str, *, at: datetime) -> dict[str, FieldValue]:
        """A request's typed fields from slash-command text (``k=v …``, as Slack sent it)."""
        try:
            values = kind.contract.parse_slash_text(text)
        except ContractError as exc:
            raise self._with_validity(kind, exc, at) from None
        self._check_validity(kind, values, at, values, False)
        return values

    def _validity_problem(
        self, kind: Kind, values: Mapping[str, FieldValue], at: datetime, submitted: bool = False
    ) -> FieldProblem | None:
        """The kind's ``valid_until`` date already past, as a problem of that field; None when it is not."""
        field = kind.spec.valid_until
        until = values.get(field) if field is not None else None
        today = self.today(at)
        if field is None or not isinstance(until, date) or until >= today:
            return None
        if submitted:
            said = f"{until.isoformat()} is before the day it was submitted, {today.isoformat()} ({self.tz.key})"
            return FieldProblem(field, f"{said}; it must be on or after that day")
        return FieldProblem(field, f"must be today or later (today is {today.isoformat()} in {self.tz.key})")

    def _check_validity(
        self, kind: Kind, values: Mapping[str, FieldValue], at: datetime, raw: Mapping[str, object], submitted: bool
    ) -> None:
        problem = self._validity_problem(kind, values, at, submitted)
        if problem is not None:
            raise ContractError(kind.name, [problem], partial_values={k: str(v) for k, v in raw.items()})

    def _with_validity(self, kind: Kind, error: ContractError, at: datetime, submitted: bool = False) -> ContractError:
        """``error`` plus a ``valid_until`` date already past, when the rest is wrong too: every problem at once."""
        field = kind.spec.valid_until
        given = error.partial_values.get(field) if field is not None else None
        if field is None or given is None or any(p.field == field for p in error.problems):
            return error
        try:
            until = coerce(kind.contract.fields[field], given, tz=self.tz)
        except (ValueError, KeyError):
            return error
        problem = self._validity_problem(kind, {field: until}, at, submitted)
        if problem is None:
            return error
        return ContractError(kind.name, [*error.problems, problem], partial_values=error.partial_values)


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
        rules.append(Rule(rule.id, index, rule.decide, rule.require, rule.reason, rule.limit, condition, rule.mode))

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
