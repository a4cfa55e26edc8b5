"""Bytes in, bytes out: the ordered steps every image goes through.

Shape borrowed from imgproxy: a step is a plain callable over a small per-run ``Context``; the
order lives here, in one tuple, and each step decides for itself whether it applies. Geometry is
settled (``plan``) before the first pixel is decoded (``load``). A new operation is one module in
``transforms/steps`` and one line below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pyvips

from transforms.errors import UnsupportedImage
from transforms.options import Format, TransformOptions
from transforms.steps.background import background
from transforms.steps.colour import colour
from transforms.steps.context import Context, Limits
from transforms.steps.encode import encode
from transforms.steps.header import read_header
from transforms.steps.load import load
from transforms.steps.orient import orient
from transforms.steps.pad import pad
from transforms.steps.plan import plan
from transforms.steps.resize import resize

__all__ = ["PIPELINE", "Limits", "Output", "Step", "run"]


class Step(Protocol):
    def __call__(self, ctx: Context, /) -> None: ...


PIPELINE: tuple[Step, ...] = (
    read_header,  # sniff, header only, pixel budget
    plan,  # geometry and output format, before any pixel
    load,  # decode with shrink-on-load (the hot path resizes here)
    orient,  # EXIF orientation
    colour,  # ICC / CMYK -> 8-bit sRGB
    resize,  # fit to the plan, covering and cutting if asked
    pad,  # fit=fill canvas
    background,  # bg into transparency; flatten for formats without alpha
    encode,  # strip metadata, write once
)


@dataclass(frozen=True)
class Output:
    data: bytes
    format: Format
    content_type: str
    width: int
    height: int


def run(original: bytes, options: TransformOptions, chosen: Format | None, limits: Limits) -> Output:
    """Transform ``original``; ``chosen`` comes from ``negotiate.choose_format`` (None: the source's family).

    Raises only ``ImageTooLarge``, ``UnsupportedImage`` and ``InvalidParameter``.
    """
    # The steps read normalised options only: options with equal canonical forms render alike.
    ctx = Context(original=original, options=options.normalised(), chosen=chosen, limits=limits)
    try:
        for step in PIPELINE:
            step(ctx)
    except pyvips.Error as exc:
        # libvips' own text can name internals; the caller gets a fixed message, logs get the cause.
        raise UnsupportedImage("the image could not be decoded or encoded") from exc
    output = ctx.output_format()
    image = ctx.pixels()
    return Output(ctx.data, output, output.content_type, image.width, image.height)
