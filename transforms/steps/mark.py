"""Step 14: the workspace's mark, stamped on the finished output pixels of every frame.

It runs after everything that moves or recolours pixels (resize, cut, pad, turn, blur, tone), so a
mark is never blurred, turned or cut off, and before the background step, so that a mark over
transparency ends up flattened like everything else. ``transforms.marks`` is imported when a mark is
given: a run without one never loads it.
"""

from __future__ import annotations

from typing import Any

from transforms.steps.context import Context
from transforms.steps.frames import each_frame


def mark(ctx: Context) -> None:
    spec = ctx.mark
    if spec is None:
        return
    from transforms.marks import apply_mark

    image = ctx.pixels()
    if image.format != "uchar" or image.interpretation not in ("srgb", "b-w"):
        image = image.colourspace("srgb")  # apply_mark takes 8-bit grey or sRGB, with or without alpha

    def work(frame: Any) -> Any:
        return apply_mark(frame, spec)

    ctx.image = each_frame(image, ctx.pages, work)
