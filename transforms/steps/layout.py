"""Step 2: all geometry and the output format, decided from the header before any pixel is decoded.

The pure function ``geometry`` holds the fit rules; the step adds `rect`, the output format and the
animation checks. The rules read normalised options only, which is what makes
``TransformOptions.canonical`` safe as a key. ``layout_for`` is also what the trim step calls once it
knows the trimmed size.
"""

from __future__ import annotations

import math
from dataclasses import replace

from transforms.errors import ImageTooLarge, InvalidParameter
from transforms.negotiate import keep_animation, output_for_source
from transforms.options import Crop, Fit, Rect, Sides, TransformOptions
from transforms.steps.context import Box, Context, Layout, PixelBudget, Region, SourceInfo
from transforms.steps.turn import source_options, swaps_sides

# libvips' largest coordinate: a box side that never constrains (thumbnail's height defaults to
# its width, so a missing side must be spelled out).
UNBOUNDED = 10_000_000
_STRATEGIES = {Crop.ENTROPY: "entropy", Crop.ATTENTION: "attention"}


def layout(ctx: Context) -> None:
    source = ctx.header()
    options = ctx.options
    width, height = source.upright_size
    rect = _inside("rect", options.rect, width, height)
    if rect is not None:
        width, height = rect.width, rect.height
    ctx.layout = replace(layout_for(width, height, options, ctx.budget.max_output_side), rect=rect)
    output = keep_animation(output_for_source(ctx.chosen, source.format, source.has_alpha), options, source.animated)
    ctx.output = output
    ctx.animated = source.animated and output.animates and options.frame is None
    _check_frames(source, options, ctx.budget, ctx.animated)


def layout_for(width: int, height: int, options: TransformOptions, max_side: int) -> Layout:
    """The layout for an upright ``width`` x ``height`` image (after rect and trim), turned options applied."""
    names = ("h", "w") if swaps_sides(options) else ("w", "h")
    return geometry(width, height, source_options(options), max_side, names)


def geometry(
    width: int, height: int, options: TransformOptions, max_side: int, names: tuple[str, str] = ("w", "h")
) -> Layout:
    """The layout for a ``width`` x ``height`` image and normalised ``options`` in its orientation.

    ``names`` are the parameters the URL used for this orientation's width and height (or swaps them),
    so that an error names what the caller wrote.
    """
    dpr = options.dpr or 1.0
    pad = _scaled(options.sides(), dpr)
    target_w = _requested(names[0], options.w, width, dpr, max_side)
    target_h = _requested(names[1], options.h, height, dpr, max_side)
    if options.ar is not None:
        target_w, target_h = _completed(options.ar.ratio, target_w, target_h, width, height, max_side)
    if target_w is None and target_h is None:
        if max(width + pad.left + pad.right, height + pad.top + pad.bottom) > max_side:
            raise ImageTooLarge(f"the image is wider or taller than {max_side} pixels: ask for a w or h")
        return Layout(pad=pad)
    inner_w = _inner(target_w, pad.left + pad.right)
    inner_h = _inner(target_h, pad.top + pad.bottom)
    fit = options.fit or Fit.CLIP
    if inner_w is None or inner_h is None:
        extra = pad.top + pad.bottom if inner_w is not None else pad.left + pad.right
        found = _one_side(width, height, inner_w, inner_h, fit, max_side - extra, names)
    else:
        found = _boxed(width, height, Box(inner_w, inner_h), options, fit)
    return replace(found, pad=pad)


def _boxed(width: int, height: int, target: Box, options: TransformOptions, fit: Fit) -> Layout:
    if fit is Fit.MAX:
        return Layout(resize=target, size="down")
    if fit is Fit.SCALE:
        return Layout(resize=target, size="force")
    if fit in (Fit.FILL, Fit.CLAMP):
        return Layout(resize=target, canvas=target, gravity=options.crop)
    if fit is Fit.FILLMAX:  # fill, never enlarging: a smaller image is placed in the canvas at its own size
        return Layout(resize=target, size="down", canvas=target, gravity=options.crop)
    if fit in (Fit.CROP, Fit.MIN) and options.crop == {Crop.FOCALPOINT}:
        return _focal(width, height, target, options, fit)
    if fit is Fit.CROP or (fit is Fit.MIN and _cover_scale(width, height, target) <= 1):
        return Layout(resize=target, crop=_cut(width, height, target, options.crop))
    if fit is Fit.MIN:
        # Covering would enlarge: cut the largest region of the target's aspect ratio at scale 1.
        region = _largest(width, height, target.width / target.height)
        return Layout(resize=region, crop=_cut(width, height, region, options.crop))
    return Layout(resize=target)


def _focal(width: int, height: int, target: Box, options: TransformOptions, fit: Fit) -> Layout:
    """Cover the target (zoomed by fp-z), then cut a target-sized window centred on the focal point.

    Scaling first and cutting second keeps libvips' one-pass thumbnail for the scaling.
    """
    zoom = options.fp_z or 1.0
    at_x = 0.5 if options.fp_x is None else options.fp_x
    at_y = 0.5 if options.fp_y is None else options.fp_y
    cover = _cover_scale(width, height, target)
    if fit is Fit.MIN and cover > 1:
        # Never enlarge: the largest region of the target's shape at scale 1, made smaller by the zoom.
        largest = _largest(width, height, target.width / target.height)
        window = Box(_round(largest.width / zoom), _round(largest.height / zoom))
        return Layout(window=_window(Box(width, height), window, at_x, at_y))
    scale = cover * zoom
    if fit is Fit.MIN:
        scale = min(scale, 1.0)
    scaled = Box(max(target.width, _round(width * scale)), max(target.height, _round(height * scale)))
    if max(scaled.width, scaled.height) > UNBOUNDED:
        raise InvalidParameter("fp-z" if zoom > 1 else "crop", "zooms further than libvips can draw")
    resize = None if scaled == Box(width, height) else scaled
    return Layout(resize=resize, size="force", window=_window(scaled, target, at_x, at_y))


def _window(image: Box, window: Box, at_x: float, at_y: float) -> Region:
    """``window`` centred on (at_x, at_y) of ``image`` as far as its edges allow."""
    left = min(max(0, _round_any(at_x * image.width - window.width / 2)), image.width - window.width)
    top = min(max(0, _round_any(at_y * image.height - window.height / 2)), image.height - window.height)
    return Region(left, top, window.width, window.height)


def _requested(name: str, value: float | None, source_side: int, dpr: float, max_side: int) -> int | None:
    if value is None:
        return None
    pixels = value * source_side if isinstance(value, float) else value  # a float is a ratio
    scaled = _round(pixels * dpr)
    if scaled > max_side:
        if dpr != 1:
            raise InvalidParameter("dpr", f"{name}×dpr must be at most {max_side} pixels")
        raise InvalidParameter(name, f"must be at most {max_side} pixels")
    return scaled


def _completed(
    ratio: float, target_w: int | None, target_h: int | None, width: int, height: int, max_side: int
) -> tuple[int, int]:
    """The box `ar` makes with the side given (normalising dropped ar when both are)."""
    if target_w is not None:
        box = Box(target_w, _round(target_w / ratio))
    elif target_h is not None:
        box = Box(_round(target_h * ratio), target_h)
    else:
        box = _largest(width, height, ratio)
    if max(box.width, box.height) > max_side:
        raise InvalidParameter("ar", f"makes a side longer than {max_side} pixels")
    return box.width, box.height


def _inner(target: int | None, padding: int) -> int | None:
    if target is None:
        return None
    if target - padding < 1:
        raise InvalidParameter("pad", "leaves no room for the image inside w and h")
    return target - padding


def _one_side(
    width: int, height: int, target_w: int | None, target_h: int | None, fit: Fit, max_side: int, names: tuple[str, str]
) -> Layout:
    """Only w or only h: keep the aspect ratio whatever the fit (normalising left only clip or max)."""
    if target_w is not None:
        scale, other, name = target_w / width, height, names[0]
    elif target_h is not None:
        scale, other, name = target_h / height, width, names[1]
    else:
        return Layout()
    if fit is Fit.MAX:
        scale = min(scale, 1.0)
    if _round(other * scale) > max_side:
        raise InvalidParameter(name, "the other side of the result would be too long")
    box = Box(target_w or UNBOUNDED, target_h or UNBOUNDED)
    return Layout(resize=box, size="down" if fit is Fit.MAX else "both")


def _largest(width: int, height: int, ratio: float) -> Box:
    """The largest box of aspect ``ratio`` inside ``width`` x ``height``."""
    return Box(min(width, _round(height * ratio)), min(height, _round(width / ratio)))


def _cover_scale(width: int, height: int, target: Box) -> float:
    return max(target.width / width, target.height / height)


def _cut(width: int, height: int, target: Box, gravity: frozenset[Crop]) -> str:
    """libvips' crop mode for covering ``target``: a smartcrop strategy, or which end of the overflow to keep.

    Covering fits one axis exactly and overflows the other, so only that axis' edges matter:
    libvips' "low" keeps the top or left end, "high" the bottom or right end.
    """
    for strategy, mode in _STRATEGIES.items():
        if strategy in gravity:
            return mode
    overflows_vertically = target.width / width >= target.height / height
    low, high = (Crop.TOP, Crop.BOTTOM) if overflows_vertically else (Crop.LEFT, Crop.RIGHT)
    if low in gravity:
        return "low"
    if high in gravity:
        return "high"
    return "centre"


def _inside(name: str, rect: Rect | None, width: int, height: int) -> Region | None:
    if rect is None:
        return None
    x, y, w, h = rect.resolve(width, height)
    if x + w > width or y + h > height:
        raise InvalidParameter(name, f"must lie inside the {width}x{height} image")
    if (x, y, w, h) == (0, 0, width, height):
        return None  # the whole image: nothing to cut
    return Region(x, y, w, h)


def _check_frames(source: SourceInfo, options: TransformOptions, budget: PixelBudget, animated: bool) -> None:
    if options.frame is not None and options.frame > source.frames:
        raise InvalidParameter("frame", f"must be at most {source.frames}: the image has no frame {options.frame}")
    if not animated:
        return
    # Checked from the header, before decoding: every frame of an animated output is decoded.
    if source.frames > budget.max_frames:
        raise ImageTooLarge(f"the animation has more than {budget.max_frames} frames")
    if source.width * source.height * source.frames > budget.max_pixels:
        raise ImageTooLarge(f"the animation has more than {budget.max_pixels:,} pixels in all its frames")


def _scaled(sides: Sides, dpr: float) -> Sides:
    if dpr == 1 or not sides:
        return sides
    return Sides(*(_round_any(side * dpr) for side in (sides.top, sides.right, sides.bottom, sides.left)))


def _round(value: float) -> int:
    """Half up and at least 1 (Python's round() is half-to-even, which surprises in pixel sizes)."""
    return max(1, _round_any(value))


def _round_any(value: float) -> int:
    return math.floor(value + 0.5)
