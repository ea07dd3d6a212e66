"""A suggested governed default (DESIGN §8 ``signoff suggest``): the rule and its evidence.

This module is the shape shared by the miner (``bot.domain.suggest``), the CLI, the governance
file writer and the owner's weekly summary in Slack. Everything in it is plain data: ``when``
and ``tests`` are written exactly as a governance file writes them (§3.2, §3.6).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Suggestion:
    """One suggested rule for ``kind``, with the human decisions that support it.

    - ``rule_id``, ``when`` (a §3.2 condition mapping, e.g. ``{"all": [{"amount_pct": {"lte": 12}},
      {"tier": {"in": ["partner"]}}]}``), ``decide`` (``approve`` | ``reject``), ``reason``;
    - ``support``: human decisions in its region (``approved`` + ``rejected``), by ``approvers``
      distinct people; ``examples``: up to 5 request ids (``REQ-…``) in it;
    - ``coverage``: the share (0–1) of the kind's human decisions in the window it would have resolved;
    - ``median_wait_hours``: the median wall-clock hours those people took (submission → deciding vote);
    - ``tests``: governance-file test entries drawn from real history (§3.6), each a mapping with
      ``fields`` and ``expect`` (plus ``name``, ``at``, ``rule`` as the file accepts them).
    """

    kind: str
    rule_id: str
    when: Mapping[str, Any]
    decide: str
    reason: str
    support: int
    approved: int
    rejected: int
    approvers: int
    coverage: float
    median_wait_hours: float
    examples: tuple[str, ...] = ()
    tests: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    #: The source-system id of each imported example (``{"REQ-812": "LAT202601-00042"}``).
    sources: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: ``live`` (the default) or ``shadow``: written ``mode: shadow``, to trial it first (DESIGN §3.7).
    mode: str = "live"

    def shown_examples(self) -> list[str]:
        """The examples as people look them up: ``REQ-812 (LAT202601-00042)`` for an imported one."""
        return [f"{e} ({self.sources[e]})" if e in self.sources else e for e in self.examples]

    def rule(self) -> dict[str, Any]:
        """The rule as a governance file writes it under the kind's ``rules:``."""
        rule = {"id": self.rule_id, "when": dict(self.when), "decide": self.decide, "reason": self.reason}
        if self.mode == "shadow":
            rule["mode"] = "shadow"
        return rule

    def as_json(self) -> dict[str, Any]:
        """DESIGN §8's JSON shape of one suggestion (extra key: ``tests``)."""
        return {
            "kind": self.kind,
            "rule": self.rule(),
            "support": self.support,
            "approved": self.approved,
            "rejected": self.rejected,
            "approvers": self.approvers,
            "coverage": round(self.coverage, 4),
            "median_wait_hours": round(self.median_wait_hours, 2),
            "examples": list(self.examples),
            "example_sources": dict(self.sources),
            "tests": [dict(test) for test in self.tests],
        }
