"""``fm=json``: what the source is, as JSON, for front ends laying out a page before the image arrives.

Decision (as imgix): info describes the source as stored, so every other parameter is validated
and then ignored (``TransformOptions.normalised`` folds them, so they share one cache entry). The
header is read with the same checks as any render (sniffing, pixel budget), and the only pixels
decoded are a ≤100 px thumbnail (shrink-on-load), upright and in sRGB, for the dominant colour and
the ThumbHash placeholder.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from typing import Any

import pyvips

from transforms.blurhash import encode_image
from transforms.errors import UnsupportedImage
from transforms.faces import faces_in_source
from transforms.options import TransformOptions
from transforms.steps.context import Context, PixelBudget, SourceInfo
from transforms.steps.header import read_header
from transforms.thumbhash import MAX_SIDE, encode
from transforms.vips import FAIL_ON

# Every field, in answer order, with what it means (docs/parameters.md is generated from this).
FIELDS = {
    "width": "width in pixels as stored (one frame of an animation)",
    "height": "height in pixels as stored (one frame of an animation)",
    "format": "the source format: jpeg, png, webp, gif, avif, heif, tiff or svg",
    "bytes": "size of the original in bytes",
    "has_alpha": "whether the source has an alpha channel",
    "frames": "frames (pages) in the file; 1 for a still image",
    "orientation": "EXIF orientation, 1-8 (1 when absent)",
    "upright_width": "width once the orientation is applied: what w and ratios refer to",
    "upright_height": "height once the orientation is applied",
    "dominant_color": "the most common colour, #rrggbb (null when every pixel is transparent)",
    "thumbhash": "ThumbHash placeholder, standard base64; decode with any ThumbHash library",
    "blurhash": "BlurHash placeholder (4 components along the longer side); decode with any BlurHash library",
}
# Only with faces=1: the faces found, largest first, each {x, y, width, height} in upright pixels.
FACES_FIELD = "faces"
_DOMINANT_BITS = 4  # colours are counted in 16 levels per channel, then the winning bucket is averaged


def describe(original: bytes, budget: PixelBudget, faces: bool = False) -> tuple[bytes, int, int]:
    """(JSON bytes, stored width, stored height) of ``original``; with ``faces``, the faces' boxes too."""
    ctx = Context(original=original, options=TransformOptions(), chosen=None, budget=budget)
    read_header(ctx)
    source = ctx.header()
    try:
        width, height, rgba = _thumbnail(original, source)
    except pyvips.Error as exc:
        raise UnsupportedImage("the image could not be decoded") from exc
    upright_width, upright_height = source.upright_size
    values: dict[str, Any] = {
        "width": source.width,
        "height": source.height,
        "format": str(source.format),
        "bytes": len(original),
        "has_alpha": source.has_alpha,
        "frames": source.frames,
        "orientation": source.orientation,
        "upright_width": upright_width,
        "upright_height": upright_height,
        "dominant_color": dominant_colour(rgba),
        "thumbhash": base64.b64encode(encode(width, height, rgba)).decode("ascii"),
        "blurhash": encode_image(pyvips.Image.new_from_memory(rgba, width, height, 4, "uchar")),
    }
    if faces:
        options = {"option_string": f"fail_on={FAIL_ON}"}
        if source.foreign_profile:
            options["output_profile"] = "srgb"
        try:
            found = faces_in_source(original, upright_width, options)
        except pyvips.Error as exc:
            raise UnsupportedImage("the image could not be decoded") from exc
        values[FACES_FIELD] = [box.as_dict() for box in found]
    return json.dumps(values, separators=(",", ":")).encode(), source.width, source.height


def _thumbnail(original: bytes, source: SourceInfo) -> tuple[int, int, bytes]:
    """The upright first frame, at most 100 px a side, as 8-bit sRGB + alpha bytes."""
    colour = {"output_profile": "srgb"} if source.foreign_profile else {}
    image = pyvips.Image.thumbnail_buffer(
        original, MAX_SIDE, height=MAX_SIDE, option_string=f"fail_on={FAIL_ON}", **colour
    )
    if image.interpretation != "srgb" or image.format != "uchar":
        image = image.colourspace("srgb")
    if not image.hasalpha():
        image = image.addalpha()
    image = image.extract_band(0, n=4)
    return image.width, image.height, bytes(image.write_to_memory())


def dominant_colour(rgba: bytes) -> str | None:
    """The average of the most populated colour bucket among the (mostly) opaque pixels, as #rrggbb."""
    shift = 8 - _DOMINANT_BITS
    buckets: Counter[tuple[int, int, int]] = Counter()
    sums: dict[tuple[int, int, int], list[int]] = {}
    for i in range(0, len(rgba), 4):
        if rgba[i + 3] < 128:
            continue
        red, green, blue = rgba[i], rgba[i + 1], rgba[i + 2]
        key = (red >> shift, green >> shift, blue >> shift)
        buckets[key] += 1
        total = sums.setdefault(key, [0, 0, 0])
        total[0] += red
        total[1] += green
        total[2] += blue
    if not buckets:
        return None
    # Ties go to the lowest bucket, so the answer never depends on pixel order.
    winner = max(buckets, key=lambda key: (buckets[key], tuple(-part for part in key)))
    count = buckets[winner]
    red, green, blue = (round(part / count) for part in sums[winner])
    return f"#{red:02x}{green:02x}{blue:02x}"
