"""Step 3: decode, shrinking on load.

When the layout resizes, libvips' ``thumbnail_buffer`` does load, EXIF rotation, colour import and
resize in one pass, picking the cheapest decode for the target (JPEG DCT scaling, WebP and SVG
scale-on-load, HEIF thumbnails). That is the operation `make bench` measures bare pyvips with, so the hot path
costs the same; the orient, colour and resize steps then see their work done and return. It also
resizes every frame of an animation ("n=-1"), as long as nothing has to be cut per frame.

Otherwise the image is opened lazily at full size and the following steps do their work one by one:
without a resize, and whenever a cut comes before the resize (rect, trim) or a cover-and-cut must
happen frame by frame. Sequential access (read once, top to bottom) is kept where nothing reorders rows.

Either way the loaded image carries the run's deadline (``transforms.deadline``): every computation of the
run happens downstream of it, so libvips stops any of them once the deadline has passed. What
``thumbnail_buffer`` computes inside the call, before there is an image to watch (the window of a smart
crop), is not covered: finding it outside would mean holding the covered image in memory, up to
``max_output_side`` squared, which costs more than the few seconds of the rare hostile case.
"""

from __future__ import annotations

from typing import Any

import pyvips

from transforms.steps.context import Context, Done, Layout, SourceInfo
from transforms.vips import FAIL_ON


def load(ctx: Context) -> None:
    source = ctx.header()
    layout = ctx.geometry()
    pages = _pages(ctx)
    ctx.pages = source.frames if ctx.animated else 1
    if layout.resize is None or not _one_pass(ctx, layout):
        access = "sequential" if _in_order(ctx, layout) else "random"
        ctx.image = pyvips.Image.new_from_buffer(ctx.original, "", access=access, fail_on=FAIL_ON, **pages)
        ctx.deadline.watch(ctx.image)
        return
    ctx.image = pyvips.Image.thumbnail_buffer(
        ctx.original,
        layout.resize.width,
        height=layout.resize.height,
        size=layout.size,
        crop=layout.crop,
        # Loader options travel in option_string: thumbnail's own fail_on does not reach the loader
        # (measured, libvips 8.18: a truncated JPEG then decodes silently with grey rows).
        option_string=",".join([f"fail_on={FAIL_ON}", *(f"{name}={value}" for name, value in pages.items())]),
        **_colour_options(source),
    )
    ctx.deadline.watch(ctx.image)
    ctx.done |= Done.ORIENTED | Done.COLOUR | Done.RESIZED


def _pages(ctx: Context) -> dict[str, int]:
    """Loader options choosing the frames: all of an animation, one asked for, or (default) the first."""
    if ctx.animated:
        return {"n": -1}
    frame = ctx.options.frame
    if frame is not None and frame > 1:
        return {"page": frame - 1}  # only multi-page formats get here: layout refused the others
    return {}


def _one_pass(ctx: Context, layout: Layout) -> bool:
    if layout.rect is not None or ctx.options.trim is not None:
        return False  # a cut before the resize
    # thumbnail's cover-and-cut treats the whole roll as one image; cutting happens per frame instead.
    return not (ctx.animated and layout.crop != "none")


def _in_order(ctx: Context, layout: Layout) -> bool:
    options = ctx.options
    return (
        ctx.header().orientation == 1
        and layout.rect is None
        and options.trim is None
        and options.rot is None
        and options.flip is None
        and not ctx.animated
    )


def _colour_options(source: SourceInfo) -> dict[str, Any]:
    # Only a non-sRGB profile needs the transform (see icc.py for its cost); CMYK without a profile
    # is converted by thumbnail itself, with libvips' built-in CMYK profile.
    return {"output_profile": "srgb"} if source.foreign_profile else {}
