"""Step 7: fit=fill pads the fitted image to exactly w×h, placed at the `crop` gravity.

Padding is transparent; the background step then paints every transparent pixel, padding and
source alike, with `bg` (or flattens onto white for formats without alpha). Painting once keeps a
translucent `bg` from being applied twice where padding meets it.
"""

from __future__ import annotations

from transforms.options import Crop
from transforms.steps.context import Context

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


def pad(ctx: Context) -> None:
    plan = ctx.geometry()
    image = ctx.pixels()
    canvas = plan.canvas
    if canvas is None or (image.width, image.height) == (canvas.width, canvas.height):
        return
    if image.bands < 3:
        image = image.colourspace("srgb")  # `bg` is an RGB colour
    if not image.hasalpha():
        image = image.addalpha()
    ctx.image = image.gravity(
        _DIRECTIONS.get(plan.gravity, "centre"),
        canvas.width,
        canvas.height,
        extend="background",
        background=[0, 0, 0, 0],
    )
