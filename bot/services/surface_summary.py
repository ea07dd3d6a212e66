"""The owner's decision surface in Slack (DESIGN §2 "owns a kind", §8 "In Slack"): the weekly
summary DM, queued here, and the figures it and the App Home show.

Once a week each owner of a kind is sent a summary of their kinds: on Monday, in working hours
in their timezone (``bot.domain.schedule.summary_week``). A pass queues one outbox row per owner
whose Monday window is open, keyed ``surface:<owner>:<ISO week>``: one per owner per week,
however often and on however many workers the pass runs. The figures are not in the row: the
relay computes them at delivery (``owner_figures``), as cards are rendered at delivery, with the
suggested defaults of the owner's kinds (``bot.services.suggest``, DESIGN §8: default thresholds,
default window; mined once per owner, only for a summary that is sent).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from bot.domain.condition_compiler import compile_condition
from bot.domain.condition_words import describe_when
from bot.domain.eligibility import is_person
from bot.domain.errors import NotAllowed
from bot.domain.governance import Governance
from bot.domain.governance_spec import RuleSpec
from bot.domain.outbox import MessageRef, OutboxItem, surface_summary
from bot.domain.schedule import summary_week, zone
from bot.domain.suggestions import Suggestion
from bot.domain.surface import Window
from bot.domain.surface_summary import (
    MONTH,
    WEEK,
    OwnerSurface,
    SuggestedDefault,
    chart_filename,
    owner_surface,
    top_suggestions,
)
from bot.domain.surface_window import parse_window
from bot.services.digests import TimezoneOf
from bot.services.report import surface_report
from bot.services.runtime import Runtime
from bot.services.suggest import suggest_defaults


class SurfaceGateway(Protocol):
    """What delivering a summary needs of Slack (part of the relay's gateway). Raises ``DeliveryError``."""

    def send_surface_summary(self, *, user: str, surface: OwnerSurface, week: str, key: str = "") -> None:
        """DM ``user`` the summary's figures, with outbox ``key`` in the message metadata."""
        ...

    def share_surface_chart(self, *, user: str, surface: OwnerSurface, filename: str) -> None:
        """Upload the share-by-week chart (PNG) of ``surface`` into ``user``'s DM as ``filename``."""
        ...

    def find_posted_file(self, *, recipient: str, filename: str, since: datetime) -> bool:
        """Whether a file named ``filename`` was shared in ``recipient``'s DM since ``since``."""
        ...

    def find_posted(self, *, recipient: str, key: str, since: datetime) -> MessageRef | None: ...


@dataclass(frozen=True)
class SurfaceQueueReport:
    """``queued`` new summaries; ``keys``: the outbox key of every owner whose window is open now
    (queued now or before)."""

    queued: int
    keys: tuple[str, ...] = ()


def owned_kinds(governance: Governance, owner: str) -> dict[str, str]:
    """The kinds ``owner`` owns, name → title, in file order (empty for someone who owns none)."""
    return {name: kind.title for name, kind in governance.kinds.items() if kind.owner == owner}


def queue_surface_summaries(*, runtime: Runtime, timezone_of: TimezoneOf) -> SurfaceQueueReport:
    """Queue this week's summary for every owner whose Monday window is open now (none twice).

    An owner's timezone is the people directory's (``timezone_of``), else the file's ``timezone``.
    An owner Slack reports as deactivated (the people directory) gets none.
    """
    governance = runtime.governance()
    now = runtime.clock.now()
    owners = sorted({kind.owner for kind in governance.kinds.values() if is_person(kind.owner)})
    intents = []
    for owner in owners:
        week = summary_week(now, governance.spec.working_hours, zone(timezone_of(owner), governance.tz))
        if week is not None:
            kinds = list(owned_kinds(governance, owner))
            intents.append(surface_summary(owner, week=week, kinds=kinds, not_before=now))
    queued = 0
    with runtime.uow() as uow:
        gone = uow.people.deactivated()  # Slack would refuse the DM: nobody to tell
        intents = [i for i in intents if i.payload["user"] not in gone]
        for intent in intents:
            queued += int(uow.outbox.add(intent, now=now))
        uow.commit()
    return SurfaceQueueReport(queued=queued, keys=tuple(i.key for i in intents))


def owner_figures(*, runtime: Runtime, owner: str, suggestions: bool = False) -> OwnerSurface | None:
    """``owner``'s kinds over the last 7 and the last 30 days, as of now; None when they own no kind.

    Two reads of the report service, filtered to the owner's kinds (each one pass over the
    requests submitted in its window, ``created_at`` indexed). With ``suggestions`` (the weekly
    DM, not App Home), also the top suggested defaults of those kinds (``owner_suggestions``),
    unless the kinds had no request in the last 30 days (no summary is sent then). Stores nothing.
    """
    governance = runtime.governance()
    titles = owned_kinds(governance, owner)
    if not titles:
        return None
    now = runtime.clock.now()
    week = surface_report(runtime, window=Window(now - WEEK, now), kinds=list(titles))
    month = surface_report(runtime, window=Window(now - MONTH, now), kinds=list(titles))
    surface = owner_surface(owner, titles, week, month)
    if suggestions and not surface.quiet:
        surface = replace(surface, suggestions=owner_suggestions(runtime=runtime, kinds=list(titles)))
    return surface


def owner_suggestions(*, runtime: Runtime, kinds: list[str]) -> tuple[SuggestedDefault, ...]:
    """The top suggested defaults (``top_suggestions``: by coverage, then support) of ``kinds``, with
    each rule's ``when`` in words; mined once, with ``signoff suggest``'s defaults (thresholds, and
    the window: 90 days back from now). Empty where the history shows no routine decision."""
    governance = runtime.governance()
    window = parse_window(None, None, now=runtime.clock.now(), timezone=governance.tz)
    mined = suggest_defaults(runtime, window=window, kinds=kinds).suggestions
    shown = []
    for suggestion in top_suggestions(s for s in mined if s.kind in kinds):
        fields = governance.kinds[suggestion.kind].contract.fields
        shown.append(SuggestedDefault(suggestion, describe_when(suggestion.when, fields, tz=governance.tz)))
    return tuple(shown)


def check_may_see_suggestion(*, runtime: Runtime, kind: str, viewer: str) -> None:
    """Raise ``NotAllowed`` unless ``viewer`` owns ``kind`` now (in the governance in force): a
    suggestion shows real requests' fields (its tests, its examples), which only the owner is shown."""
    owner = owned_by(runtime.governance(), kind)
    if owner is None:
        raise NotAllowed(f"the kind {kind} is no longer in the governance file, so its suggestions are not shown")
    if owner != viewer:
        raise NotAllowed(f"only {{owner}}, who owns {kind}, may see its suggested defaults", owner=owner)


def suggestion_fits(*, runtime: Runtime, suggestion: Suggestion) -> bool:
    """Whether ``suggestion`` could be a rule of its kind in the governance in force: the file takes
    the rule (its id, reason, ``when``: ``RuleSpec``), its ``when`` compiles against the kind's
    fields and the file's groups (DESIGN §3.2), and its tests name only the kind's fields. A button
    carrying anything else was not made by Signoff for this file."""
    governance = runtime.governance()
    kind = governance.kinds.get(suggestion.kind)
    if kind is None:
        return False
    fields = kind.spec.fields
    try:  # a refusal of either is a ValueError (pydantic's ValidationError, ConditionError)
        RuleSpec.model_validate(suggestion.rule())
        compile_condition(suggestion.when, fields=fields, groups=list(governance.groups), tz=governance.tz)
    except ValueError:
        return False
    return all(set(test.get("fields") or {}) <= set(fields) for test in suggestion.tests)


def owned_by(governance: Governance, kind: str) -> str | None:
    """Who owns ``kind`` in ``governance``; None for a kind it does not have."""
    found = governance.kinds.get(kind)
    return found.owner if found is not None else None


def deliver_surface_summary(
    runtime: Runtime, gateway: SurfaceGateway, item: OutboxItem, *, in_doubt_since: datetime | None
) -> None:
    """Send one queued summary: the figures as of now, then the chart, each at most once.

    Nothing is sent to an owner Slack now reports as deactivated, who owns no kind any more, or
    whose kinds had no request in the last 30 days (nothing to decide about). The post comes
    first, carrying the outbox key; the chart follows under a file name unique to the week in
    that DM. A retry (``in_doubt_since``: the row may have reached Slack, look from then) skips
    what history shows was already sent: the post by its key, the chart by its file name; so a
    retry re-sends only what is missing, and the owner never sees two summaries or two charts
    (unless Slack's history cannot be read: then, as for every post, it is sent again).
    """
    owner, week = str(item.payload["user"]), str(item.payload["week"])
    with runtime.uow(read_only=True) as uow:
        if owner in uow.people.deactivated():  # deactivated since it was queued: nobody to tell
            return
    surface = owner_figures(runtime=runtime, owner=owner, suggestions=True)
    if surface is None or surface.quiet:
        return
    posted = in_doubt_since is not None and gateway.find_posted(recipient=owner, key=item.key, since=in_doubt_since)
    if not posted:
        gateway.send_surface_summary(user=owner, surface=surface, week=week, key=item.key)
    filename = chart_filename(week)
    if in_doubt_since is None or not gateway.find_posted_file(recipient=owner, filename=filename, since=in_doubt_since):
        gateway.share_surface_chart(user=owner, surface=surface, filename=filename)
