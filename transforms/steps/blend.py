"""`blend=<colour>` (+ `blend-mode`, `blend-alpha`): a colour laid over the whole output.

The colour's opacity is its own alpha times blend-alpha percent; the mode is one of libvips' composite
modes (imgix's default, overlay, when none is given). A point operation, so an animation is done in one
go. An image without alpha stays without: the colour plane is opaque where the image is.
"""

from __future__ import annotations

from transforms.options import BlendMode
from transforms.steps.context import Context

_MODES = {
    BlendMode.NORMAL: "over",
    BlendMode.MULTIPLY: "multiply",
    BlendMode.SCREEN: "screen",
    BlendMode.OVERLAY: "overlay",
    BlendMode.DARKEN: "darken",
    BlendMode.LIGHTEN: "lighten",
    BlendMode.DODGE: "colour-dodge",
    BlendMode.BURN: "colour-burn",
    BlendMode.HARDLIGHT: "hard-light",
    BlendMode.SOFTLIGHT: "soft-light",
    BlendMode.DIFFERENCE: "difference",
    BlendMode.EXCLUSION: "exclusion",
}


def blend(ctx: Context) -> None:
    options = ctx.options
    colour = options.blend
    if colour is None:
        return
    image = ctx.pixels()
    if image.bands < 3 or image.format != "uchar":
        image = image.colourspace("srgb").cast("uchar")
    had_alpha = image.hasalpha()
    base = image if had_alpha else image.addalpha()
    share = (100 if options.blend_alpha is None else options.blend_alpha) / 100
    plane = base.new_from_image([colour.red, colour.green, colour.blue, round(colour.alpha * share)])
    mode = _MODES[options.blend_mode or BlendMode.OVERLAY]
    out = base.composite2(plane, mode).cast("uchar")
    if had_alpha:
        # Where the image is transparent there is nothing to blend onto: keep its own alpha.
        out = out.extract_band(0, n=3).bandjoin(base.extract_band(3))
    else:
        out = out.extract_band(0, n=3)
    ctx.image = out.copy(interpretation="srgb")
