"""Colour effects on the output's 8-bit sRGB values: hue, vib, gam, sepia, monochrome, duotone, invert.

Point operations on the colour bands (alpha untouched), so an animation is done in one go. Applied in
the order below, after bri, con and sat:

- hue turns the LCh hue angle by hue degrees, keeping lightness and chroma;
- vib scales each pixel's distance from its luma by 1 + vib/100 × (1 - s), where s (0-1) is the
  pixel's own saturation, (max - min) / 255: dull colours move most, vivid ones hardly at all;
- gam maps each channel c (0-1) to c^(2^(-gam/100)): 100 is a square root (brighter mid-tones), -100 a
  square (darker), black and white stay;
- sepia mixes in, by sepia percent, the classic sepia matrix;
- monochrome maps the luma onto shades of its colour (black, the colour at mid-grey, white), mixed in by
  the colour's alpha as imgix does (ARGB: the A is the strength);
- duotone maps the luma onto a gradient from its first colour (shadows) to its second (highlights),
  mixed in by duotone-alpha percent;
- invert takes each channel c to 255 - c.
"""

from __future__ import annotations

from typing import Any

from transforms.options import Color, TransformOptions
from transforms.steps.context import Context

_LUMA = [0.2126, 0.7152, 0.0722]
_SEPIA = [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]]


def wanted(options: TransformOptions) -> bool:
    return any(
        (options.hue, options.vib, options.gam, options.sepia, options.monochrome, options.duotone, options.invert)
    )


def effects(ctx: Context) -> None:
    options = ctx.options
    if not wanted(options):
        return
    image = ctx.pixels()
    if image.bands < 3 or image.interpretation != "srgb" or image.format != "uchar":
        image = image.colourspace("srgb").cast("uchar")
    alpha = None
    if image.hasalpha():
        image, alpha = image.extract_band(0, n=image.bands - 1), image.extract_band(image.bands - 1)
    if options.hue:
        lch = image.colourspace("lch")
        turned = (lch.extract_band(2) + options.hue) % 360
        image = lch.extract_band(0, n=2).bandjoin(turned).copy(interpretation="lch").colourspace("srgb")
    colour = image.cast("float")
    if options.vib:
        colour = _vibrance(colour, options.vib)
    if options.gam:
        colour = ((colour / 255) ** (2 ** (-options.gam / 100))) * 255
    if options.sepia:
        share = options.sepia / 100
        colour = colour * (1 - share) + colour.recomb(_SEPIA) * share
    if options.monochrome is not None:
        colour = _tinted(colour, options.monochrome)
    if options.duotone is not None:
        share = (100 if options.duotone_alpha is None else options.duotone_alpha) / 100
        luma = colour.recomb([_LUMA]) / 255
        shadows, highlights = _rgb(options.duotone.shadows), _rgb(options.duotone.highlights)
        mapped = _gradient(luma, shadows, highlights)
        colour = colour * (1 - share) + mapped * share
    if options.invert:
        colour = 255 - colour
    out = (colour + 0.5).cast("uchar")  # cast clips to 0-255; +0.5 rounds
    if alpha is not None:
        out = out.bandjoin(alpha)
    ctx.image = out.copy(interpretation="srgb")


def _vibrance(colour: Any, vib: int) -> Any:
    red, green, blue = colour.extract_band(0), colour.extract_band(1), colour.extract_band(2)
    saturation = (red.maxpair(green).maxpair(blue) - red.minpair(green).minpair(blue)) / 255
    factor = 1 + vib / 100 * (1 - saturation)
    luma = colour.recomb([_LUMA])
    return luma + (colour - luma) * factor


def _tinted(colour: Any, tint: Color) -> Any:
    """Black at luma 0, the tint at mid-grey, white at 255; mixed in by the tint's alpha."""
    luma = colour.recomb([_LUMA]) / 255
    rgb = _rgb(tint)
    low = luma * 2 * rgb  # 0 -> black, 0.5 -> the tint
    high = (luma * 2 - 1) * [255 - channel for channel in rgb] + rgb  # 0.5 -> the tint, 1 -> white
    mapped = (luma < 0.5).ifthenelse(low, high)
    share = tint.alpha / 255
    return colour * (1 - share) + mapped * share


def _gradient(luma: Any, start: list[float], end: list[float]) -> Any:
    return luma * [b - a for a, b in zip(start, end, strict=True)] + start


def _rgb(colour: Color) -> list[float]:
    return [float(colour.red), float(colour.green), float(colour.blue)]
