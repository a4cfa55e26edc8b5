"""`rot`: imgix's straighten. The image turns counter-clockwise by any angle inside its own frame.

The output keeps its size: the turned image is zoomed just enough that its corners leave the frame, so
no background shows (for a w×h frame turned by θ the zoom is the larger of (w·|cos θ| + h·|sin θ|)/w and
(w·|sin θ| + h·|cos θ|)/h), then the centre is cut. Quarter turns that change the frame are `or`.
It runs after `or` and `flip`, frame by frame, with libvips' similarity (bicubic).
"""

from __future__ import annotations

import math
from typing import Any

import pyvips

from transforms.steps.context import Context
from transforms.steps.frames import each_frame

# A hair of extra zoom so that rounding never leaves a background pixel on an edge.
_SAFETY = 1.002


def cover_zoom(width: int, height: int, degrees: float) -> float:
    theta = math.radians(degrees)
    cos, sin = abs(math.cos(theta)), abs(math.sin(theta))
    return max((width * cos + height * sin) / width, (width * sin + height * cos) / height)


def straighten(ctx: Context) -> None:
    degrees = ctx.options.rot
    if not degrees:
        return
    interpolate = pyvips.Interpolate.new("bicubic")

    def work(frame: Any) -> Any:
        width, height = frame.width, frame.height
        zoom = cover_zoom(width, height, degrees) * _SAFETY
        # libvips turns clockwise for a positive angle; imgix's rot is counter-clockwise.
        turned = frame.copy_memory().similarity(scale=zoom, angle=-degrees, interpolate=interpolate)
        left, top = (turned.width - width) // 2, (turned.height - height) // 2
        return turned.extract_area(left, top, width, height)

    ctx.image = each_frame(ctx.pixels(), ctx.pages, work)
