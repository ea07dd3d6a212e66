"""The report's charts as PNG bytes, drawn with matplotlib's Agg canvas (no pyplot, no display, no global state).

Each chart is 1000 px wide at 100 dpi; an approver chart grows 35 px per approver (at most
``MAX_APPROVERS`` shown). A chart with nothing to show says so in its middle instead.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Collection

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from bot.domain.surface import SurfaceReport

WIDTH_IN, DPI = 10.0, 100
MAX_APPROVERS = 25
#: Approved / rejected, as on Slack's buttons (green, red); p50 / p90 in two blues.
APPROVED, REJECTED, P50, P90 = "#2e7d32", "#c62828", "#1565c0", "#90caf9"


def _plain(text: str) -> str:
    """A label shown as written: ``$`` would start matplotlib's math mode."""
    return text.replace("$", r"\$")


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _empty(figure: Figure, title: str, message: str) -> bytes:
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.set_axis_off()
    axes.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color="#555555")
    return _png(figure)


def share_by_week_png(report: SurfaceReport, *, kinds: Collection[str] | None = None) -> bytes:
    """Share of each kind's requests resolved by defaults, per week of submission (Monday starts), in %."""
    figure = Figure(figsize=(WIDTH_IN, 4.5), layout="constrained")
    title = "Share resolved by defaults, per week"
    shown = [k for k in report.kinds if k.weeks and (kinds is None or k.kind in kinds)]
    if not shown:
        return _empty(figure, title, "no requests in this window")
    axes = figure.add_subplot()
    for kind in shown:
        weeks = [w.week_start for w in kind.weeks]
        shares = [w.resolved_by_default_share for w in kind.weeks]
        axes.plot(weeks, shares, marker="o", linewidth=2, label=_plain(kind.kind))  # type: ignore[arg-type]
    axes.set_title(title)
    axes.set_ylim(-0.02, 1.02)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_xlabel("week starting")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize=9, ncols=min(len(shown), 4))
    figure.autofmt_xdate()
    return _png(figure)


def decisions_by_approver_png(report: SurfaceReport) -> bytes:
    """Human decisions per approver, all kinds together: approved and rejected stacked, most first."""
    approved: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    for kind in report.kinds:
        for person in kind.approvers:
            approved[person.user] += person.approved
            rejected[person.user] += person.rejected
    users = sorted(set(approved) | set(rejected), key=lambda u: (-(approved[u] + rejected[u]), u))[:MAX_APPROVERS]
    title = "Human decisions per approver"
    if not users:
        return _empty(Figure(figsize=(WIDTH_IN, 3.0), layout="constrained"), title, "no human decisions in this window")
    figure = Figure(figsize=(WIDTH_IN, 1.5 + 0.35 * len(users)), layout="constrained")
    axes = figure.add_subplot()
    rows = list(range(len(users)))[::-1]
    yes, no = [approved[u] for u in users], [rejected[u] for u in users]
    axes.barh(rows, yes, color=APPROVED, label="approved")
    axes.barh(rows, no, left=yes, color=REJECTED, label="rejected")
    axes.set_yticks(rows, labels=[_plain(u) for u in users])
    axes.set_title(title)
    axes.set_xlabel("decisions")
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="lower right", fontsize=9)
    return _png(figure)


def time_to_decision_png(report: SurfaceReport) -> bytes:
    """Per kind with human decisions: p50 and p90 hours from submission to the deciding vote."""
    shown = [k for k in report.kinds if k.counters.human_approved + k.counters.human_rejected]
    title = "Time to a human decision (hours, wall clock)"
    if not shown:
        return _empty(Figure(figsize=(WIDTH_IN, 3.0), layout="constrained"), title, "no human decisions in this window")
    figure = Figure(figsize=(WIDTH_IN, 1.5 + 0.6 * len(shown)), layout="constrained")
    axes = figure.add_subplot()
    rows = list(range(len(shown)))[::-1]
    axes.barh([r + 0.2 for r in rows], [k.p50_hours for k in shown], height=0.4, color=P50, label="p50")
    axes.barh([r - 0.2 for r in rows], [k.p90_hours for k in shown], height=0.4, color=P90, label="p90")
    axes.set_yticks(rows, labels=[_plain(k.kind) for k in shown])
    axes.set_title(title)
    axes.set_xlabel("hours")
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="lower right", fontsize=9)
    return _png(figure)
