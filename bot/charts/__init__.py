"""Rendering of the decision surface (DESIGN §8): PNG charts (matplotlib, Agg) and one self-contained HTML page.

An adapter: it reads a ``bot.domain.surface.SurfaceReport`` and returns bytes or text; it stores
nothing and fetches nothing. Importing it loads matplotlib, so the CLI imports it only for
``--format html``.
"""

from bot.charts.html import html_report
from bot.charts.png import decisions_by_approver_png, share_by_week_png, time_to_decision_png

__all__ = ["decisions_by_approver_png", "html_report", "share_by_week_png", "time_to_decision_png"]
