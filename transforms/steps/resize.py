"""Step 8: resize to the layout, covering and cutting when the fit asks for it.

On the hot path ``load`` already did this right after a scaled decode; this step serves images that were
decoded at full size (after a `rect` or `trim` cut, or an animation cut frame by frame). Both go through
``fit_into``: libvips' ``resize`` with ``scale_on_load.KERNEL`` to the size ``scale_on_load.fitted`` works
out, then the cover's cut (an edge, the centre, or a smartcrop strategy) in the same pipeline.
"""

from __future__ import annotations

from typing import Any

from transforms.scale_on_load import KERNEL, Fitted, fitted
from transforms.steps.context import Box, Context, Done
from transforms.steps.frames import each_frame


def resize(ctx: Context) -> None:
    layout = ctx.geometry()
    box = layout.resize
    if Done.RESIZED in ctx.done or box is None:
        return

    def work(frame: Any) -> Any:
        fit = fitted(frame.width, frame.height, box.width, box.height, layout.size, layout.crop)
        return fit_into(frame, fit, layout.crop)

    ctx.image = each_frame(ctx.pixels(), ctx.pages, work)
    ctx.done |= Done.RESIZED


def fit_into(image: Any, fit: Fitted, crop: str) -> Any:
    """``image`` (upright) resized to ``fit`` and cut to its cover's box by ``crop`` (a libvips interesting)."""
    image = resize_to(image, Box(fit.width, fit.height))
    if fit.cuts:
        image = cut_cover(image, fit, crop)
    return image


def resize_to(image: Any, size: Box) -> Any:
    """``image`` resized to exactly ``size``, whatever size it was decoded at (alpha premultiplied meanwhile)."""
    if (image.width, image.height) == (size.width, size.height):
        return image
    hscale, vscale = size.width / image.width, size.height / image.height
    if not image.hasalpha():
        return image.resize(hscale, vscale=vscale, kernel=KERNEL)
    # Premultiplied, so that the colour of transparent pixels does not bleed into the visible ones.
    resized = image.premultiply().resize(hscale, vscale=vscale, kernel=KERNEL).unpremultiply()
    return resized.cast(image.format)


def cut_cover(image: Any, fit: Fitted, crop: str) -> Any:
    """The box out of a covering resize: libvips' smartcrop takes the edge modes and the strategies alike."""
    return image.smartcrop(fit.cut_width, fit.cut_height, interesting=crop)
