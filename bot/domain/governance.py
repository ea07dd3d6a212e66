"""The governance in force: the validated file, compiled once into kinds, contracts and rules.

``bot.domain.governance_build.build_governance`` makes a ``Governance`` from the parsed file, or
raises ``GovernanceInvalid`` with every problem found, each located by its path in the file
(``kinds.discount.rules[1].when.amount_pct``) and, where the reader can tell, its line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.conditions import (
    HOUR,
    NOW,
    REQUESTER,
    REQUESTER_GROUP,
    TODAY,
    WEEKDAY,
    WEEKDAYS,
    Condition,
    DoubtPlan,
    MatchPlan,
    Truth,
)
from bot.domain.contracts import Contract, ContractError, FieldProblem
from bot.domain.errors import WrongCategory
from bot.domain.fields import FieldValue, coerce
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
from bot.domain.webhook_subscriptions import Subscription

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
    #: False: left out of the request form's live preview (``preview: false``, DESIGN §3.7).
    preview: bool = True

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

    @cached_property
    def private(self) -> bool:
        """Whether a live rule of the kind is kept out of the preview (``preview: false``): one
        that could change the outcome without the preview saying so. Shadow rules never could."""
        return any(not r.preview and not r.shadow for r in self.rules)

    @cached_property
    def public(self) -> Kind:
        """The kind as its preview sees it: the same contract and policy, without the rules
        marked ``preview: false``, as if the file did not have them (itself when it has none)."""
        if all(r.preview for r in self.rules):
            return self
        return Kind(self.name, self.spec, self.contract, [r for r in self.rules if r.preview])


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
