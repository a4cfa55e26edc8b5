"""Text overlays from the URL: ``txt`` with ``txt-font``, ``txt-size``, ``txt-color``, ``txt-align``, ``txt-pad``,
``txt-shad`` and ``txt-width``, drawn on the output pixels after resizing (every frame of an animation), before
the workspace's mark, so an auto-applied mark stays on top.

Decisions:

- The text is never read as Pango markup: it is escaped, so ``<b>`` shows as typed and ``&`` cannot break the
  render. Control characters are refused by the parser; there is one line per ``\\n``-free text, wrapped at
  ``txt-width`` (default: the output's width less the padding), word by word.
- Fonts are a fixed set of installed families (``FONTS``: DejaVu, from Debian's fonts-dejavu-core), chosen by
  name: no font file, path or family a caller invents reaches Pango or fontconfig.
- Sizes are output pixels (72 dpi: a point is a pixel), multiplied by ``dpr`` like ``w`` and ``pad``.
- Defaults as imgix's: black, 12 px, ``bottom,right``, 10 px from the edges, no shadow.
- ``txt-shad`` (1-10) draws a soft dark shadow under the glyphs, blurred by that many tenths of the size.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pyvips

from transforms.options import Color
from transforms.steps.context import Context
from transforms.steps.frames import each_frame

# URL name -> the fontconfig family and style Pango is given.
FONTS = {
    "sans": "DejaVu Sans",
    "sans-bold": "DejaVu Sans Bold",
    "serif": "DejaVu Serif",
    "serif-bold": "DejaVu Serif Bold",
    "mono": "DejaVu Sans Mono",
    "mono-bold": "DejaVu Sans Mono Bold",
}
# imgix's spellings of the same families.
_FONT_ALIASES = {
    "sans-serif": "sans",
    "sans-serif,bold": "sans-bold",
    "serif,bold": "serif-bold",
    "monospace": "mono",
    "monospace,bold": "mono-bold",
}
# Bounded like mark texts: Pango's layout cannot be stopped half-way, so its size is capped instead.
MAX_TEXT = 200
MAX_TEXT_SIZE = 400
# The defaults are also folded out of the cache key by TransformOptions.normalised (options._faces_and_text).
DEFAULT_SIZE = 12
DEFAULT_PAD = 10
DEFAULT_ALIGN = "bottom,right"
_BLACK = Color(0, 0, 0, 255)
_VERTICAL = ("top", "middle", "bottom")
_HORIZONTAL = ("left", "center", "right")
_PANGO_ALIGN = {"left": "low", "center": "centre", "right": "high"}


def parse_text(value: str) -> str:
    if len(value) > MAX_TEXT or not value.isprintable():
        raise ValueError(value)
    return value


def parse_font(value: str) -> str:
    name = re.sub(r"\s+", "", value.lower())
    name = _FONT_ALIASES.get(name, name)
    if name not in FONTS:
        raise ValueError(value)
    return name


def parse_align(value: str) -> str:
    """imgix's spellings ("top,left", "left,top", "bottom", "center") -> "vertical,horizontal"."""
    items = value.lower().split(",")
    if len(items) > 2 or len(set(items)) != len(items):
        raise ValueError(value)
    if items in (["center"], ["middle"]):
        return "middle,center"
    vertical = [item for item in items if item in _VERTICAL]
    horizontal = [item for item in items if item in _HORIZONTAL]
    if len(vertical) + len(horizontal) != len(items) or len(vertical) > 1 or len(horizontal) > 1:
        raise ValueError(value)
    return f"{vertical[0] if vertical else 'middle'},{horizontal[0] if horizontal else 'center'}"


def text(ctx: Context) -> None:
    options = ctx.options
    if not options.txt:
        return
    dpr = options.dpr or 1.0
    size = max(1, round((options.txt_size or DEFAULT_SIZE) * dpr))
    pad = round((DEFAULT_PAD if options.txt_pad is None else options.txt_pad) * dpr)
    vertical, horizontal = (options.txt_align or DEFAULT_ALIGN).split(",")
    colour = options.txt_color or _BLACK
    font = f"{FONTS[options.txt_font or 'sans']} {size}"

    image = ctx.pixels()
    width, height = image.width, image.height // ctx.pages
    room = max(1, width - 2 * pad)
    wrap = min(room, round(options.txt_width * dpr)) if options.txt_width else room
    # Rendered once for every frame (all frames of a roll share one size), kept in memory for each of them.
    overlay = _rendered(options.txt, font, wrap, horizontal, colour, options.txt_shad or 0, size)
    if overlay.width > width or overlay.height > height:
        overlay = overlay.crop(0, 0, min(overlay.width, width), min(overlay.height, height))
    overlay = overlay.copy_memory()
    x = _offset(horizontal, _HORIZONTAL, width, overlay.width, pad)
    y = _offset(vertical, _VERTICAL, height, overlay.height, pad)
    ctx.image = each_frame(image, ctx.pages, lambda frame: _stamp(frame, overlay, x, y))


def _rendered(txt: str, font: str, wrap: int, horizontal: str, colour: Color, shadow: int, size: int) -> Any:
    """The text as an sRGB + alpha overlay (its shadow under it, when asked)."""
    ink = pyvips.Image.text(
        html.escape(txt, quote=False), font=font, width=wrap, align=_PANGO_ALIGN[horizontal], dpi=72, wrap="word-char"
    )
    coverage = ink if colour.alpha == 255 else ink.linear(colour.alpha / 255, 0.5).cast("uchar")
    glyphs = ink.new_from_image([colour.red, colour.green, colour.blue]).bandjoin(coverage)
    glyphs = glyphs.copy(interpretation="srgb")
    if not shadow:
        return glyphs
    spread = max(1, round(size * shadow / 10))
    margin = 2 * spread
    blurred = ink.embed(margin, margin, ink.width + 2 * margin, ink.height + 2 * margin).gaussblur(spread / 2)
    offset = max(1, size // 12)
    dark = blurred.new_from_image([0, 0, 0]).bandjoin(blurred.linear(0.8, 0).cast("uchar"))
    dark = dark.copy(interpretation="srgb")
    return dark.composite2(glyphs, "over", x=margin - offset, y=margin - offset)


def _offset(where: str, names: tuple[str, str, str], side: int, length: int, pad: int) -> int:
    start, _, end = names
    if where == start:
        return min(pad, max(0, side - length))
    if where == end:
        return max(0, side - length - pad)
    return max(0, (side - length) // 2)


def _stamp(frame: Any, overlay: Any, x: int, y: int) -> Any:
    # Coloured text turns a grey frame into sRGB; composite adds an alpha band, dropped again over an opaque frame.
    base = frame if frame.bands >= 3 else frame.colourspace("srgb")
    stamped = base.composite2(overlay, "over", x=x, y=y)
    if not base.hasalpha():
        stamped = stamped.extract_band(0, n=3)
    return stamped.cast(base.format) if stamped.format != base.format else stamped
