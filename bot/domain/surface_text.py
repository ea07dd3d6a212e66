"""The decision surface as tables of plain strings: the terminal report and the HTML page's tables."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.surface import Counters, KindFigures, SurfaceReport

KIND_COLUMNS = (
    "kind",
    "owner",
    "requests",
    "auto ✓",
    "auto ✗",
    "human ✓",
    "human ✗",
    "changes",
    "cancelled",
    "expired",
    "pending",
    "lapsed",
    "by default",
    "p50 h",
    "p90 h",
    "SLA breaches",
    "escalations",
)
RULE_COLUMNS = ("kind", "rule", "mode", "decided", "would have decided (shadow)", "shadow agreed", "shadow disagreed")
APPROVER_COLUMNS = ("kind", "approver", "decisions", "approved", "rejected", "median h")


def percent(share: float) -> str:
    return f"{share * 100:.1f}%"


NO_SHARE = "—"
NO_SHARE_NOTE = (
    "— in “by default”: nothing decided yet (no request, or all pending or cancelled), so no share;"
    " in p50/p90: no human decision."
)


def share_cell(counters: Counters) -> str:
    """The share resolved by defaults, or ``NO_SHARE`` when nothing is decided yet (its divisor is 0)."""
    return percent(counters.resolved_by_default_share) if counters.share_divisor else NO_SHARE


def share_note(report: SurfaceReport) -> str | None:
    """The line explaining ``NO_SHARE`` under the kinds' table, when a row shows it; else None."""
    rows = [k.counters for k in report.kinds] + [report.totals]
    no_people = any(not k.counters.human_decisions for k in report.kinds)
    return NO_SHARE_NOTE if no_people or any(not c.share_divisor for c in rows) else None


def hours_cells(kind: KindFigures) -> tuple[str, str]:
    """p50 and p90 hours to a human decision, or ``NO_SHARE`` twice when people decided nothing
    (0.0 would read as "decided at once")."""
    if not kind.counters.human_decisions:
        return NO_SHARE, NO_SHARE
    return f"{kind.p50_hours:.1f}", f"{kind.p90_hours:.1f}"


def kind_row(kind: KindFigures) -> tuple[str, ...]:
    c = kind.counters
    counts = (c.requests, c.auto_approved, c.auto_rejected, c.human_approved, c.human_rejected)
    rest = (c.changes_requested, c.cancelled, c.expired, c.pending, c.lapsed)
    return (
        kind.kind,
        kind.owner or "(not in the file)",
        *(str(n) for n in (*counts, *rest)),
        share_cell(c),
        *hours_cells(kind),
        str(kind.sla_breaches),
        str(kind.escalations),
    )


def total_row(report: SurfaceReport) -> tuple[str, ...]:
    c = report.totals
    counts = (c.requests, c.auto_approved, c.auto_rejected, c.human_approved, c.human_rejected)
    rest = (c.changes_requested, c.cancelled, c.expired, c.pending, c.lapsed)
    return ("all kinds", "", *(str(n) for n in (*counts, *rest)), share_cell(c), "", "", "", "")


def rule_rows(report: SurfaceReport) -> list[tuple[str, ...]]:
    return [
        (
            k.kind,
            r.rule,
            r.mode,
            str(r.decided),
            str(r.would_have_decided),
            str(r.shadow_agreed),
            str(r.shadow_disagreed),
        )
        for k in report.kinds
        for r in k.rules
    ]


def approver_rows(report: SurfaceReport) -> list[tuple[str, ...]]:
    return [
        (k.kind, a.user, str(a.decisions), str(a.approved), str(a.rejected), f"{a.median_hours:.1f}")
        for k in report.kinds
        for a in k.approvers
    ]


def _table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(columns, *rows, strict=True)]
    line = "  ".join
    return [line(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in (columns, *rows)]


def window_line(report: SurfaceReport) -> str:
    """``requests submitted from 2025-10-01 00:00 to 2026-01-01 00:00 (exclusive, Europe/Berlin); …``:
    in the governance timezone, as ``--since``/``--until`` dates are read."""
    start, end = (
        moment.astimezone(report.tz).strftime("%Y-%m-%d %H:%M") for moment in (report.window.start, report.window.end)
    )
    zone = report.tz.key
    return f"requests submitted from {start} to {end} (exclusive, {zone}); governance {report.governance[:12]}"


def empty_window_note(span: tuple[datetime, datetime] | None, tz: ZoneInfo) -> str:
    """Said when a window holds no request: where the stored requests lie (``span``, first and last
    submission, shown in ``tz``), and a ``--since`` that reaches them; or that none is stored."""
    if span is None:
        return "no requests in the window, and none stored (of these kinds): `signoff history import` loads history"
    first, last = (moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") for moment in span)
    day = span[0].astimezone(tz).date().isoformat()
    return f"no requests in the window; stored requests were submitted from {first} to {last} (try --since {day})"


def text_report(report: SurfaceReport) -> str:
    """The report for a terminal: the window, one row per kind plus totals, then rules and approvers."""
    lines = [window_line(report), ""]
    lines += _table(KIND_COLUMNS, [kind_row(k) for k in report.kinds] + [total_row(report)])
    if (note := share_note(report)) is not None:
        lines.append(note)
    if report.totals.requests == 0:
        lines += ["", empty_window_note(report.stored_span, report.tz)]
    rules = rule_rows(report)
    if rules:
        lines += ["", *_table(RULE_COLUMNS, rules)]
    approvers = approver_rows(report)
    if approvers:
        lines += ["", *_table(APPROVER_COLUMNS, approvers)]
    return "\n".join(lines) + "\n"
