"""Synthetic frames and marks for the mark tests, made with pyvips, and the measurements taken on them."""

from __future__ import annotations

from typing import Any

import pyvips

Box = tuple[int, int, int, int]  # left, top, width, height

BLACK = (0, 0, 0)
WHITE = (255, 255, 255)
RED = (255, 0, 0)
BLUE = (0, 0, 255)


def frame(width: int, height: int, values: tuple[int, ...] = BLACK) -> Any:
    """A constant frame as the pipeline hands it over: 1-2 bands grey, 3-4 bands sRGB, 8-bit, in memory."""
    interpretation = "b-w" if len(values) < 3 else "srgb"
    image = (pyvips.Image.black(width, height) + list(values)).cast("uchar")
    return image.copy(interpretation=interpretation).copy_memory()


def mark_png(width: int, height: int, colour: tuple[int, ...] = WHITE) -> bytes:
    """A solid mark; ``colour`` may carry an alpha value as a fourth item."""
    data: bytes = frame(width, height, colour).pngsave_buffer()
    return data


def circle_svg(side: int, colour: str = "#ff0000") -> bytes:
    radius = side / 2
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}">'
        f'<circle cx="{radius}" cy="{radius}" r="{radius}" fill="{colour}"/></svg>'
    ).encode()


def changed_box(before: Any, after: Any) -> Box | None:
    """Bounding box of every pixel that differs in any band, or None when nothing changed."""
    assert (before.width, before.height) == (after.width, after.height)
    if before.bands != after.bands:
        raise AssertionError(f"bands changed: {before.bands} -> {after.bands}")
    # Float all the way: a difference of one level in one band must not round away in the band mean.
    changed = ((before.cast("float") - after.cast("float")).abs().bandmean() > 0).cast("uchar")
    columns, rows = changed.project()
    xs = [x for x, total in enumerate(columns.tolist()[0]) if total > 0]
    ys = [y for y, (total,) in enumerate(rows.tolist()) if total > 0]
    if not xs:
        return None
    return xs[0], ys[0], xs[-1] - xs[0] + 1, ys[-1] - ys[0] + 1


def region(image: Any, box: Box) -> Any:
    return image.crop(*box)


def band_means(image: Any, box: Box) -> tuple[float, ...]:
    part = region(image, box)
    return tuple(part.extract_band(band).avg() for band in range(part.bands))


def band_max(image: Any, box: Box, band: int) -> float:
    return float(region(image, box).extract_band(band).max())


def same_pixels(first: Any, second: Any) -> bool:
    return changed_box(first, second) is None


def largest_difference(first: Any, second: Any) -> float:
    return float((first.cast("float") - second.cast("float")).abs().max())
