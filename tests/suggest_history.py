"""Small hand-made decision histories for the suggest miner's tests: ``RequestFacts`` built directly."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.governance import Governance
from bot.domain.suggest import SuggestionReport, mine
from bot.domain.suggest_regions import Bar
from bot.domain.surface import RequestFacts, Window

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
APPROVERS = ("U0A", "U0B", "U0C")


class History:
    """Requests of one kind added in submission order; ``decided`` adds a human decision."""

    def __init__(self, kind: str = "discount"):
        self.kind = kind
        self.facts: list[RequestFacts] = []

    def add(
        self,
        fields: dict[str, Any],
        state: str = "approved",
        *,
        by: str | None = "U0A",
        hours: float = 2.0,
        auto_rule: str | None = None,
    ) -> RequestFacts:
        n = len(self.facts) + 1
        at = START + timedelta(minutes=10 * n)
        decided = at + timedelta(hours=hours)
        verdict = {"approved": "approve", "lapsed": "approve", "rejected": "reject"}.get(state)
        votes = ((by, verdict, decided),) if verdict and by and not auto_rule else ()
        decided_by = f"rule:{auto_rule}" if auto_rule else by
        item = RequestFacts(
            n,
            self.kind,
            False,
            state,
            at,
            decided if state not in ("pending", "changes_requested") else None,
            decided_by,
            auto_rule,
            votes=votes,
            requester="U0REQ",
            fields=fields,
        )
        self.facts.append(item)
        return item

    def many(self, rows: Iterable[tuple[dict[str, Any], str]], approvers: tuple[str, ...] = APPROVERS) -> None:
        """Each (fields, state), decided by ``approvers`` in turn."""
        for n, (fields, state) in enumerate(rows):
            self.add(fields, state, by=approvers[n % len(approvers)])


def run(
    governance: Governance, history: History, *, min_support: int = 30, min_approval: float = 0.99
) -> SuggestionReport:
    return mine(history.facts, governance, window=WINDOW, bar=Bar(min_support, min_approval))
