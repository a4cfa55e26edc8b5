"""Step 12: `blur` and `sharp`, on the output pixels, frame by frame.

- blur (0-2000, imgix's range): a Gaussian blur of sigma blur/20 output pixels, so 2000 is sigma 100.
  A large sigma costs time in proportion to it, so beyond sigma 8 the image is shrunk, blurred at
  sigma 8 and enlarged back, which looks the same (a wide blur has no detail to lose) at a fraction
  of the cost. Transparent images are blurred premultiplied, so no dark fringe leaks from clear pixels.
- sharp (0-100): libvips' sharpen (an unsharp mask in LabS that leaves flat areas alone), sigma 1,
  with the slope on edges (m2) at sharp/25: 75 is libvips' default strength, 100 a little more.
"""

from __future__ import annotations

from typing import Any

from transforms.steps.context import Context
from transforms.steps.frames import each_frame

BLUR_PER_SIGMA = 20
SHARP_PER_SLOPE = 25
_DIRECT_SIGMA = 8.0


def detail(ctx: Context) -> None:
    blur, sharp = ctx.options.blur, ctx.options.sharp
    if not blur and not sharp:
        return

    def work(frame: Any) -> Any:
        if sharp:
            frame = frame.sharpen(sigma=1.0, m2=sharp / SHARP_PER_SLOPE)
        if blur:
            frame = _blurred(frame, blur / BLUR_PER_SIGMA)
        return frame

    ctx.image = each_frame(ctx.pixels(), ctx.pages, work)


def _blurred(frame: Any, sigma: float) -> Any:
    interpretation = frame.interpretation
    alpha = frame.hasalpha()
    work = frame.premultiply() if alpha else frame
    if sigma <= _DIRECT_SIGMA:
        work = work.gaussblur(sigma)
    else:
        factor = sigma / _DIRECT_SIGMA
        small = work.resize(1 / factor)
        blurred = small.gaussblur(sigma / factor)
        work = blurred.resize(frame.width / blurred.width, vscale=frame.height / blurred.height)
        if (work.width, work.height) != (frame.width, frame.height):
            work = work.gravity("centre", frame.width, frame.height, extend="copy")  # resize rounding: a pixel at most
    if alpha:
        work = work.unpremultiply()
    return (work + 0.5).cast("uchar").copy(interpretation=interpretation) if work.format != "uchar" else work
