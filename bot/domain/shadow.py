"""Shadow verdicts (DESIGN §3.7): what a kind's ``mode: shadow`` rules would have decided.

A shadow rule is evaluated on every request like a live one, but never decides, adds a step or
uses its limit (``bot.domain.outcome.resolve`` keeps it out of the precedence). What it would
have done is recorded with the request (``requests.shadow``), its audit event and its receipt
as JSON: ``[{"rule": "small-budget", "decide": "approve"}]``; an empty list when no shadow rule
matched. ``signoff report`` compares these with what people decided.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.domain.governance_spec import Decision

#: A rule id as the governance file spells it (``RuleSpec.id``): safe in Slack mrkdwn code spans.
_RULE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


@dataclass(frozen=True, slots=True)
class ShadowVerdict:
    """Shadow rule ``rule`` matched the request: it would have decided ``decide``."""

    rule: str
    decide: Decision

    def to_json(self) -> dict[str, str]:
        """``{"rule": "small-budget", "decide": "approve"}``."""
        return {"rule": self.rule, "decide": str(self.decide)}

    def describe(self) -> str:
        """``shadow rule `small-budget` would have approved`` (rule ids are plain: a-z, 0-9, - and _)."""
        verb = "approved" if self.decide is Decision.APPROVE else "rejected"
        return f"shadow rule `{self.rule}` would have {verb}"


def shadow_shown_to(viewer: str, *, owner: str | None, still_open: bool) -> bool:
    """Whether ``viewer`` (an insider of the request) is shown its shadow verdicts now: the kind's
    owner always (they run the trial); anyone else once the request is decided, so that nobody
    deciding it is anchored by what the trial rule said (which would also bias the agreement
    ``signoff report`` counts)."""
    return viewer == owner or not still_open


def shadow_json(verdicts: Iterable[ShadowVerdict] | None) -> list[dict[str, str]] | None:
    """Verdicts as stored: a list of ``ShadowVerdict.to_json``; None when none were evaluated."""
    return None if verdicts is None else [verdict.to_json() for verdict in verdicts]


def shadow_from_json(data: object) -> tuple[ShadowVerdict, ...] | None:
    """Stored verdicts read back; None when none were recorded (a request older than shadow rules).

    Entries that are not ``{"rule": <rule id>, "decide": "approve" | "reject"}`` are left out:
    the column is data written by Signoff, never trusted to be well formed.
    """
    if not isinstance(data, list):
        return None
    return tuple(verdict for entry in data if (verdict := _verdict(entry)) is not None)


def _verdict(entry: Any) -> ShadowVerdict | None:
    if not isinstance(entry, dict):
        return None
    rule, decide = entry.get("rule"), entry.get("decide")
    if not isinstance(rule, str) or not _RULE_ID.fullmatch(rule) or decide not in (Decision.APPROVE, Decision.REJECT):
        return None
    return ShadowVerdict(rule, Decision(decide))
