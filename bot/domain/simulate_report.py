"""A backtest rendered: DESIGN §8's JSON shape, and the text a terminal shows (``signoff simulate``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.durations import format_duration
from bot.domain.simulate import SideFigures, Simulation


def simulation_json(sim: Simulation) -> dict[str, Any]:
    """DESIGN §8's keys, plus: ``from`` / ``to`` (the window, ISO 8601 UTC), ``lead_in`` (a
    duration, ``0s`` without limits), ``governance`` ``{"candidate", "current"}`` (version
    hashes), ``share_divisor`` and ``skipped_invalid`` per file, ``skipped_examples``
    ``[{"request", "reason"}]`` (≤ 5), ``differs_from_current`` (requests both files replayed
    and decide differently: outcome or rule), ``decide`` per rule, and ``current_vs_stored``
    (``Fidelity``)."""
    return {
        "from": sim.window.start.isoformat(),
        "to": sim.window.end.isoformat(),
        "lead_in": format_duration(sim.lead_in) if sim.lead_in else "0s",
        "governance": {"candidate": sim.candidate_version, "current": sim.current_version},
        "requests": sim.requests,
        "replayed": sim.candidate.replayed,
        "skipped_invalid": sim.candidate.skipped_invalid,
        "skipped_examples": [{"request": ref, "reason": reason} for ref, reason in sim.skipped_examples],
        "candidate": sim.candidate.as_json(),
        "current": sim.current.as_json(),
        "human_decisions_saved": sim.human_decisions_saved,
        "contradictions": {
            "approved_where_humans_rejected": sim.approved_where_humans_rejected,
            "rejected_where_humans_approved": sim.rejected_where_humans_approved,
            "examples": list(sim.contradiction_examples),
        },
        "differs_from_current": sim.differs_from_current,
        "by_rule": [rule.as_json() for rule in sim.by_rule.values()],
        "current_vs_stored": sim.current_vs_stored.as_json(),
    }


def _share(side: SideFigures) -> str:
    return f"{side.resolved_by_default_share * 100:.1f}%" if side.share_divisor else "—"


def _table(rows: Sequence[tuple[str, ...]], left: int = 1) -> list[str]:
    """Columns padded to their widest cell: the first ``left`` left-aligned, the rest right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [cell.ljust(w) if i < left else cell.rjust(w) for i, (cell, w) in pairs]
        lines.append("  ".join(cells).rstrip())
    return lines


def simulation_text(sim: Simulation, tz: ZoneInfo) -> str:
    """The comparison candidate vs current, contradictions with example ids, per-rule agreement,
    and the skipped requests with reasons; times in ``tz``."""
    start, end = (moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") for moment in (sim.window.start, sim.window.end))
    lines = [
        f"requests submitted from {start} to {end} (exclusive, {tz.key}): {sim.requests},"
        f" replayed through the candidate {sim.candidate.replayed}, skipped {sim.candidate.skipped_invalid}",
        "",
    ]
    sides = [("", "candidate", "current")]
    for label, name in (
        ("approved by a rule", "auto_approved"),
        ("rejected by a rule", "auto_rejected"),
        ("routed to people", "routed"),
        ("skipped (does not fit)", "skipped_invalid"),
    ):
        sides.append((label, str(getattr(sim.candidate, name)), str(getattr(sim.current, name))))
    sides.append(("resolved by defaults", _share(sim.candidate), _share(sim.current)))
    lines += _table(sides)
    lines += [
        "",
        f"human decisions saved: {sim.human_decisions_saved}"
        " (people decided; the candidate would have decided the same way)",
        f"contradictions: {sim.contradictions} (approved where people rejected: {sim.approved_where_humans_rejected},"
        f" rejected where people approved: {sim.rejected_where_humans_approved})",
    ]
    if sim.contradiction_examples:
        lines.append(f"  e.g. {', '.join(sim.contradiction_examples)}")
    lines.append(f"decided differently from the file in force: {sim.differs_from_current}")
    if sim.by_rule:
        lines.append("")
        rows = [("kind", "rule", "decides", "would decide", "agreed with people", "contradicted")]
        rows += [
            (r.kind, r.rule, r.decide, str(r.would_decide), str(r.agreed_with_humans), str(r.contradicted))
            for r in sim.by_rule.values()
        ]
        lines += _table(rows, left=3)
    if sim.skipped_examples:
        lines += ["", f"skipped by the candidate: {sim.candidate.skipped_invalid}, e.g."]
        lines += [f"  {ref}: {reason}" for ref, reason in sim.skipped_examples]
    fidelity = sim.current_vs_stored
    if fidelity.automatic or fidelity.routed:
        lines += [
            "",
            f"the file in force, replayed: {fidelity.automatic_reproduced} of {fidelity.automatic} stored automatic"
            f" decisions made again, {fidelity.routed_reproduced} of {fidelity.routed} routed requests routed again",
        ]
    return "\n".join(lines) + "\n"
