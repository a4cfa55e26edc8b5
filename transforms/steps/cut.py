"""Cuts at fixed places the layout computed: `rect` before anything else, the focal-point window after resizing.

Both are plain ``extract_area`` calls on each frame; they live apart from resize because libvips'
thumbnail cannot cut at an arbitrary offset, and apart from each other because trim sits between them.
"""

from __future__ import annotations

from typing import Any

from transforms.steps.context import Context, Region
from transforms.steps.frames import each_frame


def cut_rect(ctx: Context) -> None:
    """Step 6: `rect`, in the upright source's pixels (the layout checked it lies inside)."""
    region = ctx.geometry().rect
    if region is not None:
        ctx.image = each_frame(ctx.pixels(), ctx.pages, _cutter(region))


def cut_window(ctx: Context) -> None:
    """Step 9: the focal-point window, out of the image resized to cover it."""
    region = ctx.geometry().window
    if region is not None:
        ctx.image = each_frame(ctx.pixels(), ctx.pages, _cutter(region))


def _cutter(region: Region) -> Any:
    def cut(frame: Any) -> Any:
        return frame.extract_area(region.left, region.top, region.width, region.height)

    return cut
