"""Scale-on-load: decode no more pixels than the result needs, then let libvips' ``resize`` do the rest.

The way imgproxy drives libvips (its ``processing/scale_on_load.go``), not the way libvips' ``thumbnail`` does:

- JPEG: libjpeg's DCT scaling by the largest of 8, 4 or 2 the reduction reaches (a 6.4x reduction decodes at
  1/4). ``thumbnail`` stops one factor short, keeping at least 2x for its own reduce (1/2 there), so libjpeg
  decodes four times the pixels. Pillow's ``draft``, which thumbor uses, takes the full factor too.
  Measured with SSIM against a full-size decode resized with ``KERNEL`` (tests/transforms/test_quality_floor.py):
  the same score as Pillow's draft + LANCZOS to the fourth decimal on every corpus photo, 0.988-0.999 at
  400 px; where a reduction just passes a factor (2560 -> 1200) the two-stage result is a little softer
  (0.976-0.998, against 1.0 for a full decode). ``Mode.FINE`` keeps thumbnail's margin for who wants that.
- WebP: libwebp's scaled decode, to twice the result's size at most (``WEBP_MARGIN``): decoding straight to
  the result's size is libwebp's own averaging, which loses more (see tests/transforms/test_quality_floor.py).
- HEIF/AVIF: the embedded thumbnail, when the file has one at least as large as the result.
- SVG: rendered at the result's scale (a vector loses nothing, and enlarging stays sharp).
- PNG, GIF, TIFF: decoded at full size (their formats cannot scale while decoding); ``resize`` box-shrinks first.

``fitted`` is libvips' thumbnail geometry in plain arithmetic, so sizes are those ``thumbnail`` gave: the
resized size is worked out from the full-size source, never from the shrunk decode (whose sides libjpeg rounds
up), and a cover is cut after the resize. Everything here is arithmetic; the load step calls libvips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from transforms.sniff import SourceFormat

# The reduce kernel: libvips' default for resize and thumbnail, the sharpest of its windowed-sinc kernels.
KERNEL = "lanczos3"
# libjpeg's DCT scaling factors, largest first.
JPEG_SHRINKS = (8, 4, 2)
# WebP is decoded to at most this many times the result's size, then reduced with KERNEL.
WEBP_MARGIN = 2.0


class Mode(StrEnum):
    FAST = "fast"  # JPEG DCT scaling by the full factor the reduction reaches (imgproxy's, Pillow's draft)
    FINE = "fine"  # one factor less, leaving at least 2x to the reduce kernel (libvips' thumbnail)


# How much of a reduction JPEG's DCT scaling may leave to the reduce kernel, at least, per mode.
_JPEG_MARGIN = {Mode.FAST: 1.0, Mode.FINE: 2.0}


class _Configured:
    """The process's mode, set once at start-up like libvips' own settings (``transforms.vips.configure``)."""

    mode = Mode.FAST


def configure(mode: Mode) -> None:
    _Configured.mode = mode


def configured() -> Mode:
    return _Configured.mode


@dataclass(frozen=True, slots=True)
class Fitted:
    """Where a resize lands: the resized size, then the cut of a cover (equal to it when nothing is cut)."""

    width: int
    height: int
    cut_width: int
    cut_height: int

    @property
    def cuts(self) -> bool:
        return (self.cut_width, self.cut_height) != (self.width, self.height)


def fitted(width: int, height: int, box_width: int, box_height: int, size: str, crop: str) -> Fitted:
    """``width`` x ``height`` resized into the box as libvips' thumbnail does it (size and crop modes alike).

    Fitting inside (crop "none") takes the larger of the two shrinks, covering (any other crop) the smaller;
    "force" takes each axis' own. "down" never enlarges, "up" never shrinks.
    """
    hshrink = width / box_width
    vshrink = height / box_height
    if size != "force":
        covers = crop != "none"
        common = min(hshrink, vshrink) if covers else max(hshrink, vshrink)
        hshrink = vshrink = common
    if size == "down":
        hshrink, vshrink = max(1.0, hshrink), max(1.0, vshrink)
    elif size == "up":
        hshrink, vshrink = min(1.0, hshrink), min(1.0, vshrink)
    # Never shrink an axis to nothing.
    hshrink, vshrink = min(hshrink, float(width)), min(vshrink, float(height))
    out_w, out_h = _scaled(width, hshrink), _scaled(height, vshrink)
    if crop == "none":
        return Fitted(out_w, out_h, out_w, out_h)
    return Fitted(out_w, out_h, min(box_width, out_w), min(box_height, out_h))


def reduction(width: int, height: int, target_width: int, target_height: int) -> float:
    """How many times smaller the result is on its less reduced axis (below 1: it is enlarged)."""
    return min(width / target_width, height / target_height)


def jpeg_shrink(factor: float, mode: Mode = Mode.FAST) -> int:
    """libjpeg's scale-on-load factor for a ``factor`` times reduction: the largest of 8, 4, 2 it reaches
    (``Mode.FINE``: with twice that to spare)."""
    margin = _JPEG_MARGIN[mode]
    for shrink in JPEG_SHRINKS:
        if factor >= shrink * margin:
            return shrink
    return 1


def load_options(source: SourceFormat, factor: float, mode: Mode | None = None) -> dict[str, Any]:
    """Loader options that decode a ``source`` for a ``factor`` times reduction with fewer pixels.

    Empty when the format cannot scale while decoding, or nothing would be saved. HEIF's thumbnail depends on
    the file (``heif_thumbnail_suffices``).
    """
    if source is SourceFormat.JPEG:
        shrink = jpeg_shrink(factor, mode or configured())
        return {"shrink": shrink} if shrink > 1 else {}
    if source is SourceFormat.WEBP:
        if factor < WEBP_MARGIN:
            return {}
        return {"scale": WEBP_MARGIN / factor}
    if source is SourceFormat.SVG:
        return {"scale": 1.0 / factor} if factor != 1 else {}
    return {}


def heif_thumbnail_suffices(width: int, thumbnail_width: int, target_width: int) -> bool:
    """Is a HEIF's embedded thumbnail at least as wide as the result (and smaller than the full image)?"""
    return target_width <= thumbnail_width < width


def _scaled(length: int, shrink: float) -> int:
    # As libvips' resize rounds its output size: half up, never below one pixel.
    return max(1, math.floor(length * (1.0 / shrink) + 0.5))
