"""Step 4: apply the EXIF orientation, so that w, h and the gravity mean what the viewer sees."""

from __future__ import annotations

from transforms.steps.context import Context, Done
from transforms.steps.frames import each_frame


def orient(ctx: Context) -> None:
    if Done.ORIENTED in ctx.done or ctx.header().orientation == 1:
        return
    ctx.image = each_frame(ctx.pixels(), ctx.pages, lambda frame: frame.autorot())
    ctx.done |= Done.ORIENTED
