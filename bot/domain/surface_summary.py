"""What an owner is shown of their kinds' decision surface: the weekly DM and the App Home section.

Headline figures per kind, for the last 7 and the last 30 days (DESIGN §2 "owns a kind", §8
"In Slack"), taken from ``bot.domain.surface`` reports; the Slack adapter renders them. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.condition_words import Words
from bot.domain.suggestions import Suggestion
from bot.domain.surface import ApproverFigures, KindFigures, SurfaceReport

#: The two windows an owner sees, back from now.
WEEK, MONTH = timedelta(days=7), timedelta(days=30)
#: How many approvers a headline names (the busiest: most decisions first).
BUSIEST = 3
#: How many suggested defaults the weekly summary lists (all the owner's kinds together).
TOP_SUGGESTIONS = 3


@dataclass(frozen=True)
class Headline:
    """One kind over one window. Hours are wall-clock, submission to the deciding vote (people only)."""

    requests: int
    resolved_by_default_share: float
    #: Decisions people made (approved or rejected by a person).
    human_decisions: int
    p50_hours: float
    p90_hours: float
    sla_breaches: int
    #: The ``BUSIEST`` approvers with the most decisions, most first.
    busiest: tuple[ApproverFigures, ...]
    #: What the share is out of (requests − cancelled − pending): 0 means nothing decided yet, no share.
    share_divisor: int

    @classmethod
    def of(cls, figures: KindFigures) -> Headline:
        counters = figures.counters
        return cls(
            requests=counters.requests,
            resolved_by_default_share=counters.resolved_by_default_share,
            human_decisions=counters.human_decisions,
            p50_hours=figures.p50_hours,
            p90_hours=figures.p90_hours,
            sla_breaches=figures.sla_breaches,
            busiest=figures.approvers[:BUSIEST],
            share_divisor=counters.share_divisor,
        )


@dataclass(frozen=True)
class KindHeadlines:
    """One kind the owner owns: its ``title`` and its headlines over the last 7 and 30 days."""

    kind: str
    title: str
    week: Headline
    month: Headline


@dataclass(frozen=True)
class SuggestedDefault:
    """A default the history suggests for the owner to review (DESIGN §8 ``suggest``): the miner's
    ``suggestion`` (rule, evidence, tests) and its ``when`` in words (``amount_pct ≤ 12``,
    ``bot.domain.condition_words``)."""

    suggestion: Suggestion
    condition: Words


def top_suggestions(suggestions: Iterable[Suggestion], limit: int = TOP_SUGGESTIONS) -> list[Suggestion]:
    """The ``limit`` suggestions an owner is shown: most coverage first, then most support, then by
    kind and rule id (so the order never depends on the miner's)."""
    return sorted(suggestions, key=lambda s: (-s.coverage, -s.support, s.kind, s.rule_id))[:limit]


@dataclass(frozen=True)
class OwnerSurface:
    """Everything an owner is shown about their kinds: headlines per kind (in file order), the
    30-day report (the chart's data) and the suggested defaults (``top_suggestions``; none where the
    history shows no routine decision, or where they were not asked for: App Home)."""

    owner: str
    kinds: tuple[KindHeadlines, ...]
    month: SurfaceReport
    suggestions: tuple[SuggestedDefault, ...] = ()

    @property
    def kind_names(self) -> list[str]:
        return [k.kind for k in self.kinds]

    @property
    def by_activity(self) -> tuple[list[KindHeadlines], list[KindHeadlines]]:
        """Kinds with requests in the last 30 days, most first (ties in file order); then the idle ones."""
        busy = sorted((k for k in self.kinds if k.month.requests), key=lambda k: -k.month.requests)
        return busy, [k for k in self.kinds if not k.month.requests]

    @property
    def quiet(self) -> bool:
        """No request of the owner's kinds in the last 30 days: nothing to decide about."""
        return all(k.month.requests == 0 for k in self.kinds)


def owner_surface(owner: str, titles: dict[str, str], week: SurfaceReport, month: SurfaceReport) -> OwnerSurface:
    """The owner's view from the 7-day and 30-day reports of their kinds (``titles``: kind → title, in order)."""
    by_week = {k.kind: k for k in week.kinds}
    by_month = {k.kind: k for k in month.kinds}
    kinds = tuple(
        KindHeadlines(name, title, Headline.of(by_week[name]), Headline.of(by_month[name]))
        for name, title in titles.items()
        if name in by_week and name in by_month
    )
    return OwnerSurface(owner, kinds, month)


def chart_filename(week: str) -> str:
    """The weekly chart's file name in the owner's DM: unique per week there, so a retry can find it."""
    return f"decision-surface-{week}.png"
