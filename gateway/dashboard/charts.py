"""Charts as server-rendered SVG: no script, readable by screen readers (``role="img"``, a label, and a
``<title>`` on every bar, which browsers show as a tooltip), and a table beside each on the page.

The SVG is built here as text; every piece of text that goes into it passes through ``markupsafe.escape``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date

from markupsafe import Markup, escape

WIDTH, HEIGHT = 600, 160
_PAD_LEFT, _PAD_BOTTOM, _PAD_TOP = 64, 22, 8


def human_bytes(n: float) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n:.0f} B"


def count(n: float) -> str:
    return f"{n:,.0f}"


def percent(n: float) -> str:
    return f"{n:.0f} %"


def _nice_top(peak: float, fmt: Callable[[float], str]) -> float:
    """The scale's top: 1, 2 or 5 times a power of ten (of KiB, MiB, GiB for byte counts), at least ``peak``."""
    if peak <= 0:
        return 1.0
    unit = 1.0
    if fmt is human_bytes:
        unit = next((size for size in (1024.0**3, 1024.0**2, 1024.0) if peak >= size), 1.0)
    scaled = peak / unit
    magnitude = 10.0 ** math.floor(math.log10(scaled))
    for step in (1, 2, 5, 10):
        if scaled <= step * magnitude:
            return max(step * magnitude, 1.0) * unit
    return 10 * magnitude * unit


def bar_chart(
    label: str,
    days: Sequence[date],
    values: Sequence[float],
    fmt: Callable[[float], str] = count,
    top: float | None = None,
) -> Markup:
    """One bar per day; ``top`` fixes the scale (100 for percentages)."""
    ceiling = top if top is not None else _nice_top(max(values, default=0), fmt)
    plot_w, plot_h = WIDTH - _PAD_LEFT, HEIGHT - _PAD_BOTTOM - _PAD_TOP
    slot = plot_w / max(len(days), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
    ]
    for fraction in (0.0, 1.0):
        y = _PAD_TOP + plot_h * (1 - fraction)
        parts.append(f'<line class="grid" x1="{_PAD_LEFT}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{_PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(ceiling * fraction))}</text>"
        )
    for index, (day, value) in enumerate(zip(days, values, strict=True)):
        height = plot_h * min(value / ceiling, 1.0) if ceiling else 0.0
        x = _PAD_LEFT + index * slot + slot * 0.15
        y = _PAD_TOP + plot_h - height
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{max(height, 0.0):.1f}">'
            f"<title>{escape(day.isoformat())}: {escape(fmt(value))}</title></rect>"
        )
        if index == len(days) - 1 or (index % 7 == 0 and index < len(days) - 4):
            parts.append(
                f'<text class="axis" x="{x + slot * 0.35:.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
                f"{escape(day.strftime('%b %d'))}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - numbers, and text that went through escape() above


def meter(label: str, used: float, limit: float, fmt: Callable[[float], str] = count) -> Markup:
    """This month's use against the plan's limit, as a bar (no inline style: widths are SVG attributes)."""
    share = min(used / limit, 1.0) if limit > 0 else 0.0
    state = "over" if limit > 0 and used >= limit else ("near" if share >= 0.8 else "ok")
    text = f"{label}: {fmt(used)} of {fmt(limit)}"
    return Markup(  # noqa: S704 - numbers, and text that went through escape()
        f'<svg class="meter {state}" viewBox="0 0 100 8" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(text)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(text)}</title>'
        f'<rect class="track" x="0" y="0" width="100" height="8" rx="4"/>'
        f'<rect class="fill" x="0" y="0" width="{share * 100:.1f}" height="8" rx="4"/></svg>'
    )
