"""A run's time limit: checked between the steps, and inside libvips' own loops through its progress signal.

libvips computes lazily: the steps mostly describe a pipeline, and pixels are computed by the few operations
that need them (the encode, and a trim or a smart crop before it). Python cannot interrupt a running libvips
operation, but libvips emits an image's ``eval`` signal after every work unit (a tile or a strip of rows) of
any computation downstream of that image, and stops the computation with an error once a handler sets the
image's ``kill`` flag. ``Deadline.watch`` connects such a handler to the loaded image, which every later image
of the run inherits, so a decode, resize, composite or encode that runs past the deadline stops within one
work unit, and the thread is free again.

What libvips does not split into work units cannot be stopped: an AV1 or lossless WebP encode of the computed
pixels, the palette of one GIF frame (those are bounded by the encoders' size caps, ``steps/output_caps.py``,
which is why both exist), a progressive JPEG's scans before its first row, and the window of a smart crop,
which ``thumbnail_buffer`` finds before it returns an image to watch (bounded by the pixel budget). The
gateway's pool therefore also stops waiting shortly after the deadline. The plain path pays one clock read
per step and one handler call per work unit (a 400 px JPEG has a handful).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from transforms.errors import RenderTimedOut

Clock = Callable[[], float]


class Deadline:
    """``at``: the ``clock`` reading (``time.monotonic`` by default) after which the run stops; None: never."""

    __slots__ = ("_clock", "_watched", "at")

    def __init__(self, at: float | None = None, clock: Clock = time.monotonic) -> None:
        self.at = at
        self._clock = clock
        # The Python wrappers that hold the signal handlers: pyvips keeps a handler alive only as long as the
        # wrapper it was connected through, and later steps replace ``ctx.image`` with downstream images.
        self._watched: list[Any] = []

    @property
    def passed(self) -> bool:
        return self.at is not None and self._clock() >= self.at

    def check(self) -> None:
        """Raise ``RenderTimedOut`` once the deadline has passed."""
        if self.passed:
            raise RenderTimedOut()

    def watch(self, image: Any) -> None:
        """Stop every computation downstream of ``image`` (a pyvips image) once the deadline has passed."""
        if self.at is None:
            return
        image.set_progress(True)
        image.signal_connect("eval", self._on_eval)
        self._watched.append(image)

    def release(self) -> None:
        """At the end of the run: let the watched images go. Each holds its handler, which holds this deadline, which
        holds the image: a reference cycle that only the cyclic collector frees, and until it does the image keeps
        its decoder (a progressive 5120 px JPEG's is ~90 MB)."""
        self._watched.clear()

    def _on_eval(self, image: Any, progress: Any) -> None:
        if self.passed:
            image.set_kill(True)
