"""`border=width,colour` (+ `border-radius`): a frame drawn over the edge of the output, frame by frame.

As in imgix the border lies inside the output (its size does not change) and covers the image's outer
`width` pixels; a translucent colour lets the image show through it. `border-radius` rounds the outer
corners, and outside them the output is transparent (then `bg`, or white for JPEG).
"""

from __future__ import annotations

from typing import Any

from transforms.steps import shapes
from transforms.steps.context import Context
from transforms.steps.frames import each_frame
from transforms.steps.mask import premasked


def border(ctx: Context) -> None:
    options = ctx.options
    if options.border is None or not options.border.width:
        return
    image = ctx.pixels()
    if image.bands < 3 or image.format != "uchar":
        image = image.colourspace("srgb").cast("uchar")
    if not image.hasalpha():
        image = image.addalpha()
    width, height = image.width, image.height // ctx.pages
    size, colour = min(options.border.width, (min(width, height) + 1) // 2), options.border.colour
    ink = [colour.red, colour.green, colour.blue, colour.alpha]
    layer = image.new_from_image([0, 0, 0, 0]).crop(0, 0, width, height)
    for left, top, w, h in (
        (0, 0, width, size),
        (0, height - size, width, size),
        (0, 0, size, height),
        (width - size, 0, size, height),
    ):
        layer = layer.draw_rect(ink, left, top, w, h, fill=True)
    radius = options.border_radius
    shape = shapes.rounded(width, height, radius) if radius else None

    def work(frame: Any) -> Any:
        framed = frame.composite2(layer, "over").cast("uchar")
        return premasked(framed, shape) if shape is not None else framed

    ctx.image = each_frame(image, ctx.pages, work).copy(interpretation="srgb")
