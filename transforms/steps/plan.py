"""Step 2: all geometry and the output format, decided from the header before any pixel is decoded.

The pure function ``geometry`` holds the fit rules; the step adds the output format. The rules
read normalised options only, which is what makes ``TransformOptions.canonical`` safe as a key.
"""

from __future__ import annotations

import math

from transforms.errors import ImageTooLarge, InvalidParameter
from transforms.negotiate import output_for_source
from transforms.options import Crop, Fit, TransformOptions
from transforms.steps.context import Box, Context, Plan

# libvips' largest coordinate: a box side that never constrains (thumbnail's height defaults to
# its width, so a missing side must be spelled out).
UNBOUNDED = 10_000_000


def plan(ctx: Context) -> None:
    source = ctx.header()
    width, height = source.upright_size
    ctx.plan = geometry(width, height, ctx.options, ctx.limits.max_output_side)
    ctx.output = output_for_source(ctx.chosen, source.format, source.has_alpha)


def geometry(width: int, height: int, options: TransformOptions, max_side: int) -> Plan:
    """The plan for an upright ``width`` x ``height`` source and normalised ``options``."""
    if options.w is None and options.h is None:
        if max(width, height) > max_side:
            raise ImageTooLarge(f"the image is wider or taller than {max_side} pixels: ask for a w or h")
        return Plan()
    dpr = options.dpr or 1.0
    target_w = _requested("w", options.w, dpr, max_side)
    target_h = _requested("h", options.h, dpr, max_side)
    fit = options.fit or Fit.CLIP
    if target_w is None or target_h is None:
        return _one_side(width, height, target_w, target_h, fit, max_side)
    target = Box(target_w, target_h)
    if fit is Fit.MAX:
        return Plan(resize=target, size="down")
    if fit is Fit.SCALE:
        return Plan(resize=target, size="force")
    if fit is Fit.FILL:
        return Plan(resize=target, canvas=target, gravity=options.crop)
    if fit is Fit.CROP or (fit is Fit.MIN and _cover_scale(width, height, target) <= 1):
        return Plan(resize=target, crop=_cut_end(width, height, target, options.crop))
    if fit is Fit.MIN:
        # Covering would enlarge: cut the largest region of the target's aspect ratio at scale 1.
        region = Box(
            min(width, _round(height * target_w / target_h)),
            min(height, _round(width * target_h / target_w)),
        )
        return Plan(resize=region, crop=_cut_end(width, height, region, options.crop))
    return Plan(resize=target)


def _requested(name: str, value: int | None, dpr: float, max_side: int) -> int | None:
    if value is None:
        return None
    scaled = _round(value * dpr)
    if scaled > max_side:
        if dpr != 1:
            raise InvalidParameter("dpr", f"{name}×dpr must be at most {max_side} pixels")
        raise InvalidParameter(name, f"must be at most {max_side} pixels")
    return scaled


def _one_side(width: int, height: int, target_w: int | None, target_h: int | None, fit: Fit, max_side: int) -> Plan:
    """Only w or only h: keep the aspect ratio whatever the fit (normalising left only clip or max)."""
    if target_w is not None:
        scale, other, name = target_w / width, height, "w"
    elif target_h is not None:
        scale, other, name = target_h / height, width, "h"
    else:
        return Plan()
    if fit is Fit.MAX:
        scale = min(scale, 1.0)
    if _round(other * scale) > max_side:
        raise InvalidParameter(name, f"the other side of the result would exceed {max_side} pixels")
    box = Box(target_w or UNBOUNDED, target_h or UNBOUNDED)
    return Plan(resize=box, size="down" if fit is Fit.MAX else "both")


def _cover_scale(width: int, height: int, target: Box) -> float:
    return max(target.width / width, target.height / height)


def _cut_end(width: int, height: int, target: Box, gravity: frozenset[Crop]) -> str:
    """libvips' crop mode for covering ``target``: which end of the overflowing axis to keep.

    Covering fits one axis exactly and overflows the other, so only that axis' edges matter:
    libvips' "low" keeps the top or left end, "high" the bottom or right end.
    """
    overflows_vertically = target.width / width >= target.height / height
    low, high = (Crop.TOP, Crop.BOTTOM) if overflows_vertically else (Crop.LEFT, Crop.RIGHT)
    if low in gravity:
        return "low"
    if high in gravity:
        return "high"
    return "centre"


def _round(value: float) -> int:
    """Half up and at least 1 (Python's round() is half-to-even, which surprises in pixel sizes)."""
    return max(1, math.floor(value + 0.5))
