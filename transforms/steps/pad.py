"""Step 10: fit=fill pads the fitted image to exactly w×h at the `crop` gravity; `pad` adds borders.

Padding is transparent; the background step then paints every transparent pixel, padding and
source alike, with `bg` (or flattens onto white for formats without alpha). Painting once keeps a
translucent `bg` from being applied twice where padding meets it.
"""

from __future__ import annotations

from typing import Any

from transforms.options import WHITE, Crop, Fill, Fit
from transforms.steps.context import Box, Context
from transforms.steps.frames import each_frame

# fill=blur: the sigma of the blurred cover, as a share of the canvas' longer side.
FILL_BLUR_SHARE = 0.02

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

    options = ctx.options
    fill = options.fill
    colour = options.fill_color or WHITE
    fill_ink = [colour.red, colour.green, colour.blue, colour.alpha] if fill is Fill.SOLID else _TRANSPARENT
    extend = "copy" if options.fit is Fit.CLAMP else "background"  # clamp: the edge pixels, stretched outwards

    def work(frame: Any) -> Any:
        if canvas is not None and fills:
            direction = _DIRECTIONS.get(layout.gravity, "centre")
            if fill is Fill.BLUR:
                frame = frame.copy_memory()  # read twice (cover and image): the source may be sequential
            placed = frame.gravity(direction, canvas.width, canvas.height, extend=extend, background=fill_ink)
            frame = _blurred_cover(frame, canvas).composite2(placed, "over") if fill is Fill.BLUR else placed
        if sides:
            width = frame.width + sides.left + sides.right
            height = frame.height + sides.top + sides.bottom
            frame = frame.embed(sides.left, sides.top, width, height, extend="background", background=_TRANSPARENT)
        return frame

    ctx.image = each_frame(image, ctx.pages, work)


def _blurred_cover(frame: Any, canvas: Box) -> Any:
    """fill=blur's background: the image itself covering the canvas (centred), blurred."""
    scale = max(canvas.width / frame.width, canvas.height / frame.height)
    cover = frame.resize(scale)
    left, top = max(0, (cover.width - canvas.width) // 2), max(0, (cover.height - canvas.height) // 2)
    cover = cover.extract_area(left, top, min(canvas.width, cover.width), min(canvas.height, cover.height))
    if (cover.width, cover.height) != (canvas.width, canvas.height):
        cover = cover.gravity("centre", canvas.width, canvas.height, extend="copy")
    return cover.gaussblur(max(canvas.width, canvas.height) * FILL_BLUR_SHARE)
