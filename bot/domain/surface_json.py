"""The decision-surface report in DESIGN §8's JSON shape (``signoff report --format json``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from bot.domain.surface import KindFigures, SurfaceReport


def report_json(report: SurfaceReport) -> dict[str, Any]:
    """The report in DESIGN §8's JSON shape (plus ``weeks`` per kind); hours rounded to 0.01."""
    return {
        "from": report.window.start.isoformat(),
        "to": report.window.end.isoformat(),
        "governance": report.governance,
        "totals": report.totals.as_json(),
        "kinds": [_kind_json(k) for k in report.kinds],
        **({"stored_span": span_json(report.stored_span)} if report.totals.requests == 0 else {}),
    }


def span_json(span: tuple[datetime, datetime] | None) -> dict[str, str] | None:
    """``{"first", "last"}``: ISO 8601 submission times of the stored requests (None: none stored)."""
    return None if span is None else {"first": span[0].isoformat(), "last": span[1].isoformat()}


def _kind_json(kind: KindFigures) -> dict[str, Any]:
    return {
        "kind": kind.kind,
        "owner": kind.owner,
        **kind.counters.as_json(),
        "time_to_decision_hours": {"p50": round(kind.p50_hours, 2), "p90": round(kind.p90_hours, 2)},
        "sla_breaches": kind.sla_breaches,
        "escalations": kind.escalations,
        "rules": [asdict(rule) for rule in kind.rules],
        "approvers": [asdict(a) | {"median_hours": round(a.median_hours, 2)} for a in kind.approvers],
        "weeks": [
            {
                "week_start": w.week_start.isoformat(),
                "requests": w.requests,
                "resolved_by_default_share": round(w.resolved_by_default_share, 4),
                "share_divisor": w.share_divisor,
            }
            for w in kind.weeks
        ],
    }
