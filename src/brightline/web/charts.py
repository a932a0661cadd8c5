"""Bar charts as inline SVG, drawn on the server: readable without JavaScript, allowed by the
console's Content-Security-Policy (no inline style: colours come from classes in console.css),
and every label escaped, since labels can carry agency-supplied text.

Each chart is decoration beside a table holding the same numbers: the SVG has a title and
``role="img"`` for screen readers, and the table is the accessible form of the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BAR_HEIGHT = 18
GAP = 6
LABEL_WIDTH = 210
PLOT_WIDTH = 360
VALUE_WIDTH = 90


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: what it is (``2026-12 subpoena``), its value, the text shown after it and the
    CSS class that colours it (the request type, so a type keeps its colour in every chart)."""

    label: str
    value: float | None
    shown: str
    css_class: str = ""


def horizontal_bar_chart(title: str, bars: Sequence[Bar], *, chart_id: str) -> Markup:
    """A horizontal bar chart scaled to its largest value; a bar without a value ("no data")
    is drawn as nothing, with its text, never as zero."""
    largest = max((bar.value for bar in bars if bar.value is not None), default=0.0)
    height = max(len(bars), 1) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
    ]
    if not bars:
        parts.append(f'<text x="0" y="{BAR_HEIGHT}" class="chart-label">no data</text>')
    for index, bar in enumerate(bars):
        top = GAP + index * (BAR_HEIGHT + GAP)
        baseline = top + BAR_HEIGHT - 5
        length = 0.0
        if bar.value is not None and largest > 0:
            length = max(bar.value / largest * PLOT_WIDTH, 1.0)
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{baseline}" class="chart-label" '
            f'text-anchor="end">{escape(bar.label)}</text>'
        )
        if length:
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{top}" width="{length:.1f}" height="{BAR_HEIGHT}" '
                f'class="bar {escape(bar.css_class)}"/>'
            )
        parts.append(
            f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{baseline}" '
            f'class="chart-value">{escape(bar.shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every interpolated text is escaped above)


COLUMN_PLOT_HEIGHT = 160
COLUMN_AXIS = 40
COLUMN_RIGHT = 40
"""Room on the right for the last label (labels start at their column)."""
COLUMN_LABELS = 8
"""At most this many labels under a column chart (every n-th column), so they never overlap."""


def column_chart(title: str, bars: Sequence[Bar], *, chart_id: str, width: int = 660) -> Markup:
    """Vertical columns in order (e.g. one per day), scaled to the largest value, with the
    largest value marked on the axis and a few evenly spaced labels below. Each column's
    ``shown`` text is its tooltip (``<title>``); the table beside the chart has every value."""
    largest = max((bar.value for bar in bars if bar.value is not None), default=0.0)
    plot_width = width - COLUMN_AXIS - COLUMN_RIGHT
    height = COLUMN_PLOT_HEIGHT + BAR_HEIGHT + GAP * 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
    ]
    if not bars:
        parts.append(f'<text x="0" y="{BAR_HEIGHT}" class="chart-label">no data</text>')
    else:
        top = GAP
        bottom = top + COLUMN_PLOT_HEIGHT
        step = plot_width / len(bars)
        column = max(step * 0.8, 1.0)
        every = max(1, -(-len(bars) // COLUMN_LABELS))
        parts.append(
            f'<text x="{COLUMN_AXIS - 4}" y="{top + 10}" class="chart-value" '
            f'text-anchor="end">{largest:g}</text>'
            f'<text x="{COLUMN_AXIS - 4}" y="{bottom}" class="chart-value" '
            f'text-anchor="end">0</text>'
        )
        for index, bar in enumerate(bars):
            left = COLUMN_AXIS + index * step
            length = 0.0
            if bar.value is not None and largest > 0:
                length = max(bar.value / largest * COLUMN_PLOT_HEIGHT, 1.0 if bar.value else 0.0)
            if length:
                parts.append(
                    f'<rect x="{left:.1f}" y="{bottom - length:.1f}" width="{column:.1f}" '
                    f'height="{length:.1f}" class="bar {escape(bar.css_class)}">'
                    f"<title>{escape(bar.label)}: {escape(bar.shown)}</title></rect>"
                )
            if index % every == 0:
                parts.append(
                    f'<text x="{left:.1f}" y="{bottom + BAR_HEIGHT}" '
                    f'class="chart-label">{escape(bar.label)}</text>'
                )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every interpolated text is escaped above)
