"""A backtest rendered: DESIGN §8's JSON shape, and the text a terminal shows (``signoff simulate``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.durations import format_duration
from bot.domain.simulate import Simulation
from bot.domain.simulate_figures import SideFigures
from bot.domain.surface_json import span_json
from bot.domain.surface_text import empty_window_note


def simulation_json(sim: Simulation) -> dict[str, Any]:
    """DESIGN §8's keys, plus: ``from`` / ``to`` (the window, ISO 8601 UTC), ``lead_in`` (a
    duration, ``0s`` without limits), ``governance`` ``{"candidate", "current"}`` (version
    hashes), ``share_divisor`` and ``skipped_invalid`` per file, ``skipped_examples``
    ``[{"request", "reason"}]`` (≤ 5), ``differs_from_current`` (requests both files replayed
    and decide differently: outcome or rule) and ``both_replayed`` (how many that is),
    ``current_skipped_examples``, ``decide`` per rule, ``current_vs_stored`` (``Fidelity``),
    ``kinds`` (the ``--kind`` names, null: all), ``shadow_rules_not_replayed``, ``warnings``
    (contract changes the values cannot show) and, when the window holds no request,
    ``stored_span`` (``{"first", "last"}`` or null)."""
    return {
        "kinds": None if sim.kinds is None else list(sim.kinds),
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
        "both_replayed": sim.both_replayed,
        "current_skipped_examples": [{"request": ref, "reason": why} for ref, why in sim.current_skipped_examples],
        "by_rule": [rule.as_json() for rule in sim.by_rule.values()],
        "shadow_rules_not_replayed": sim.shadow_rules,
        "current_vs_stored": sim.current_vs_stored.as_json(),
        "warnings": list(sim.warnings),
        **({"stored_span": span_json(sim.stored_span)} if sim.requests == 0 else {}),
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
    the requests each file skipped with reasons, and how faithfully the file in force replays the
    live requests; warnings first; times in ``tz``."""
    start, end = (moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") for moment in (sim.window.start, sim.window.end))
    scope = f" of kind {', '.join(sim.kinds)}" if sim.kinds is not None else ""
    lines = [f"warning: {line}" for line in sim.warnings]
    lines += [
        f"requests{scope} submitted from {start} to {end} (exclusive, {tz.key}): {sim.requests},"
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
    if sim.requests == 0:
        lines += ["", empty_window_note(sim.stored_span, tz)]
    lines += [
        "",
        f"human decisions saved: {sim.human_decisions_saved}"
        " (people decided; the candidate would have decided the same way)",
        f"contradictions: {sim.contradictions} (approved where people rejected: {sim.approved_where_humans_rejected},"
        f" rejected where people approved: {sim.rejected_where_humans_approved})",
    ]
    if sim.contradiction_examples:
        lines.append(f"  e.g. {', '.join(sim.contradiction_examples)}")
    lines.append(_differs_line(sim))
    if sim.by_rule:
        lines.append("")
        rows = [("kind", "rule", "decides", "would decide", "agreed with people", "contradicted")]
        rows += [
            (r.kind, r.rule, r.decide, str(r.would_decide), str(r.agreed_with_humans), str(r.contradicted))
            for r in sim.by_rule.values()
        ]
        lines += _table(rows, left=3)
    if sim.shadow_rules:
        lines.append(
            f"shadow rules in the candidate: {sim.shadow_rules}, trialled beside the rules, not replayed as decisions"
        )
    for who, side, examples in (
        ("the candidate", sim.candidate, sim.skipped_examples),
        ("the file in force", sim.current, sim.current_skipped_examples),
    ):
        if examples:
            lines += ["", f"skipped by {who}: {side.skipped_invalid}, e.g."]
            lines += [f"  {ref}: {reason}" for ref, reason in examples]
    lines += _fidelity_lines(sim)
    return "\n".join(lines) + "\n"


def _differs_line(sim: Simulation) -> str:
    """How many requests the two files decide differently, and over which requests that is counted."""
    line = f"decided differently from the file in force: {sim.differs_from_current} of {sim.both_replayed}"
    if sim.both_replayed == sim.requests:
        return f"{line} requests"
    return f"{line} requests both files replayed ({sim.requests - sim.both_replayed} not compared: a file skipped them)"


def _fidelity_lines(sim: Simulation) -> list[str]:
    """The file in force against what was stored, over every live request of the window."""
    fidelity = sim.current_vs_stored
    if not fidelity.live:
        return []
    lines = [
        "",
        f"the file in force, replayed: {fidelity.automatic_reproduced} of {fidelity.automatic} stored automatic"
        f" decisions made again, {fidelity.routed_reproduced} of {fidelity.routed} routed requests routed again",
    ]
    missed = fidelity.automatic_not_replayed + fidelity.routed_not_replayed
    if missed:
        lines.append(
            f"  {missed} of them it could not replay ({fidelity.automatic_not_replayed} decided by a rule,"
            f" {fidelity.routed_not_replayed} routed): see “skipped by the file in force”"
        )
    if fidelity.other_governance:
        lines.append(
            f"  {fidelity.other_governance} of the {fidelity.live} live requests were filed under another governance"
            f" version than the file in force ({sim.current_version[:12]}): a change since then explains a difference"
        )
    return lines
