"""`mask=ellipse|corners` (+ `corner-radius`, `mask-bg`): the output made transparent outside a shape.

The shape is drawn once for the frame size (``shapes``) and multiplied into every frame's alpha. With
`mask-bg` the outside is painted that colour instead (a translucent one stays translucent where the format
keeps alpha); without it the background step later paints it with `bg`, or white for JPEG, as any
transparency.
"""

from __future__ import annotations

from typing import Any

from transforms.options import Corners, Mask
from transforms.steps import shapes
from transforms.steps.context import Context
from transforms.steps.frames import each_frame

_NO_CORNERS = Corners(0, 0, 0, 0)


def mask(ctx: Context) -> None:
    options = ctx.options
    if options.mask is None:
        return
    image = ctx.pixels()
    if image.bands < 3 or image.format != "uchar":
        image = image.colourspace("srgb").cast("uchar")
    if not image.hasalpha():
        image = image.addalpha()
    width, height = image.width, image.height // ctx.pages
    if options.mask is Mask.ELLIPSE:
        shape = shapes.ellipse(width, height)
    else:
        shape = shapes.rounded(width, height, options.corner_radius or _NO_CORNERS)
    colour = options.mask_bg

    def work(frame: Any) -> Any:
        cut = premasked(frame, shape)
        if colour is None:
            return cut
        plane = cut.new_from_image([colour.red, colour.green, colour.blue, colour.alpha])
        return plane.composite2(cut, "over").cast("uchar")

    ctx.image = each_frame(image, ctx.pages, work).copy(interpretation="srgb")


def premasked(image: Any, shape: Any) -> Any:
    """``image`` (8-bit sRGB with alpha) with its alpha multiplied by a coverage ``shape``."""
    alpha = (image.extract_band(3) * shape / 255 + 0.5).cast("uchar")
    return image.extract_band(0, n=3).bandjoin(alpha)
