"""Step 5: pixels in 8-bit sRGB (or 8-bit grey) from here on.

Output carries no profile (metadata is stripped), and browsers take untagged images as sRGB, so a
source in another space must be converted, not merely untagged: a Display P3 red left as is would
show visibly duller. The later steps' colours (padding, flattening) are 8-bit sRGB values too.
"""

from __future__ import annotations

from transforms.steps.context import Context, Done

_GREY = ("b-w", "grey16")


def colour(ctx: Context) -> None:
    image = ctx.pixels()
    if Done.COLOUR not in ctx.done:
        source = ctx.header()
        if source.foreign_profile:
            image = image.icc_transform("srgb", embedded=True)
        ctx.done |= Done.COLOUR
    # 16-bit and other spaces still need bringing to 8-bit sRGB or grey. CMYK without a profile
    # lands here too: libvips converts it through its built-in CMYK profile.
    target = "b-w" if image.interpretation in _GREY else "srgb"
    if image.interpretation != target or image.format != "uchar":
        image = image.colourspace(target)
    ctx.image = image
