"""Step 4: apply the EXIF orientation, so that w, h and the gravity mean what the viewer sees."""

from __future__ import annotations

from transforms.steps.context import Context, Done


def orient(ctx: Context) -> None:
    if Done.ORIENTED in ctx.done or ctx.header().orientation == 1:
        return
    ctx.image = ctx.pixels().autorot()
    ctx.done |= Done.ORIENTED
