"""The share resolved by defaults per kind and week, as a line chart over the report's whole window.

Layout is fixed in inches, whatever the kinds: a 10 × 3.2 in plot area with a title above and
the x labels below, then the legend *under* the plot in as many columns as its widest label
allows (the figure grows by one legend row per ``ROW_IN``). The x axis spans the report's window
exactly, its ticks on Mondays (week starts, in the report's timezone); each week's point sits in
the middle of the part of that week inside the window. A week with no request, or none decided
yet (the share's divisor is 0), is a gap: no point, and no line across it.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import date, datetime, time, timedelta

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import MO, DateFormatter, WeekdayLocator
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from bot.charts.common import DPI, WIDTH_IN, empty, labels, line_style, png
from bot.domain.surface import KindFigures, SurfaceReport

TITLE = "Share resolved by defaults, per kind and week"
#: Inches: title band, plot height, x labels band, left and right margins, one legend row.
TOP_IN, PLOT_IN, BELOW_IN, LEFT_IN, RIGHT_IN, ROW_IN = 0.55, 3.2, 0.8, 0.9, 0.6, 0.2  # right: room for "01 Dec 2026"
LEGEND_FONT = 9
#: Legend handle, handle-to-text pad and column spacing, in font sizes (ems).
_HANDLE, _PAD, _SPACING = 2.5, 0.8, 2.0
MAX_TICKS = 12


def _local(moment: datetime, report: SurfaceReport) -> datetime:
    return moment.astimezone(report.tz).replace(tzinfo=None)


def week_points(report: SurfaceReport) -> list[tuple[date, datetime]]:
    """Each week of the window (its Monday) and where its point goes (naive, in the report's timezone)."""
    start, end = _local(report.window.start, report), _local(report.window.end, report)
    monday = start.date() - timedelta(days=start.weekday())
    points = []
    while datetime.combine(monday, time.min) < end:
        first = max(datetime.combine(monday, time.min), start)
        last = min(datetime.combine(monday + timedelta(days=7), time.min), end)
        points.append((monday, first + (last - first) / 2))
        monday += timedelta(days=7)
    return points


def _shares(kind: KindFigures, weeks: list[tuple[date, datetime]]) -> list[float]:
    by_week = {w.week_start: w for w in kind.weeks}
    shares = []
    for monday, _ in weeks:
        week = by_week.get(monday)
        shares.append(week.resolved_by_default_share if week is not None and week.share_divisor else math.nan)
    return shares


def _columns(figure: Figure, names: list[str]) -> int:
    """How many legend columns fit the plot's width with the widest of ``names``."""
    renderer = FigureCanvasAgg(figure).get_renderer()  # type: ignore[no-untyped-call]
    widest = 0.0
    for name in names:
        text = figure.text(0, 0, name, fontsize=LEGEND_FONT)
        widest = max(widest, text.get_window_extent(renderer).width)
        text.remove()
    em = LEGEND_FONT * DPI / 72
    column = widest + (_HANDLE + _PAD + _SPACING) * em
    return max(1, min(len(names), int((WIDTH_IN - LEFT_IN - RIGHT_IN) * DPI // column)))


def _x_axis(figure: Figure, report: SurfaceReport, weeks: int) -> None:
    axes = figure.axes[0]
    axes.set_xlim(_local(report.window.start, report), _local(report.window.end, report))  # type: ignore[arg-type]
    every = max(1, math.ceil(weeks / MAX_TICKS))
    axes.xaxis.set_major_locator(WeekdayLocator(byweekday=MO, interval=every))  # type: ignore[no-untyped-call]
    axes.xaxis.set_minor_locator(WeekdayLocator(byweekday=MO))  # type: ignore[no-untyped-call]
    long = report.window.end - report.window.start > timedelta(days=300)
    axes.xaxis.set_major_formatter(DateFormatter("%d %b %Y" if long else "%d %b"))  # type: ignore[no-untyped-call]
    axes.set_xlabel(f"week of submission (ticks on Mondays, {report.tz.key})")


def share_by_week_figure(report: SurfaceReport, *, kinds: Collection[str] | None = None) -> Figure:
    """The chart as a matplotlib figure (``share_by_week_png`` encodes it): one line per kind
    with a share in some week (of ``kinds``, if given), in report order."""
    weeks = week_points(report)
    wanted = [kind for kind in report.kinds if kinds is None or kind.kind in kinds]
    every = [(kind, _shares(kind, weeks)) for kind in wanted]
    shown = [(kind, shares) for kind, shares in every if not all(math.isnan(s) for s in shares)]
    figure = Figure(figsize=(WIDTH_IN, TOP_IN + PLOT_IN + BELOW_IN + 0.5))
    if not shown:
        anything = any(k.counters.requests for k in wanted)
        return empty(figure, TITLE, "nothing decided yet in this window" if anything else "no requests in this window")
    names = labels([kind.kind for kind, _ in shown])
    columns = _columns(figure, names)
    legend_in = math.ceil(len(names) / columns) * ROW_IN + 0.15
    height = TOP_IN + PLOT_IN + BELOW_IN + legend_in
    figure.set_size_inches(WIDTH_IN, height)
    width = WIDTH_IN - LEFT_IN - RIGHT_IN
    axes = figure.add_axes(((LEFT_IN / WIDTH_IN), (BELOW_IN + legend_in) / height, width / WIDTH_IN, PLOT_IN / height))
    x = [at for _, at in weeks]
    for index, ((_, shares), name) in enumerate(zip(shown, names, strict=True)):
        style = line_style(index)
        axes.plot(
            x,  # type: ignore[arg-type]
            shares,
            color=style.colour,
            marker=style.marker,
            linestyle=style.line,
            linewidth=1.8,
            markersize=6,
            clip_on=False,  # a point on the window's edge is drawn whole
            label=name,
        )
    axes.set_title(TITLE, loc="left")
    axes.set_ylim(-0.06, 1.08)  # a point at 0 % or 100 % is drawn whole
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_ylabel("resolved by defaults")
    axes.grid(alpha=0.3)
    _x_axis(figure, report, len(weeks))
    figure.legend(
        loc="upper left",
        bbox_to_anchor=(LEFT_IN / WIDTH_IN, legend_in / height),
        ncols=columns,
        frameon=False,
        fontsize=LEGEND_FONT,
        handlelength=_HANDLE,
        handletextpad=_PAD,
        columnspacing=_SPACING,
        borderaxespad=0,
        borderpad=0,
    )
    return figure


def share_by_week_png(report: SurfaceReport, *, kinds: Collection[str] | None = None) -> bytes:
    """``share_by_week_figure`` as PNG bytes: 1000 px wide, 470 px high plus 20 px per legend row."""
    return png(share_by_week_figure(report, kinds=kinds))
