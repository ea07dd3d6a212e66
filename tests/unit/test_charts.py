"""The report's charts and its HTML page: PNG sizes, escaping, nothing fetched, and a real browser showing the charts."""

from __future__ import annotations

import base64
import io
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

from bot.charts import decisions_by_approver_png, html_report, share_by_week_png, time_to_decision_png
from bot.charts.png import APPROVED, P50, P90, REJECTED
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
