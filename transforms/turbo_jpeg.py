"""JPEG sources decoded by libjpeg-turbo directly (simplejpeg), at the DCT scale the load step chose.

Why: libvips' jpegload (pyvips-binary's mozjpeg, a fork of libjpeg-turbo) gives the same pixels to the bit
(the accurate integer IDCT and fancy upsampling on both sides; tests/transforms/test_turbo_jpeg.py compares
whole outputs), but measured on the corpus photos (2560x1600 decoded at 1/4, one thread, CPU time, medians of
15, interleaved) it takes 1.3-1.9x as long for the baseline photos (eveningglow 8.9 ms against 6.5, kite 11.3
against 8.0, grey 5.6 against 3.0); the progressive ones cost about the same either way (their entropy decoding
is the work). The pixels are handed to libvips, which resizes, turns, converts colour and encodes them as
before, so an output is the same bytes whichever decoder ran.

Only what it decodes exactly as jpegload would takes this way: a YCbCr or greyscale JPEG (CMYK, YCCK and
Adobe RGB stay with libvips, which converts them), decoded scaled (1/2, 1/4, 1/8: a full-size decode streams
through libvips in a few rows of memory, this one holds the whole image, so it is bounded by
``MAX_DECODED_BYTES`` as well), to the size libjpeg's ``shrink`` gives. Any complaint of the decoder, even
a warning libvips lets through (extraneous bytes before a marker), hands the source back to libvips, which
then decodes or refuses it as it always did. The decode itself cannot be stopped by the run's deadline (it
is one call, 3-40 ms on a 4 MP photo); everything after it can.

Not the encoder: simplejpeg's JPEG of the same pixels at the same quality and subsampling scored lower
(SSIM 0.0003-0.0008 under libvips' jpegsave) and had no optimised Huffman tables (2-13% larger), for 1.1 ms
saved per 400 px encode.
"""

from __future__ import annotations

import threading
from typing import Any

import pyvips
import simplejpeg

# The largest decode taken this way (the whole image is in memory at once, where libvips streams): a 33 MP
# RGB source at 1/2.
MAX_DECODED_BYTES = 24 * 1024 * 1024
# Colour spaces simplejpeg decodes as jpegload does: YCbCr -> sRGB, grey -> one band.
_BANDS = {"YCbCr": 3, "Gray": 1}


class _Configured:
    """Set once at start-up, like ``scale_on_load.configure``; off decodes every JPEG with libvips."""

    enabled = True


def configure(enabled: bool) -> None:
    _Configured.enabled = enabled


def configured() -> bool:
    return _Configured.enabled


class _Counter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def add(self) -> None:
        with self._lock:
            self._count += 1

    @property
    def count(self) -> int:
        with self._lock:
            return self._count


_decoded = _Counter()


def decodes() -> int:
    """How many sources this process decoded this way (a test sees the fast path still taken)."""
    return _decoded.count


def decode(data: bytes, width: int, height: int, shrink: int) -> Any:
    """``data`` (a ``width`` x ``height`` JPEG) decoded at 1/``shrink`` as a libvips image, or None: use libvips.

    Pixels only: the caller carries over what of the header it needs (orientation, profile, resolution).
    """
    if not _Configured.enabled or shrink not in (2, 4, 8):
        return None
    # libjpeg rounds a scaled side up; asking for at least that picks exactly 1/shrink among its n/8 scales.
    want_width, want_height = -(-width // shrink), -(-height // shrink)
    try:
        scaled_height, scaled_width, colourspace, _ = simplejpeg.decode_jpeg_header(
            data, min_height=want_height, min_width=want_width
        )
        bands = _BANDS.get(colourspace)
        if bands is None or (scaled_width, scaled_height) != (want_width, want_height):
            return None
        if scaled_width * scaled_height * bands > MAX_DECODED_BYTES:
            return None
        pixels = simplejpeg.decode_jpeg(
            data, colorspace="GRAY" if bands == 1 else "RGB", min_height=want_height, min_width=want_width
        )
    except ValueError:  # simplejpeg's one error, for anything libjpeg-turbo said (warnings included)
        return None
    if pixels.shape[:2] != (want_height, want_width):
        return None
    # The image keeps a reference to the array, so its memory lives as long as the image does.
    image = pyvips.Image.new_from_memory(pixels.data, want_width, want_height, bands, "uchar")
    _decoded.add()
    return image.copy(interpretation="b-w" if bands == 1 else "srgb")
