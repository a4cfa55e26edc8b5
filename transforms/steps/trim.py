"""Step 7: `trim` cuts away a uniform border, then the geometry is laid out again for what is left.

Trim needs pixels, so it is the one step that changes the layout after decoding: w and h ratios, ar
and the fits all apply to the trimmed image, as the URL's author sees it. Decisions:

- auto cuts only when all four corners share a colour (within trim-tol): an image whose corners
  differ has no border to speak of, and guessing from one corner would eat into a photo;
- color cuts a border of trim-color, by default the top-left pixel's colour;
- transparent pixels count as border (they are flattened onto the border colour first);
- trim-tol is libvips find_trim's threshold: how far a channel may stray (0-255 scale);
- a frame that is all border is left whole; an animation is cut to the box holding every frame's content.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from transforms.options import TRIM_TOLERANCE, Color, Trim
from transforms.steps.context import Context, Region
from transforms.steps.frames import each_frame
from transforms.steps.layout import layout_for


def trim(ctx: Context) -> None:
    options = ctx.options
    if options.trim is None:
        return
    image = ctx.pixels()
    tolerance = TRIM_TOLERANCE if options.trim_tol is None else options.trim_tol
    height = image.height // ctx.pages
    if options.trim is Trim.ALPHA:
        _cut(ctx, image, _clear_border(image, ctx.pages, height, tolerance))
        return
    colour = options.trim_color if options.trim is Trim.COLOR else None
    frames = [_comparable(image.crop(0, index * height, image.width, height), colour) for index in range(ctx.pages)]
    border = _border(frames[0], options.trim, colour, tolerance)
    if border is None:
        return
    _cut(ctx, image, _content(frames, border, tolerance))


def _cut(ctx: Context, image: Any, box: Region | None) -> None:
    options = ctx.options
    height = image.height // ctx.pages
    if box is None or (box.width, box.height) == (image.width, height):
        return
    ctx.image = each_frame(image, ctx.pages, lambda frame: frame.extract_area(box.left, box.top, box.width, box.height))
    current = ctx.geometry()
    ctx.layout = replace(layout_for(box.width, box.height, options, ctx.budget.max_output_side), rect=current.rect)


def _clear_border(image: Any, pages: int, height: int, tolerance: int) -> Region | None:
    """trim=alpha: the box holding every frame's pixels more opaque than trim-tol (none: no alpha to trim)."""
    if not image.hasalpha():
        return None
    alpha = image.extract_band(image.bands - 1)
    frames = [alpha.crop(0, index * height, image.width, height) for index in range(pages)]
    return _content(frames, [0], tolerance)


def _comparable(frame: Any, colour: Color | None) -> Any:
    """The frame as opaque sRGB; transparency becomes the border colour (trim-color, else the top-left pixel's)."""
    if frame.bands < 3:
        frame = frame.colourspace("srgb")
    if frame.hasalpha():
        fill = list(frame(0, 0)[:3]) if colour is None else [colour.red, colour.green, colour.blue]
        frame = frame.flatten(background=fill)
    return frame


def _border(frame: Any, mode: Trim, colour: Color | None, tolerance: int) -> list[float] | None:
    if colour is not None:
        return [colour.red, colour.green, colour.blue]
    top_left = list(frame(0, 0))
    if mode is Trim.COLOR:
        return top_left
    right, bottom = frame.width - 1, frame.height - 1
    for x, y in ((right, 0), (0, bottom), (right, bottom)):
        if any(abs(a - b) > tolerance for a, b in zip(frame(x, y), top_left, strict=True)):
            return None
    return top_left


def _content(frames: list[Any], border: list[float], tolerance: int) -> Region | None:
    """The smallest box holding every frame's non-border pixels; None when there are none."""
    boxes = []
    for frame in frames:
        left, top, width, height = frame.find_trim(threshold=tolerance, background=border)
        if width > 0 and height > 0:
            boxes.append((left, top, left + width, top + height))
    if not boxes:
        return None
    left, top = min(box[0] for box in boxes), min(box[1] for box in boxes)
    right, bottom = max(box[2] for box in boxes), max(box[3] for box in boxes)
    return Region(left, top, right - left, bottom - top)
