"""The figures of a backtest (``bot.domain.simulate``): per file, per candidate rule, and how
faithfully the file in force replays the live requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.domain.governance_spec import Outcome
from bot.domain.surface import default_share

if TYPE_CHECKING:
    from bot.domain.simulate import Answer, Happened
    from bot.domain.surface import RequestFacts

APPROVE, REJECT, ROUTE = str(Outcome.APPROVE), str(Outcome.REJECT), str(Outcome.ROUTE)
#: Stored states out of the share's divisor when the file routes the request (``Counters.share_divisor``).
UNDECIDED = frozenset({"cancelled", "pending"})


@dataclass
class SideFigures:
    """One file's replay: its automatic decisions, routed requests and skipped ones.

    ``open_routed``: routed requests that, stored, were cancelled or are pending (out of the divisor).
    """

    auto_approved: int = 0
    auto_rejected: int = 0
    routed: int = 0
    skipped_invalid: int = 0
    open_routed: int = 0

    @property
    def replayed(self) -> int:
        return self.auto_approved + self.auto_rejected + self.routed

    @property
    def share_divisor(self) -> int:
        return self.replayed - self.open_routed

    @property
    def resolved_by_default_share(self) -> float:
        """Automatic decisions ÷ ``share_divisor`` (0.0 when that is 0: nothing decided)."""
        return default_share(self.auto_approved + self.auto_rejected, self.share_divisor)

    def count(self, answer: Answer, state: str) -> None:
        if answer.outcome == APPROVE:
            self.auto_approved += 1
        elif answer.outcome == REJECT:
            self.auto_rejected += 1
        elif answer.outcome == ROUTE:
            self.routed += 1
            self.open_routed += state in UNDECIDED
        else:
            self.skipped_invalid += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "auto_approved": self.auto_approved,
            "auto_rejected": self.auto_rejected,
            "routed": self.routed,
            "resolved_by_default_share": round(self.resolved_by_default_share, 4),
            "share_divisor": self.share_divisor,
            "skipped_invalid": self.skipped_invalid,
        }


@dataclass
class RuleAgreement:
    """One candidate rule that decides (approve or reject): see the module docstring, ``by_rule``."""

    kind: str
    rule: str
    decide: str
    would_decide: int = 0
    agreed_with_humans: int = 0
    contradicted: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rule": self.rule,
            "decide": self.decide,
            "would_decide": self.would_decide,
            "agreed_with_humans": self.agreed_with_humans,
            "contradicted": self.contradicted,
        }


@dataclass
class Fidelity:
    """How the file in force (version ``version``) replays the live requests of the window
    (``current_vs_stored``): of the stored automatic decisions, how many it makes again (same
    outcome, same rule); of the live requests no rule decided, how many it routes again. Both
    counts are over every live request: those the file cannot replay (``not_replayed_*``: a kind
    it lacks, fields that no longer fit) count as not made again. ``other_governance``: live
    requests filed under another governance version than ``version`` (a change since explains a
    difference)."""

    version: str = ""
    automatic: int = 0
    automatic_reproduced: int = 0
    automatic_not_replayed: int = 0
    routed: int = 0
    routed_reproduced: int = 0
    routed_not_replayed: int = 0
    other_governance: int = 0

    @property
    def live(self) -> int:
        return self.automatic + self.routed

    def count(self, facts: RequestFacts, answer: Answer, what: Happened) -> None:
        if facts.imported:
            return
        self.other_governance += facts.governance is not None and facts.governance != self.version
        if what.auto is not None:
            self.automatic += 1
            self.automatic_not_replayed += answer.outcome is None
            self.automatic_reproduced += (answer.outcome, answer.rule) == (what.auto, what.rule)
        else:
            self.routed += 1
            self.routed_not_replayed += answer.outcome is None
            self.routed_reproduced += answer.outcome == ROUTE

    def as_json(self) -> dict[str, int]:
        return {
            "live_automatic": self.automatic,
            "reproduced": self.automatic_reproduced,
            "live_routed": self.routed,
            "routed_again": self.routed_reproduced,
            "not_replayed_automatic": self.automatic_not_replayed,
            "not_replayed_routed": self.routed_not_replayed,
            "other_governance": self.other_governance,
        }
