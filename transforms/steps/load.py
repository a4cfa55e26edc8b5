"""Step 3: decode, shrinking on load.

When the plan resizes, libvips' ``thumbnail_buffer`` does load, EXIF rotation, colour import and
resize in one pass, picking the cheapest decode for the target (JPEG DCT scaling, WebP and SVG
scale-on-load, HEIF thumbnails). That is the operation issue 3 benchmarks against, so the hot path
costs the same; the orient, colour and resize steps then see their work done and return.

Without a resize the image is opened lazily and the following steps do their work one by one.
Either way the image may be sequential: it can be read once, top to bottom, so encode it once.
"""

from __future__ import annotations

from typing import Any

import pyvips

from transforms.steps.context import Context, Done, SourceInfo
from transforms.vips import FAIL_ON


def load(ctx: Context) -> None:
    source = ctx.header()
    plan = ctx.geometry()
    if plan.resize is None:
        # Rotating reads rows out of order, which a sequential image refuses.
        access = "sequential" if source.orientation == 1 else "random"
        ctx.image = pyvips.Image.new_from_buffer(ctx.original, "", access=access, fail_on=FAIL_ON)
        return
    ctx.image = pyvips.Image.thumbnail_buffer(
        ctx.original,
        plan.resize.width,
        height=plan.resize.height,
        size=plan.size,
        crop=plan.crop,
        # Loader options travel in option_string: thumbnail's own fail_on does not reach the loader
        # (measured, libvips 8.18: a truncated JPEG then decodes silently with grey rows).
        option_string=f"fail_on={FAIL_ON}",
        **_colour_options(source),
    )
    ctx.done |= Done.ORIENTED | Done.COLOUR | Done.RESIZED


def _colour_options(source: SourceInfo) -> dict[str, Any]:
    # Only a non-sRGB profile needs the transform (see icc.py for its cost); CMYK without a profile
    # is converted by thumbnail itself, with libvips' built-in CMYK profile.
    return {"output_profile": "srgb"} if source.foreign_profile else {}
