"""Redaction in the pixels: boxes painted opaque black in the PNG after the browser produced it.

Done here rather than with CSS so that nothing in the page (a script that restores the element, a
stylesheet that wins over ours) can undo it. Black rather than blur: a blur of large text can often
be read back, a filled box never.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyvips


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in image pixels."""

    left: int
    top: int
    width: int
    height: int


def page_boxes_to_pixels(
    boxes: Iterable[Sequence[float]], origin: tuple[float, float], scale: float, size: tuple[int, int]
) -> list[Box]:
    """Map ``[x, y, width, height]`` boxes in CSS pixels of the document onto a capture of the region
    starting at ``origin`` (CSS pixels) drawn at ``scale`` device pixels per CSS pixel, clipped to the
    image ``size``. Edges are rounded outwards, so a box always covers every pixel it touches."""
    width, height = size
    result: list[Box] = []
    for x, y, box_width, box_height in boxes:
        left = max(0, math.floor((x - origin[0]) * scale))
        top = max(0, math.floor((y - origin[1]) * scale))
        right = min(width, math.ceil((x + box_width - origin[0]) * scale))
        bottom = min(height, math.ceil((y + box_height - origin[1]) * scale))
        if right > left and bottom > top:
            result.append(Box(left, top, right - left, bottom - top))
    return result


def black_out(png: bytes, page_boxes: Iterable[Sequence[float]], origin: tuple[float, float], scale: float) -> bytes:
    """Return ``png`` (a capture of the page region at ``origin``, see ``page_boxes_to_pixels``) with
    every box filled opaque black."""
    image = pyvips.Image.new_from_buffer(png, "")
    boxes = page_boxes_to_pixels(page_boxes, origin, scale, (image.width, image.height))
    if not boxes:
        return png
    ink = [0.0] * (image.bands - 1) + [255.0] if image.hasalpha() else [0.0] * image.bands
    # Drawing needs a private in-memory copy of the pixels.
    image = image.copy_memory()
    for box in boxes:
        image = image.draw_rect(ink, box.left, box.top, box.width, box.height, fill=True)
    # A low compression level: this PNG is an intermediate, decoded again by the transform pipeline.
    data: bytes = image.write_to_buffer(".png", compression=1)
    return data
