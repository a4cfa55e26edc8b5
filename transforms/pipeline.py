"""Bytes in, bytes out: the ordered steps every image goes through.

Shape borrowed from imgproxy: a step is a plain callable over a small per-run ``Context``; the
order lives here, in one tuple, and each step decides for itself whether it applies (and returns at
once when it does not, so a plain resize pays for none of the others). Geometry is settled
(``layout``) before the first pixel is decoded (``load``). A new operation is one module in
``transforms/steps`` and one line below. ``fm=json`` does not run the steps: see ``transforms.info``.

As in imgproxy, a run's deadline is checked after every step; libvips' own loops check it too, from the
load step on (``transforms.deadline``), so a run past its deadline stops with ``RenderTimedOut``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import pyvips

from transforms.deadline import Deadline
from transforms.errors import RenderTimedOut, UnsupportedImage
from transforms.info import describe
from transforms.options import Format, TransformOptions
from transforms.steps.background import background
from transforms.steps.blend import blend
from transforms.steps.border import border
from transforms.steps.colour import colour
from transforms.steps.context import Context, PixelBudget
from transforms.steps.cut import cut_rect, cut_window
from transforms.steps.detail import detail
from transforms.steps.effects import effects
from transforms.steps.encode import PALETTE_CONTENT_TYPE, encode
from transforms.steps.faces import face_layout, face_privacy
from transforms.steps.header import read_header
from transforms.steps.layout import layout
from transforms.steps.load import load
from transforms.steps.mark import mark as stamp
from transforms.steps.mask import mask
from transforms.steps.orient import orient
from transforms.steps.output_caps import output_caps
from transforms.steps.pad import pad
from transforms.steps.pixelate import pixelate
from transforms.steps.resize import resize
from transforms.steps.straighten import straighten
from transforms.steps.text import text
from transforms.steps.tone import tone
from transforms.steps.trim import trim
from transforms.steps.turn import turn
from transforms.steps.unsharp import unsharp

if TYPE_CHECKING:
    from transforms.marks import MarkSpec
    from transforms.shared_decode import SharedDecode

__all__ = ["PIPELINE", "PixelBudget", "Output", "Step", "run"]


class Step(Protocol):
    def __call__(self, ctx: Context, /) -> None: ...


PIPELINE: tuple[Step, ...] = (
    read_header,  # sniff, header only, pixel budget
    layout,  # geometry, output format, animation budget: before any pixel
    load,  # decode with shrink-on-load (the hot path resizes here), every frame if animated
    orient,  # EXIF orientation
    colour,  # ICC / CMYK -> 8-bit sRGB
    cut_rect,  # rect, in the upright source's pixels
    trim,  # uniform border away, then lay out again
    face_layout,  # crop=faces, fit=facearea: faces found, then lay out again
    resize,  # fit to the layout, covering and cutting (edges or smartcrop) if asked
    cut_window,  # the focal-point window
    face_privacy,  # blur-faces, px-faces on the output pixels
    pad,  # fit=fill canvas, pad borders
    turn,  # or, flip
    straighten,  # rot: any angle inside the frame
    detail,  # blur, sharp
    unsharp,  # usm, usmrad
    tone,  # bri, con, sat
    effects,  # hue, vib, gam, sepia, monochrome, duotone, invert
    pixelate,  # px
    blend,  # blend colour
    text,  # txt overlay, under the mark
    stamp,  # the workspace's mark, on every frame
    mask,  # mask=ellipse|corners, mask-bg
    border,  # border, border-radius
    background,  # bg into transparency; flatten for formats without alpha
    output_caps,  # the slow encoders' size caps, on the final size, before any pixel is encoded
    encode,  # strip metadata, write once
)


@dataclass(frozen=True)
class Output:
    data: bytes
    format: Format
    content_type: str
    width: int
    height: int  # of one frame, for an animation


def run(
    original: bytes,
    options: TransformOptions,
    chosen: Format | None,
    budget: PixelBudget,
    mark: MarkSpec | None = None,
    deadline: float | None = None,
    shared: SharedDecode | None = None,
) -> Output:
    """Transform ``original``; ``chosen`` comes from ``negotiate.choose_format`` (None: the source's family).

    ``mark`` is stamped on the output pixels (every frame of an animation). With ``fm=json`` the answer
    is the source's metadata (``transforms.info``) and ``mark`` does not apply. ``deadline`` is a
    ``time.monotonic()`` reading after which the run stops (None: no limit). Raises only ``ImageTooLarge``,
    ``UnsupportedImage``, ``InvalidParameter`` and ``RenderTimedOut``.
    """
    if options.fm is Format.JSON:
        data, width, height = describe(original, budget, faces=bool(options.faces))
        return Output(data, Format.JSON, Format.JSON.content_type, width, height)
    # The steps read normalised options only: options with equal canonical forms render alike.
    limit = Deadline(deadline)
    ctx = Context(
        original=original, options=options.normalised(), chosen=chosen, budget=budget, mark=mark, deadline=limit
    )
    ctx.shared = shared  # a srcset burst's one decode (transforms.shared_decode), or None
    try:
        for step in PIPELINE:
            step(ctx)
            limit.check()
    except pyvips.Error as exc:
        if limit.passed:  # the deadline's handler stopped libvips (its error only says "killed")
            raise RenderTimedOut() from exc
        # libvips' own text can name internals; the caller gets a fixed message, logs get the cause.
        raise UnsupportedImage("the image could not be decoded or encoded") from exc
    finally:
        limit.release()  # the images and their decoders are freed with the context, not by a later collection
    output = ctx.output_format()
    image = ctx.pixels()
    content_type = PALETTE_CONTENT_TYPE if ctx.options.palette is not None else output.content_type
    return Output(ctx.data, output, content_type, image.width, image.height // ctx.pages)
