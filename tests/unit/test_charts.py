"""The report's charts and its HTML page: PNG sizes, escaping, nothing fetched, and a real browser showing the charts."""

from __future__ import annotations

import base64
import io
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from matplotlib import image
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import date2num, num2date
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from bot.charts import decisions_by_approver_png, html_report, share_by_week_png, time_to_decision_png
from bot.charts.common import labels, line_style
from bot.charts.png import APPROVED, P50, P90, REJECTED
from bot.charts.share import share_by_week_figure
from bot.domain.surface import RequestFacts, SurfaceReport, Window, tally
from tests.conftest import governance_from
from tests.services.conftest import LIFECYCLE

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
WINDOW = Window(T0, T0 + timedelta(days=63))
CHROMIUM = Path("/usr/bin/chromium")


def _report(*, hostile: str = "U0FIN1") -> SurfaceReport:
    """Nine weeks of discount and contract requests: rules decide more of the discounts each week."""
    facts = []
    for i in range(900):
        at = T0 + timedelta(hours=i * 1.6)
        kind = "discount" if i % 3 else "contract"
        if kind == "discount" and i % 9 < 1 + at.isocalendar().week % 7:
            facts.append(RequestFacts(i, kind, False, "approved", at, at, "rule:small", "small"))
            continue
        voter = (hostile, "U0FIN2", "U0LAW1")[i % 3]
        state = "rejected" if i % 4 == 0 else "approved"
        decided = at + timedelta(hours=1 + i % 13)
        vote = (voter, "reject" if state == "rejected" else "approve", decided)
        facts.append(RequestFacts(i, kind, False, state, at, decided, voter, None, 0, (vote,)))
    return tally(facts, governance_from(LIFECYCLE), WINDOW)


def _size(png: bytes) -> tuple[int, int]:
    pixels = image.imread(io.BytesIO(png), format="png")
    return pixels.shape[1], pixels.shape[0]


@pytest.mark.parametrize("chart", [share_by_week_png, decisions_by_approver_png, time_to_decision_png])
def test_each_chart_is_a_png_of_sensible_size_with_data_or_without(chart: object) -> None:
    for report in (_report(), tally([], governance_from(LIFECYCLE), WINDOW)):
        png = chart(report)  # type: ignore[operator]
        width, height = _size(png)
        assert png.startswith(b"\x89PNG") and 800 <= width <= 1200 and 200 <= height <= 1500 and len(png) < 300_000


def test_the_page_escapes_what_users_wrote_and_fetches_nothing() -> None:
    page = html_report(_report(hostile="<img src=https://evil.example/x>"))
    assert "<img src=https://evil.example/x>" not in page and "&lt;img src=https://evil.example/x&gt;" in page
    without_escaped = page.replace("&lt;img src=https://evil.example/x&gt;", "")
    assert not re.search(r"(src|href)=\"(?!data:image/png;base64,)", without_escaped)
    assert "<script" not in page and "<link" not in page and "@import" not in page and "url(" not in page
    assert "default-src 'none'; img-src data:" in page
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,[A-Za-z0-9+/=]+">', page)) == 3


def _pixels_near(pixels: np.ndarray, colour: str, tolerance: int = 6) -> int:
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels[:, :, :3].astype(int) - rgb).max(axis=2) <= tolerance).sum())


def _screenshot(page: str, tmp_path: Path) -> np.ndarray:
    """The page as headless Chromium draws it, 1200×3000 CSS pixels, as 8-bit RGB(A)."""
    tmp_path.mkdir(exist_ok=True)
    source, shot = tmp_path / "report.html", tmp_path / "shot.png"
    source.write_text(page, encoding="utf-8")
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1200,3000",
        source.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert shot.exists(), done.stderr.decode(errors="replace")[-2000:]
    return np.rint(image.imread(shot) * 255).astype(np.uint8)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")
def test_a_browser_shows_all_three_charts_and_a_broken_chart_would_show(tmp_path: Path) -> None:
    page = html_report(_report())
    pixels = _screenshot(page, tmp_path)
    # Each colour below is drawn only inside a chart image: the page's own style has none of them.
    drawn = {colour: _pixels_near(pixels, colour) for colour in (APPROVED, REJECTED, P50, P90, "#1f77b4")}
    assert all(count > 1500 for count in drawn.values()), drawn
    assert len(np.unique(pixels[:, :, :3].reshape(-1, 3), axis=0)) > 200  # charts: many distinct colours
    # The same page with its images broken: the check above would have failed.
    broken = re.sub(
        r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64," + base64.b64encode(b"x").decode(), page
    )
    pixels = _screenshot(broken, tmp_path / "broken")
    assert max(_pixels_near(pixels, colour) for colour in (APPROVED, REJECTED, P50, P90)) < 50


def _kinds_yaml(names: list[str]) -> str:
    kinds = "".join(
        f"  {name}:\n    title: T\n    owner: U0OWN\n    fields: {{pct: {{type: number, required: true}}}}\n"
        "    approvers: finance\n    rules:\n      - {id: small, when: {pct: {lte: 10}}, decide: approve, reason: ok}\n"
        for name in names
    )
    return "version: 1\ntimezone: Europe/Berlin\ngroups: {finance: {members: [U0FIN1]}}\nkinds:\n" + kinds


SUMMARY_END = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Berlin
LAST_30_DAYS = Window(SUMMARY_END - timedelta(days=30), SUMMARY_END)


def _many(names: list[str], *, weeks: tuple[int, ...] = (1, 2, 4)) -> SurfaceReport:
    """Requests of each kind in the given weeks back from the summary (none in the others): a rule decides some."""
    facts = []
    for n, name in enumerate(names):
        for week in weeks:
            for i in range(4):
                at = SUMMARY_END - timedelta(days=7 * week - 1, hours=n + i)
                rule = "small" if i < (n + week) % 4 else None
                state = "approved" if rule or i % 2 else "rejected"
                facts.append(RequestFacts(len(facts), name, False, state, at, at, rule and f"rule:{rule}", rule))
    return tally(facts, governance_from(_kinds_yaml(names)), LAST_30_DAYS)


LONG_IDS = [f"partner-co-funded-discount-exc-{i:02d}-xxxxx" for i in range(15)]  # 37 characters, all valid ids


def _layout(figure: Figure) -> tuple[Axes, Bbox, Bbox]:
    """The plot's axes, its bbox and the legend's, in figure pixels (after drawing)."""
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    (axes,) = figure.axes
    (legend,) = figure.legends
    return axes, axes.get_window_extent(renderer), legend.get_window_extent(renderer)


@pytest.mark.parametrize(
    "names", [["discount"], LONG_IDS, [f"k{i}" for i in range(30)]], ids=["one kind", "15 long ids", "30 kinds"]
)
def test_the_share_chart_keeps_its_plot_area_and_puts_the_legend_below_it(names: list[str]) -> None:
    figure = share_by_week_figure(_many(names))
    axes, plot, legend = _layout(figure)
    width, height = figure.get_size_inches() * 100
    # whatever the kinds; 0.6 in on the right leaves room for the last date label
    assert width == 1000 and (plot.width, plot.height) == pytest.approx((850, 320))
    assert legend.y1 < plot.y0 - 40 and legend.y0 >= 0 and legend.x0 >= 0 and legend.x1 <= width  # below, all inside
    assert plot.y1 < height and all(len(text.get_text()) <= 24 for text in figure.legends[0].get_texts())
    assert len({text.get_text() for text in figure.legends[0].get_texts()}) == len(names)
    assert axes.get_ylabel() and axes.get_ylim()[1] > 1.05  # a point at 100 % is drawn whole
    assert len(share_by_week_png(_many(names))) < 300_000


def test_the_share_chart_spans_the_window_with_ticks_on_mondays_and_gaps_for_empty_weeks() -> None:
    figure = share_by_week_figure(_many(["discount"], weeks=(1,)))  # one week of data, the usual first summary
    axes, _, _ = _layout(figure)
    berlin = ZoneInfo("Europe/Berlin")
    start, end = (moment.astimezone(berlin).replace(tzinfo=None) for moment in (LAST_30_DAYS.start, LAST_30_DAYS.end))
    assert axes.get_xlim() == pytest.approx((date2num(start), date2num(end)))
    ticks = [num2date(tick).date() for tick in axes.get_xticks()]
    assert ticks and all(tick.weekday() == 0 for tick in ticks)
    (line,) = axes.get_lines()
    shares = np.asarray(line.get_ydata(), dtype=float)
    assert np.isnan(shares).sum() == len(shares) - 1 and line.get_marker() == "o"
    gaps = share_by_week_figure(_many(["discount"], weeks=(1, 3, 4)))  # nothing two weeks back
    (line,) = _layout(gaps)[0].get_lines()
    assert np.isnan(np.asarray(line.get_ydata(), dtype=float)).tolist() == [True, False, False, True, False, True]


def test_many_kinds_are_told_apart_and_nothing_decided_is_not_plotted() -> None:
    styles = [line_style(i) for i in range(80)]
    assert len({s.colour for s in styles[:20]}) == 20 and len(set(styles)) == 80
    (axes,) = share_by_week_figure(_many([f"k{i}" for i in range(30)])).axes
    looks = {(line.get_color(), line.get_marker(), line.get_linestyle()) for line in axes.get_lines()}
    assert len(looks) == 30
    at = SUMMARY_END - timedelta(days=5)
    pending = [RequestFacts(i, "pend", False, "pending", at) for i in range(3)]
    report = tally(pending, governance_from(_kinds_yaml(["pend", "disc"])), LAST_30_DAYS)
    (text,) = share_by_week_figure(report).axes[0].texts
    assert text.get_text() == "nothing decided yet in this window"
    decided = [*pending, RequestFacts(9, "disc", False, "approved", at, at, "rule:small", "small")]
    (axes,) = share_by_week_figure(tally(decided, governance_from(_kinds_yaml(["pend", "disc"])), LAST_30_DAYS)).axes
    assert [text.get_text() for text in axes.figure.legends[0].get_texts()] == ["disc"]


def test_long_names_are_cut_in_the_middle_unless_that_would_make_two_alike() -> None:
    assert labels(LONG_IDS[:2]) == ["partner-co-f…xc-00-xxxxx", "partner-co-f…xc-01-xxxxx"]
    alike = ["x" * 15 + "1" + "y" * 15, "x" * 15 + "2" + "y" * 15]  # the same head and tail
    assert labels(alike) == alike and labels(["$5 off"]) == [r"\$5 off"]
