"""`px`: pixelate into square blocks of px output pixels, each the average of its pixels, frame by frame.

libvips' shrink averages whole blocks and its zoom repeats each pixel, so the cost is two cheap passes;
the partial blocks at the right and bottom edges take their own average (the image keeps its size).
"""

from __future__ import annotations

import math
from typing import Any

from transforms.steps.context import Context
from transforms.steps.frames import each_frame


def pixelate(ctx: Context) -> None:
    block = ctx.options.px
    if not block or block < 2:
        return

    def work(frame: Any) -> Any:
        width, height = frame.width, frame.height
        # Pad to whole blocks with the edge pixels, so the last row and column are averaged like the rest.
        padded_w, padded_h = math.ceil(width / block) * block, math.ceil(height / block) * block
        if (padded_w, padded_h) != (width, height):
            frame = frame.embed(0, 0, padded_w, padded_h, extend="copy")
        blocks = frame.shrink(block, block).cast(frame.format)
        return blocks.zoom(block, block).extract_area(0, 0, width, height)

    ctx.image = each_frame(ctx.pixels(), ctx.pages, work)
