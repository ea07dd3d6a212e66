"""The governance file (``signoff.yaml``) as Pydantic models: its shape, one model per section.

These models check what each section looks like on its own. What needs the whole file
(a rule naming a field of its kind, a group that exists) is checked when it is compiled,
in ``bot.domain.governance``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from bot.domain.cron import parse_cron
from bot.domain.durations import parse_duration
from bot.domain.fields import FieldSpec, setting_number
from bot.domain.json_values import show_given
from bot.domain.text import character_name, look_alike_keys


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as 90s, 15m, 8h, 14d or 2w, got {show_given(value)}")
    return parse_duration(value)


def _cron(value: object) -> str:
    parse_cron(value)  # type: ignore[arg-type]  # raises with a located message
    assert isinstance(value, str)
    return value


def _moment(value: object) -> object:
    """A test's ``at`` as written (text, or a date or date-time typed by YAML), read later by
    ``bot.domain.moments.parse_datetime``; Pydantic alone would take ``17`` as 1970-01-01 00:00:17."""
    if value is not None and not isinstance(value, str | date):
        raise ValueError(f"expected a date and time, YYYY-MM-DD HH:MM, or a date, got {show_given(value)}")
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
CronText = Annotated[str, BeforeValidator(_cron)]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
UserId = Annotated[str, StringConstraints(pattern=r"^[UW][A-Z0-9]{2,}$")]
ChannelId = Annotated[str, StringConstraints(pattern=r"^[CG][A-Z0-9]{2,}$")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]{0,127}$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_WORKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")


class Category(StrEnum):
    APPROVAL = "approval"
    EXCEPTION = "exception"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Outcome(StrEnum):
    """What the governance decided for a request: decided by a rule, or routed to people."""

    APPROVE = "approve"
    REJECT = "reject"
    ROUTE = "route"


class RuleMode(StrEnum):
    """Whether a rule acts (``live``) or is only trialled on live traffic (``shadow``, DESIGN §3.7)."""

    LIVE = "live"
    SHADOW = "shadow"


class LimitScope(StrEnum):
    REQUESTER = "requester"
    KIND = "kind"


def _step(value: object) -> object:
    return {"group": value} if isinstance(value, str) else value


class StepSpec(StrictModel):
    """An approval step: ``approvals`` distinct eligible people of ``group``."""

    group: Name
    approvals: StrictInt = Field(default=1, ge=1, le=25)  # strict: YAML's true is not 1


Step = Annotated[StepSpec, BeforeValidator(_step)]


#: The largest ``limit.count``: more decisions than that per window is no limit worth stating.
MAX_LIMIT_COUNT = 100_000


class LimitSpec(StrictModel):
    """How often an approve rule may decide: a count, or a budget over a numeric field."""

    count: StrictInt | None = Field(default=None, ge=1, le=MAX_LIMIT_COUNT)
    sum: str | None = None
    max: Annotated[float | None, BeforeValidator(setting_number), Field(default=None, gt=0)]
    per: LimitScope = LimitScope.REQUESTER
    window: Duration

    @model_validator(mode="after")
    def _one_kind_of_limit(self) -> Self:
        if self.count is not None and (self.sum is not None or self.max is not None):
            raise ValueError("a limit is either a count or a budget (sum + max), not both")
        if self.count is None and (self.sum is None or self.max is None):
            raise ValueError("a limit needs either count, or both sum (a number field) and max")
        return self


def _mode(value: object) -> object:
    """``live`` or ``shadow`` exactly as written; anything else is refused showing what was written
    (invisible characters as ``[U+…]``) and, for a look-alike of one, what makes it differ."""
    if isinstance(value, str) and value in ("live", "shadow"):
        return value
    message = f"must be live or shadow, got {show_given(value)}"
    if isinstance(value, str):
        meant = next((word for word in ("live", "shadow") if word in look_alike_keys(value)), None)
        if meant is not None:
            odd = [character_name(c) for c in dict.fromkeys(value) if not (c.isascii() and c.isprintable())]
            why = f"it has {', '.join(odd)}" if odd else "write it in lowercase, with no spaces"
            message += f", which looks like “{meant}” ({why})"
    raise ValueError(message)


class RuleSpec(StrictModel):
    """A governed default: when it applies, what it decides (or which step it adds), and why."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    when: dict[str, Any] | None = None
    decide: Decision | None = None
    require: Step | None = None
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
    limit: LimitSpec | None = None
    #: ``shadow``: evaluated and recorded on every request, but never decides, adds a step or
    #: uses its limit (DESIGN §3.7).
    mode: Annotated[RuleMode, BeforeValidator(_mode)] = RuleMode.LIVE
    #: ``false``: left out of the request modal's live preview, so the owner can keep its threshold
    #: private; it still decides and shows in receipts (DESIGN §3.7). Strict: only true or false.
    preview: StrictBool = True

    @model_validator(mode="after")
    def _one_effect(self) -> Self:
        if (self.decide is None) == (self.require is None):
            raise ValueError("a rule has exactly one of decide (approve or reject) or require (a group)")
        if self.limit is not None and self.decide is not Decision.APPROVE:
            raise ValueError("limit only applies to rules that decide: approve")
        if self.mode is RuleMode.SHADOW and self.decide is None:
            raise ValueError("a shadow rule trials a decision: it needs decide (approve or reject), not require")
        return self


class KindTestSpec(StrictModel):
    """An example request and what the governance must do with it (``signoff test``)."""

    name: str | None = None
    fields: dict[str, Any]
    requester: UserId | None = None
    #: A bare date is the start of that day, as for ``signoff explain --at``.
    at: Annotated[datetime | date | str | None, BeforeValidator(_moment)] = None
    expect: Outcome
    rule: str | None = None
    steps: list[Name] | None = None
    #: The shadow verdicts expected, exactly: shadow rule id → approve | reject (``{}``: none match).
    #: Given, it must be a mapping: ``shadow:`` left empty (null) would silently assert nothing.
    shadow: dict[str, Decision] | None = None

    @field_validator("shadow", mode="before")
    @classmethod
    def _shadow_mapping(cls, value: object) -> object:
        if not isinstance(value, dict):
            given = show_given(value)
            raise ValueError(f"must be a mapping of rule → approve|reject ({{}}: none matches), got {given}")
        return value


def _approvers(value: object) -> object:
    return [value] if isinstance(value, str | dict) else value


#: The most rules a file holds, all kinds together: each one is compiled at every load, and
#: 2,000 load in ~2.5 s (``bot.governance_file`` states the measured bounds).
MAX_RULES = 2_000


class KindSpec(StrictModel):
    title: Annotated[str, StringConstraints(min_length=1, max_length=80, strip_whitespace=True)]
    category: Category = Category.APPROVAL
    description: str | None = Field(default=None, max_length=300)
    owner: UserId
    fields: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")], FieldSpec] = Field(
        min_length=1, max_length=25
    )
    approvers: Annotated[list[Step], BeforeValidator(_approvers), Field(min_length=1)]
    sla: Duration | None = None
    escalate: list[Name] = Field(default_factory=list)
    expire_after: Duration | None = None
    valid_until: str | None = None
    max_duration: Duration | None = None
    warn_before: Duration = timedelta(days=3)
    rules: list[RuleSpec] = Field(default_factory=list)
    tests: list[KindTestSpec] = Field(default_factory=list)

    @field_validator("rules", mode="before")
    @classmethod
    def _rules_in_bounds(cls, rules: object) -> object:
        if isinstance(rules, list) and len(rules) > MAX_RULES:
            raise ValueError(f"a kind holds at most {MAX_RULES:,} rules, here {len(rules):,}")
        return rules

    @model_validator(mode="after")
    def _time_boxed_only_if_exception(self) -> Self:
        boxed = self.valid_until is not None or self.max_duration is not None
        if self.category is Category.EXCEPTION and not boxed:
            raise ValueError("an exception kind is time-boxed: set valid_until (a date field) and/or max_duration")
        if self.category is Category.APPROVAL and boxed:
            raise ValueError("valid_until and max_duration only apply to kinds of category exception")
        return self


class GroupSpec(StrictModel):
    members: list[UserId] = Field(min_length=1)
    channel: ChannelId | None = None
    digest: CronText | None = None

    @field_validator("members")
    @classmethod
    def _unique(cls, members: list[str]) -> list[str]:
        if len(set(members)) != len(members):
            raise ValueError("members are listed more than once")
        return members


def _clock(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        # The loader reads 18:00 as text (YAML 1.2); a number here is minutes or a mistake.
        raise ValueError(f'write times in quotes, e.g. "{value // 60:02d}:{value % 60:02d}"')
    return value


Clock = Annotated[time, BeforeValidator(_clock)]


class WorkingHours(StrictModel):
    """When scheduled messages may reach people; ``always`` turns the restriction off."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    always: bool = False
    days: list[Weekday] = Field(default_factory=lambda: list(_WORKDAYS), min_length=1)
    start: Clock = Field(default=time(8, 0), alias="from")
    end: Clock = Field(default=time(18, 0), alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.always and self.start >= self.end:
            raise ValueError("working hours must start before they end")
        return self


def _working_hours(value: object) -> object:
    if value == "always":
        return {"always": True}
    if not isinstance(value, dict):
        raise ValueError('expected `always` or a mapping such as {days: [mon, tue], from: "08:00", to: "18:00"}')
    return value


# --- API clients (DESIGN §9) ---------------------------------------------------------------

#: A client's token as ``token_sha256`` holds it: the SHA-256 of the token, 64 lowercase hex digits.
TokenSha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class ApiClientSpec(StrictModel):
    """A system that files and reads requests over the HTTP API (DESIGN §9): its id, its token's
    hash (the token itself is never stored; ``signoff api-token`` makes one), and the kinds it
    may file and see. Unique ids and known kinds are checked with the whole file
    (``bot.domain.api_clients.check_api_clients``)."""

    id: Name
    token_sha256: TokenSha256
    kinds: list[Name] = Field(min_length=1)

    def may_use(self, kind: str) -> bool:
        return kind in self.kinds


def _text(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {show_given(value)}")
    return value


def _webhook_event(value: str) -> str:
    from bot.domain.webhook_subscriptions import (
        check_webhook_event,
    )  # it reads the event names, whose module reads this one

    return check_webhook_event(value)


def _webhook_url(value: str) -> str:
    from bot.domain.webhook_subscriptions import check_webhook_url

    return check_webhook_url(value)


WebhookEvent = Annotated[str, BeforeValidator(_text), AfterValidator(_webhook_event)]
WebhookUrl = Annotated[str, BeforeValidator(_text), AfterValidator(_webhook_url)]


class WebhookSpec(StrictModel):
    """A webhook subscription (DESIGN §9); whole-file checks are in ``bot.domain.webhooks.compile_webhooks``."""

    id: Name
    url: WebhookUrl
    #: The environment variable holding the ``whsec_…`` secret; read at serve/worker start, never by check.
    secret_env: EnvName
    events: list[WebhookEvent] | None = Field(default=None, min_length=1)  # None: every event
    kinds: list[Name] | None = Field(default=None, min_length=1)  # None: every kind
    owner: UserId | None = None  # None: the owner of its first kind

    @field_validator("events", "kinds", "owner", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        """``events: ~`` is a mistake, not "every event": a setting that is not wanted is left out."""
        if value is None:
            raise ValueError("is null; list what it takes, or leave the setting out for its default")
        return value

    @field_validator("events", "kinds")
    @classmethod
    def _unique(cls, names: list[str] | None) -> list[str] | None:
        if names is not None and len(set(names)) != len(names):
            raise ValueError("a name is listed more than once")
        return names


class GovernanceSpec(StrictModel):
    version: Literal[1]
    timezone: str = "UTC"
    digest: CronText = "0 9 * * MON-FRI"
    working_hours: Annotated[WorkingHours, BeforeValidator(_working_hours)] = WorkingHours()
    groups: dict[Name, GroupSpec] = Field(min_length=1)
    kinds: dict[Name, KindSpec] = Field(min_length=1)
    api_clients: list[ApiClientSpec] = Field(default_factory=list)
    webhooks: list[WebhookSpec] = Field(default_factory=list)

    @field_validator("kinds")
    @classmethod
    def _rules_in_bounds(cls, kinds: dict[str, KindSpec]) -> dict[str, KindSpec]:
        total = sum(len(kind.rules) for kind in kinds.values())
        if total > MAX_RULES:
            raise ValueError(f"a file holds at most {MAX_RULES:,} rules, here {total:,} in all kinds together")
        return kinds
