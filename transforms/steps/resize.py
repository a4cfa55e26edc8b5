"""Step 8: resize to the layout, covering and cutting when the fit asks for it.

On the hot path ``load`` already did this while decoding; this step serves images that were
decoded at full size (after a `rect` or `trim` cut, or an animation cut frame by frame).
Cutting a covered image is part of the same libvips call, so there is no separate crop step.
"""

from __future__ import annotations

from typing import Any

from transforms.steps.context import Context, Done
from transforms.steps.frames import each_frame


def resize(ctx: Context) -> None:
    layout = ctx.geometry()
    box = layout.resize
    if Done.RESIZED in ctx.done or box is None:
        return

    def work(frame: Any) -> Any:
        return frame.thumbnail_image(
            box.width,
            height=box.height,
            size=layout.size,
            crop=layout.crop,
            no_rotate=True,  # orientation is the orient step's job, already done
        )

    ctx.image = each_frame(ctx.pixels(), ctx.pages, work)
    ctx.done |= Done.RESIZED
