"""Step 16: the slow encoders' size caps, on the output's final size, before any pixel is encoded.

libvips has computed nothing yet for most runs (the pixels are computed by the encode), and the image knows
its final size: width x height of the roll, which is every frame of an animation summed. The caps are those
of ``PixelBudget``, for the encodes that cannot be stopped half-way (``transforms.deadline``): GIF (all
frames, and one frame: its palette), AVIF, lossless WebP and AVIF, and any animation.

Over a cap the run is refused with ``ImageTooLarge`` naming the cap, except one case: an AVIF chosen by
``auto=format`` (the caller listed it in Accept but did not insist with ``fm``) is written as WebP instead,
above the cap and already above ``max_auto_avif_pixels``, where AVIF's encode gets slow,
which every browser that takes AVIF takes too and which encodes several times faster. The result still
depends only on (options, chosen format, source), so the cache key stays right.
"""

from __future__ import annotations

from transforms.errors import ImageTooLarge
from transforms.options import Format
from transforms.steps.context import Context

_SMALLER = "ask for a smaller w or h"


def output_caps(ctx: Context) -> None:
    image = ctx.pixels()
    budget = ctx.budget
    pixels = image.width * image.height  # the roll: every frame
    output = ctx.output_format()
    negotiated = ctx.chosen is Format.AVIF and ctx.options.fm is None
    if output is Format.AVIF and negotiated and pixels > min(budget.max_avif_pixels, budget.max_auto_avif_pixels):
        output = ctx.output = Format.WEBP
    if output is Format.AVIF and pixels > budget.max_avif_pixels:
        _refuse(f"AVIF output is limited to {budget.max_avif_pixels:,} pixels (max_avif_pixels)", other_format=True)
    if output is Format.GIF:
        frame = image.width * (image.height // ctx.pages)
        if frame > budget.max_gif_frame_pixels:
            cap = budget.max_gif_frame_pixels
            _refuse(f"GIF output is limited to {cap:,} pixels a frame (max_gif_frame_pixels)", other_format=True)
        if pixels > budget.max_gif_pixels:
            cap = budget.max_gif_pixels
            _refuse(f"GIF output is limited to {cap:,} pixels, frames summed (max_gif_pixels)", other_format=True)
    if ctx.options.lossless and output in (Format.WEBP, Format.AVIF) and pixels > budget.max_lossless_pixels:
        cap = budget.max_lossless_pixels
        _refuse(f"lossless output is limited to {cap:,} pixels (max_lossless_pixels)", other_format=False)
    if ctx.pages > 1 and pixels > budget.max_animation_pixels:
        cap = budget.max_animation_pixels
        _refuse(f"animated output is limited to {cap:,} pixels, frames summed (max_animation_pixels)", frames=True)


def _refuse(limit: str, *, other_format: bool = False, frames: bool = False) -> None:
    advice = [_SMALLER, *(["another fm"] if other_format else []), *(["frame=1 for a still"] if frames else [])]
    raise ImageTooLarge(f"{limit}: {', or '.join(advice)}")
