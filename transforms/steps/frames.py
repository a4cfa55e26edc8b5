"""Geometry on animations, one frame at a time.

libvips holds an animation as a "toilet roll": every frame stacked under the previous one in one
tall image, with ``page-height`` saying where each ends. Point operations (colour, brightness,
flattening) can run on the whole roll, but anything that moves pixels across rows (resizing,
cutting, padding, turning, blurring, stamping a mark) must see one frame at a time, or it would
mix neighbouring frames. On a still image ``each_frame`` is a plain call, so the still path pays
nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyvips

Work = Callable[[Any], Any]


def each_frame(image: Any, pages: int, work: Work) -> Any:
    """``work`` applied to each of the ``pages`` frames of ``image``, stacked again in order."""
    if pages <= 1:
        return work(image)
    height = image.height // pages
    frames = [work(image.crop(0, index * height, image.width, height)) for index in range(pages)]
    roll = pyvips.Image.arrayjoin(frames, across=1).copy()
    # The roll takes the first frame's metadata (delay, loop); its page height is the new frame's.
    roll.set_type(pyvips.GValue.gint_type, "page-height", frames[0].height)
    return roll
