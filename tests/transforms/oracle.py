"""The output size a request should have, worked out on paper: an oracle independent of transforms.steps.layout.

It reasons in the output's own orientation (after or), as a user reading docs/parameters.md would:
the geometry there never depends on which way the source was turned. None means "this request must be
refused": padding that leaves no room, or a side longer than the output cap.
"""

from __future__ import annotations

import math

from transforms.options import Crop, Fit, TransformOptions

MAX_OUTPUT_SIDE = 8192  # PixelBudget().max_output_side


def half_up(value: float) -> int:
    return math.floor(value + 0.5)


def scaled(length: int, shrink: float) -> int:
    """``length`` resized by 1/``shrink``, rounded as libvips' resize rounds (its float steps included)."""
    return max(1, half_up(length * (1.0 / shrink)))


def predict_size(options: TransformOptions, width: int, height: int) -> tuple[int, int] | None:
    """Output size for an upright ``width`` x ``height`` source (no trim: that depends on pixels)."""
    if options.rect is not None:
        _, _, width, height = options.rect.resolve(width, height)
    if options.orient in (90, 270):
        width, height = height, width  # everything below is in the turned output's frame
    dpr = options.dpr or 1.0
    sized = options.w is not None or options.h is not None
    sides = options.sides()
    top, right, bottom, left = (
        half_up(side * dpr) if sized or sides else side for side in (sides.top, sides.right, sides.bottom, sides.left)
    )
    box_w = _length(options.w, width, dpr)
    box_h = _length(options.h, height, dpr)
    # As in imgix, ar shapes the box only for the fits that cut.
    if options.ar is not None and not (box_w and box_h) and options.fit in (Fit.CROP, Fit.MIN):
        ratio = options.ar.ratio
        if box_w:
            box_h = max(1, half_up(box_w / ratio))
        elif box_h:
            box_w = max(1, half_up(box_h * ratio))
        else:
            box_w, box_h = min(width, max(1, half_up(height * ratio))), min(height, max(1, half_up(width / ratio)))
    if box_w is None and box_h is None:
        return _capped(width + left + right, height + top + bottom)
    inner_w = None if box_w is None else box_w - left - right
    inner_h = None if box_h is None else box_h - top - bottom
    if (inner_w is not None and inner_w < 1) or (inner_h is not None and inner_h < 1):
        return None
    fit = options.fit or Fit.CLIP
    if inner_w is None or inner_h is None:
        out = _one_side(width, height, inner_w, inner_h, never_enlarge=fit in (Fit.MAX, Fit.MIN, Fit.FILLMAX))
    else:
        out = _in_box(width, height, inner_w, inner_h, fit, options)
    return _capped(out[0] + left + right, out[1] + top + bottom)


def _capped(width: int, height: int) -> tuple[int, int] | None:
    return None if max(width, height) > MAX_OUTPUT_SIDE else (width, height)


def _length(value: float | None, source: int, dpr: float) -> int | None:
    if value is None:
        return None
    pixels = value * source if isinstance(value, float) else value
    return max(1, half_up(pixels * dpr))


def _one_side(width: int, height: int, box_w: int | None, box_h: int | None, never_enlarge: bool) -> tuple[int, int]:
    shrink = width / box_w if box_w is not None else height / box_h  # type: ignore[operator]
    if never_enlarge and shrink <= 1:
        return width, height
    return scaled(width, shrink), scaled(height, shrink)


def _in_box(width: int, height: int, box_w: int, box_h: int, fit: Fit, options: TransformOptions) -> tuple[int, int]:
    if fit in (Fit.CROP, Fit.FILL, Fit.FILLMAX, Fit.CLAMP, Fit.SCALE):
        return box_w, box_h  # fillmax and clamp pad (never enlarging, or with edge pixels) to the box
    if fit is Fit.MIN:
        if box_w <= width and box_h <= height:
            return box_w, box_h  # covering shrinks (or keeps) the source: cut to the box
        # The largest piece of the box's shape at scale 1 (the focal point's zoom shrinks it further).
        zoom = (options.fp_z or 1.0) if options.crop == {Crop.FOCALPOINT} else 1.0
        ratio = box_w / box_h
        piece = min(width, max(1, half_up(height * ratio))), min(height, max(1, half_up(width / ratio)))
        return max(1, half_up(piece[0] / zoom)), max(1, half_up(piece[1] / zoom))
    if fit is Fit.MAX and width <= box_w and height <= box_h:
        return width, height
    # clip (or max shrinking): the tighter side is exact, the other keeps the aspect ratio.
    shrink = max(width / box_w, height / box_h)
    return scaled(width, shrink), scaled(height, shrink)
