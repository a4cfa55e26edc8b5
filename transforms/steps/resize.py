"""Step 6: resize to the plan, covering and cutting when the fit asks for it.

On the hot path ``load`` already did this while decoding; this step serves images that were
decoded at full size (a later ``rect`` step, for one, must cut the source before resizing).
Cutting a covered image is part of the same libvips call, so there is no separate crop step.
"""

from __future__ import annotations

from transforms.steps.context import Context, Done


def resize(ctx: Context) -> None:
    plan = ctx.geometry()
    if Done.RESIZED in ctx.done or plan.resize is None:
        return
    ctx.image = ctx.pixels().thumbnail_image(
        plan.resize.width,
        height=plan.resize.height,
        size=plan.size,
        crop=plan.crop,
        no_rotate=True,  # orientation is the orient step's job, already done
    )
    ctx.done |= Done.RESIZED
