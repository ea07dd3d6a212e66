"""The report's charts as PNG bytes, drawn with matplotlib's Agg canvas (no pyplot, no display, no global state).

Each chart is 1000 px wide at 100 dpi; an approver chart grows 35 px per approver (at most
``MAX_APPROVERS`` shown). A chart with nothing to show says so in its middle instead. Names
longer than ``common.MAX_LABEL`` are cut in the middle (the tables keep them whole); legends sit
outside the plot. The share-by-week chart is ``bot.charts.share``.
"""

from __future__ import annotations

from collections import Counter

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bot.charts.common import WIDTH_IN, empty, labels, png
from bot.charts.share import share_by_week_png
from bot.domain.surface import SurfaceReport

__all__ = ["decisions_by_approver_png", "share_by_week_png", "time_to_decision_png"]

MAX_APPROVERS = 25
#: Approved / rejected, as on Slack's buttons (green, red); p50 / p90 in two blues.
APPROVED, REJECTED, P50, P90 = "#2e7d32", "#c62828", "#1565c0", "#90caf9"
NO_DECISIONS = "no human decisions in this window"


def _bars(title: str, rows: int, row_in: float) -> tuple[Figure, Axes] | bytes:
    """A horizontal bar chart's figure and axes, ``row_in`` inches per row; with no rows, the PNG
    saying there is nothing to show."""
    if not rows:
        return png(empty(Figure(figsize=(WIDTH_IN, 3.0), layout="constrained"), title, NO_DECISIONS))
    figure = Figure(figsize=(WIDTH_IN, 1.5 + row_in * rows), layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title, loc="left")
    return figure, axes


def _finish(figure: Figure, axes: Axes, names: list[str], *, xlabel: str, ylabel: str) -> bytes:
    """Row labels (top to bottom), axis labels, a vertical grid, the legend above the plot's right
    end (outside it: it never covers a bar); the PNG."""
    axes.set_yticks(list(range(len(names)))[::-1], labels=labels(names))
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, fontsize=9, frameon=False, borderaxespad=0.2)
    return png(figure)


def decisions_by_approver_png(report: SurfaceReport) -> bytes:
    """Human decisions per approver, all kinds together: approved and rejected stacked, most first."""
    approved: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    for kind in report.kinds:
        for person in kind.approvers:
            approved[person.user] += person.approved
            rejected[person.user] += person.rejected
    users = sorted(set(approved) | set(rejected), key=lambda u: (-(approved[u] + rejected[u]), u))[:MAX_APPROVERS]
    drawn = _bars("Human decisions per approver", len(users), 0.35)
    if isinstance(drawn, bytes):
        return drawn
    figure, axes = drawn
    rows = list(range(len(users)))[::-1]
    yes, no = [approved[u] for u in users], [rejected[u] for u in users]
    axes.barh(rows, yes, color=APPROVED, label="approved")
    axes.barh(rows, no, left=yes, color=REJECTED, label="rejected")
    return _finish(figure, axes, users, xlabel="decisions", ylabel="approver")


def time_to_decision_png(report: SurfaceReport) -> bytes:
    """Per kind with human decisions: p50 and p90 hours from submission to the deciding vote."""
    shown = [k for k in report.kinds if k.counters.human_decisions]
    drawn = _bars("Time to a human decision (hours, wall clock)", len(shown), 0.6)
    if isinstance(drawn, bytes):
        return drawn
    figure, axes = drawn
    rows = list(range(len(shown)))[::-1]
    axes.barh([r + 0.2 for r in rows], [k.p50_hours for k in shown], height=0.4, color=P50, label="p50")
    axes.barh([r - 0.2 for r in rows], [k.p90_hours for k in shown], height=0.4, color=P90, label="p90")
    return _finish(figure, axes, [k.kind for k in shown], xlabel="hours", ylabel="kind")
