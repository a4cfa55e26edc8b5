"""Step 10: fit=fill pads the fitted image to exactly w×h at the `crop` gravity; `pad` adds borders.

Padding is transparent; the background step then paints every transparent pixel, padding and
source alike, with `bg` (or flattens onto white for formats without alpha). Painting once keeps a
translucent `bg` from being applied twice where padding meets it.
"""

from __future__ import annotations

from typing import Any

from transforms.options import Crop
from transforms.steps.context import Context
from transforms.steps.frames import each_frame

_DIRECTIONS = {
    frozenset(): "centre",
    frozenset({Crop.CENTER}): "centre",
    frozenset({Crop.TOP}): "north",
    frozenset({Crop.BOTTOM}): "south",
    frozenset({Crop.LEFT}): "west",
    frozenset({Crop.RIGHT}): "east",
    frozenset({Crop.TOP, Crop.LEFT}): "north-west",
    frozenset({Crop.TOP, Crop.RIGHT}): "north-east",
    frozenset({Crop.BOTTOM, Crop.LEFT}): "south-west",
    frozenset({Crop.BOTTOM, Crop.RIGHT}): "south-east",
}
_TRANSPARENT = [0, 0, 0, 0]


def pad(ctx: Context) -> None:
    layout = ctx.geometry()
    image = ctx.pixels()
    canvas, sides = layout.canvas, layout.pad
    fills = canvas is not None and (image.width, image.height // ctx.pages) != (canvas.width, canvas.height)
    if not fills and not sides:
        return
    if image.bands < 3:
        image = image.colourspace("srgb")  # `bg` is an RGB colour
    if not image.hasalpha():
        image = image.addalpha()

    def work(frame: Any) -> Any:
        if canvas is not None and fills:
            direction = _DIRECTIONS.get(layout.gravity, "centre")
            frame = frame.gravity(direction, canvas.width, canvas.height, extend="background", background=_TRANSPARENT)
        if sides:
            width = frame.width + sides.left + sides.right
            height = frame.height + sides.top + sides.bottom
            frame = frame.embed(sides.left, sides.top, width, height, extend="background", background=_TRANSPARENT)
        return frame

    ctx.image = each_frame(image, ctx.pages, work)
