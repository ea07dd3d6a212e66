"""How well a governance file automates latent-policy history (``tests.latent_history``): reusable by
the suggest quality test and, later, by backtests (``signoff simulate``).

``measure(governance, rows, truths)`` resolves each row (its fields as of its submission, its
requester and time) with ``governance`` and compares with the latent truth and what people did:

- ``routine_share``: automated ÷ rows of the ``routine`` region (any outcome: a routine request
  a rule decides is a human decision saved, whether or not it was later cancelled);
- ``contradictions``: automated decisions that differ from the human one ÷ automated rows that
  people decided (approved/rejected). With noise ε, about ε/2 of human decisions are contrary to
  the policy, so even a perfect rule "contradicts" that share;
- ``policy_contradictions``: automated decisions the latent policy does not make ÷ automated rows:
  an approval outside ``routine`` (and the shadow-ruled small budget moves people approve), a
  rejection outside ``reject`` (and the file's own over-60 % rule), anything in ``habit`` or ``judgement``;
- ``reject_regions``: per rule that rejected something, the share of its rows whose latent region
  is ``reject`` or the file's own ``governed`` rejections (1.0: it only rejected what people always reject).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.governance import Governance
from bot.domain.governance_spec import Outcome
from bot.domain.outcome import resolve
from tests.latent_history import Truth


@dataclass
class Quality:
    rows: int = 0
    routine: int = 0
    routine_automated: int = 0
    automated: int = 0
    automated_decided: int = 0
    contradicted: int = 0
    against_policy: int = 0
    rejected_by_rule: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    #: region → how many of its rows a rule decided
    automated_by_region: Counter[str] = field(default_factory=Counter)

    @property
    def routine_share(self) -> float:
        return self.routine_automated / self.routine if self.routine else 0.0

    @property
    def contradictions(self) -> float:
        return self.contradicted / self.automated_decided if self.automated_decided else 0.0

    @property
    def policy_contradictions(self) -> float:
        return self.against_policy / self.automated if self.automated else 0.0

    def reject_purity(self, rule: str) -> float:
        counts = self.rejected_by_rule[rule]
        total = sum(counts.values())
        return (counts["reject"] + counts["governed"]) / total if total else 1.0

    def describe(self) -> str:
        lines = [
            f"rows {self.rows}; routine region automated {self.routine_automated}/{self.routine} "
            f"= {self.routine_share:.1%}",
            f"automated {self.automated} (by region: {dict(self.automated_by_region)}); contradicting people "
            f"{self.contradicted}/{self.automated_decided} = {self.contradictions:.2%}; contradicting the latent "
            f"policy {self.against_policy}/{self.automated} = {self.policy_contradictions:.2%}",
        ]
        lines += [
            f"reject rule {rule}: {self.reject_purity(rule):.1%} in the reject region" for rule in self.rejected_by_rule
        ]
        return "\n".join(lines)


def measure(governance: Governance, rows: Sequence[dict[str, Any]], truths: Sequence[Truth]) -> Quality:
    """See the module docstring. Rows whose fields no longer fit are an error: the generator's rows always fit."""
    quality = Quality()
    for row, truth in zip(rows, truths, strict=True):
        kind = governance.kinds[row["kind"]]
        at = datetime.fromisoformat(row["submitted_at"])
        values = governance.validate_fields(kind, row["fields"], at=at, submitted=True)
        resolution = resolve(governance, kind, values, requester=row["requester"], at=at)
        quality.rows += 1
        automated = resolution.outcome is not Outcome.ROUTE
        quality.routine += truth.region == "routine"
        if not automated:
            continue
        quality.automated += 1
        quality.automated_by_region[truth.region] += 1
        quality.routine_automated += truth.region == "routine"
        quality.against_policy += latent_verdict(truth) != str(resolution.outcome)
        if resolution.outcome is Outcome.REJECT and resolution.rule is not None:
            quality.rejected_by_rule[resolution.rule][truth.region] += 1
        if row["outcome"] in ("approved", "rejected"):
            quality.automated_decided += 1
            human = "approve" if row["outcome"] == "approved" else "reject"
            quality.contradicted += human != str(resolution.outcome)
    return quality


def latent_verdict(truth: Truth) -> str | None:
    """What the latent policy decides for a row (None: people judge, or one approver's habit)."""
    if truth.region == "routine":
        return "approve"
    if truth.region == "reject":
        return "reject"
    if truth.region == "governed":
        return "reject" if truth.kind == "discount" else "approve"
    return None
