"""What the charts share: the PNG encoding, the empty chart, labels shown as written and cut short,
and the line styles that tell many kinds apart."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

WIDTH_IN, DPI = 10.0, 100
#: A label longer than this is cut in its middle with an ellipsis (the tables keep the full id).
MAX_LABEL = 24
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
_LINE_STYLES = ("-", "--", ":", "-.")
#: 20 colours: matplotlib's tab20, its ten strong shades first, then its ten light ones.
_TAB20 = [to_hex(c) for c in colormaps["tab20"].colors]  # type: ignore[attr-defined]
COLOURS = tuple(_TAB20[0::2] + _TAB20[1::2])


class LineStyle(NamedTuple):
    colour: str
    marker: str
    line: str


def line_style(index: int) -> LineStyle:
    """The look of the ``index``-th line: no two of 80 alike, and no colour repeated within 20.

    The colour cycles every 20, the marker changes every 10, the line style every 20.
    """
    return LineStyle(
        COLOURS[index % len(COLOURS)],
        _MARKERS[(index // 10) % len(_MARKERS)],
        _LINE_STYLES[(index // 20) % len(_LINE_STYLES)],
    )


def plain(text: str) -> str:
    """A label shown as written: ``$`` would start matplotlib's math mode."""
    return text.replace("$", r"\$")


def short(text: str, limit: int = MAX_LABEL) -> str:
    """``text`` cut in its middle to ``limit`` characters with an ellipsis (head and tail kept:
    ids often differ only at one end)."""
    if len(text) <= limit:
        return text
    tail = (limit - 1) // 2
    return text[: limit - 1 - tail] + "…" + text[-tail:]


def labels(names: Sequence[str]) -> list[str]:
    """Legend or axis labels for ``names``: each ``short``, unless that would make two alike
    (those keep their full name), and shown as written."""
    cut = [short(name) for name in names]
    taken = Counter(cut)
    return [plain(c if taken[c] == 1 else name) for c, name in zip(cut, names, strict=True)]


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes at ``DPI``."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def empty(figure: Figure, title: str, message: str) -> Figure:
    """``figure`` with ``title`` and ``message`` in its middle: a chart with nothing to show."""
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.set_axis_off()
    axes.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color="#555555")
    return figure
