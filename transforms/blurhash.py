"""BlurHash placeholders (blurha.sh): ``fm=blurhash`` answers one for the output, ``fm=json`` one for the source.

Encoded by the ``blurhash`` package (pure Python) on a thumbnail of at most ``SIDE`` pixels a side: a
BlurHash holds a few cosine components, so more pixels would change nothing visible and cost time
(the encode is about 30 ms at 32×32). The components follow the aspect ratio, as the format's authors
recommend: 4 along the longer side, at least 3 along the shorter.
"""

from __future__ import annotations

from typing import Any

import blurhash

SIDE = 32
_MAX_COMPONENTS = 4
_MIN_COMPONENTS = 3


def components(width: int, height: int) -> tuple[int, int]:
    """(x, y) component counts for an image of this shape."""
    if width >= height:
        return _MAX_COMPONENTS, max(_MIN_COMPONENTS, min(_MAX_COMPONENTS, round(_MAX_COMPONENTS * height / width)))
    return max(_MIN_COMPONENTS, min(_MAX_COMPONENTS, round(_MAX_COMPONENTS * width / height))), _MAX_COMPONENTS


def encode_rgb(width: int, height: int, rgb: bytes, bands: int = 3) -> str:
    """The BlurHash of ``width`` x ``height`` 8-bit pixels with ``bands`` bands (the first three are used)."""
    rows = [[rgb[(y * width + x) * bands : (y * width + x) * bands + 3] for x in range(width)] for y in range(height)]
    x_components, y_components = components(width, height)
    text: str = blurhash.encode(rows, x_components, y_components)
    return text


def encode_image(image: Any) -> str:
    """The BlurHash of an 8-bit sRGB pyvips image (alpha is ignored: a BlurHash has none)."""
    scale = min(1.0, SIDE / max(image.width, image.height))
    small = image.resize(scale) if scale < 1 else image
    if small.bands < 3:
        small = small.colourspace("srgb")
    small = small.extract_band(0, n=3).cast("uchar")
    return encode_rgb(small.width, small.height, bytes(small.write_to_memory()))
