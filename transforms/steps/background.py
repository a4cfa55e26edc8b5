"""Step 15: paint transparency with `bg`, or flatten it onto white where the format has no alpha.

As in imgix, an explicit `bg` colours every transparent pixel whatever the format; a translucent
`bg` stays translucent where the format can hold alpha, and is blended over white in a JPEG.
"""

from __future__ import annotations

from typing import Any

from transforms.options import WHITE, Color
from transforms.steps.context import Context


def background(ctx: Context) -> None:
    image = ctx.pixels()
    if not image.hasalpha():
        return
    colour = ctx.options.bg
    keeps_alpha = ctx.output_format().has_alpha
    if colour is None and keeps_alpha:
        return
    colour = colour or WHITE
    if not keeps_alpha:
        colour = colour.over(WHITE)
    if image.bands < 3 and not _grey(colour):
        image = image.colourspace("srgb")
    if colour.opaque:
        ctx.image = image.flatten(background=_values(colour, image.bands - 1))
    else:
        plane = image.new_from_image(_values(colour, image.bands - 1) + [colour.alpha])
        ctx.image = plane.composite2(image, "over")


def _grey(colour: Color) -> bool:
    return colour.red == colour.green == colour.blue


def _values(colour: Color, bands: int) -> list[Any]:
    return [colour.red] if bands == 1 else [colour.red, colour.green, colour.blue]
