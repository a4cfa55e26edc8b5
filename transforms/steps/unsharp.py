"""`usm` and `usmrad`: an unsharp mask on the colour bands, frame by frame.

out = c + usm/50 × (c - blur(c)), with a Gaussian of sigma usmrad (imgix's default 2.5) in output
pixels: usm=100 adds the detail twice over, a negative usm takes it away (softens). Unlike `sharp`
(libvips' sharpen, which works on lightness and spares flat areas) this is the plain textbook mask.
"""

from __future__ import annotations

from typing import Any

from transforms.options import USM_RADIUS
from transforms.steps.context import Context
from transforms.steps.frames import each_frame

USM_PER_AMOUNT = 50


def unsharp(ctx: Context) -> None:
    usm = ctx.options.usm
    if not usm:
        return
    sigma = ctx.options.usmrad or USM_RADIUS
    amount = usm / USM_PER_AMOUNT

    def work(frame: Any) -> Any:
        interpretation = frame.interpretation
        alpha = None
        if frame.hasalpha():
            frame, alpha = frame.extract_band(0, n=frame.bands - 1), frame.extract_band(frame.bands - 1)
        colour = frame.cast("float")
        blurred = frame.gaussblur(sigma).cast("float")
        out = (colour + (colour - blurred) * amount + 0.5).cast("uchar")
        if alpha is not None:
            out = out.bandjoin(alpha)
        return out.copy(interpretation=interpretation)

    ctx.image = each_frame(ctx.pixels(), ctx.pages, work)
