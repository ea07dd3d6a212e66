"""The decision surface as tables of plain strings: the terminal report and the HTML page's tables."""

from __future__ import annotations

from bot.domain.surface import KindFigures, SurfaceReport

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
RULE_COLUMNS = ("kind", "rule", "mode", "decided", "shadow agreed", "shadow disagreed")
APPROVER_COLUMNS = ("kind", "approver", "decisions", "approved", "rejected", "median h")


def percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def kind_row(kind: KindFigures) -> tuple[str, ...]:
    c = kind.counters
    counts = (c.requests, c.auto_approved, c.auto_rejected, c.human_approved, c.human_rejected)
    rest = (c.changes_requested, c.cancelled, c.expired, c.pending, c.lapsed)
    return (
        kind.kind,
        kind.owner or "(not in the file)",
        *(str(n) for n in (*counts, *rest)),
        percent(c.resolved_by_default_share),
        f"{kind.p50_hours:.1f}",
        f"{kind.p90_hours:.1f}",
        str(kind.sla_breaches),
        str(kind.escalations),
    )


def total_row(report: SurfaceReport) -> tuple[str, ...]:
    c = report.totals
    counts = (c.requests, c.auto_approved, c.auto_rejected, c.human_approved, c.human_rejected)
    rest = (c.changes_requested, c.cancelled, c.expired, c.pending, c.lapsed)
    return ("all kinds", "", *(str(n) for n in (*counts, *rest)), percent(c.resolved_by_default_share), "", "", "", "")


def rule_rows(report: SurfaceReport) -> list[tuple[str, ...]]:
    return [
        (k.kind, r.rule, r.mode, str(r.decided), str(r.shadow_agreed), str(r.shadow_disagreed))
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
    start, end = report.window.start.isoformat(), report.window.end.isoformat()
    return f"requests submitted from {start} to {end} (exclusive); governance {report.governance[:12]}"


def text_report(report: SurfaceReport) -> str:
    """The report for a terminal: the window, one row per kind plus totals, then rules and approvers."""
    lines = [window_line(report), ""]
    lines += _table(KIND_COLUMNS, [kind_row(k) for k in report.kinds] + [total_row(report)])
    rules = rule_rows(report)
    if rules:
        lines += ["", *_table(RULE_COLUMNS, rules)]
    approvers = approver_rows(report)
    if approvers:
        lines += ["", *_table(APPROVER_COLUMNS, approvers)]
    return "\n".join(lines) + "\n"
