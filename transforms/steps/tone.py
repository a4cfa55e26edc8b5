"""Step 13: brightness, contrast and saturation (`bri`, `con`, `sat`, each -100..100), on 8-bit sRGB values.

Simple, documented arithmetic rather than a colour-science model, so that a user can predict it:

- bri adds bri × 2.55 to every channel (100 takes any pixel to white);
- con scales each channel's distance from mid-grey (128) by (100 + con) / 100 (-100: flat grey);
- sat scales each channel's distance from the pixel's luma (Rec. 709 weights) by (100 + sat) / 100,
  so sat=-100 gives exactly equal channels: greyscale, still in three bands.

Applied in that order — sat, bri, con — on the colour bands only; alpha is untouched. They are point
operations, so an animation is done in one go.
"""

from __future__ import annotations

from transforms.steps.context import Context

_LUMA = (0.2126, 0.7152, 0.0722)
_MID_GREY = 128


def tone(ctx: Context) -> None:
    options = ctx.options
    bri, con, sat = options.bri or 0, options.con or 0, options.sat or 0
    if not (bri or con or sat):
        return
    image = ctx.pixels()
    interpretation = image.interpretation
    alpha = None
    if image.hasalpha():
        image, alpha = image.extract_band(0, n=image.bands - 1), image.extract_band(image.bands - 1)
    colour = image.cast("float")
    if sat and colour.bands >= 3:
        factor = (100 + sat) / 100
        luma = colour.recomb([list(_LUMA)])
        # factor·c + (1 - factor)·luma: at factor 0 every band is the luma itself, exactly equal.
        colour = colour * factor + luma * (1 - factor)
    if bri:
        colour = colour + bri * 2.55
    if con:
        factor = (100 + con) / 100
        colour = colour * factor + _MID_GREY * (1 - factor)
    out = (colour + 0.5).cast("uchar")  # cast truncates and clips to 0-255: +0.5 rounds
    if alpha is not None:
        out = out.bandjoin(alpha)
    ctx.image = out.copy(interpretation=interpretation)
