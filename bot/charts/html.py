"""The report as one self-contained HTML page: tables and PNG charts as ``data:`` URIs, nothing fetched.

Its Content-Security-Policy forbids every fetch but ``data:`` images and its own inline style,
so a browser loads nothing from the network even if the page were edited; every string taken
from the report is HTML-escaped.
"""

from __future__ import annotations

import base64
import re
from html import escape

from bot.charts.png import decisions_by_approver_png, share_by_week_png, time_to_decision_png
from bot.domain.surface import SurfaceReport
from bot.domain.surface_text import (
    APPROVER_COLUMNS,
    KIND_COLUMNS,
    RULE_COLUMNS,
    approver_rows,
    kind_row,
    rule_rows,
    share_note,
    total_row,
    window_line,
)

_FIGURE = re.compile(r"[0-9]+(\.[0-9]+)?%?")
_NUMBER = ' class="n"'
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 24px; font-size: 12px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; }
img { display: block; max-width: 100%; margin: 8px 0 24px; }
"""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _table(columns: tuple[str, ...], rows: list[tuple[str, ...]], *, total: tuple[str, ...] | None = None) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = ["<tr>" + _cells(row) + "</tr>" for row in rows]
    if total is not None:
        body.append('<tr class="total">' + _cells(total) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cells(row: tuple[str, ...]) -> str:
    """Figures (``12``, ``4.5``, ``91.6%``) align right; names and ids left."""
    return "".join(f"<td{_NUMBER if _FIGURE.fullmatch(cell) else ''}>{escape(cell)}</td>" for cell in row)


def _chart(title: str, png: bytes, alt: str) -> str:
    return f'<h2>{escape(title)}</h2><img alt="{escape(alt)}" src="{_data_uri(png)}">'


def html_report(report: SurfaceReport) -> str:
    """The whole report as one HTML document (UTF-8 text): headline table, three charts, rules, approvers."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        "<title>Signoff decision surface</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Signoff decision surface</h1>",
        f"<p>{escape(window_line(report))}</p>",
        _table(KIND_COLUMNS, [kind_row(k) for k in report.kinds], total=total_row(report)),
        f"<p>{escape(note)}</p>" if (note := share_note(report)) else "",
        _chart("Share resolved by defaults, per kind and week", share_by_week_png(report), "share by week"),
        _chart("Human decisions per approver", decisions_by_approver_png(report), "decisions by approver"),
        _chart("Time to a human decision", time_to_decision_png(report), "time to decision"),
        "<h2>Rules</h2>",
        _table(RULE_COLUMNS, rule_rows(report)),
        "<h2>Approvers</h2>",
        _table(APPROVER_COLUMNS, approver_rows(report)),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
