"""``palette=json``: the output's dominant colours, for pages that theme themselves on an image.

The shape follows imgix's palette answer, so code reading it carries over: ``colors`` (most common
first, each with ``red``, ``green``, ``blue`` as 0-1 fractions and ``hex``), ``average_luminance``
(0-1, Rec. 709 weights) and ``dominant_colors`` (the most vivid and the most muted colour found, keyed
``vibrant`` and ``muted``, each with ``hex`` and the 0-1 channels).

Colours are counted on a thumbnail of at most ``SIDE`` pixels a side, in buckets of 8 levels per channel,
and each bucket's pixels are averaged; buckets whose colours are closer than ``_MERGE`` (per channel,
0-255) to a more common one are folded into it, so that one colour does not fill the list in shades.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

SIDE = 64
_BITS = 3
_MERGE = 40
_LUMA = (0.2126, 0.7152, 0.0722)


def palette_json(image: Any, count: int) -> bytes:
    """The palette answer for an 8-bit sRGB pyvips image (transparent pixels are left out)."""
    scale = min(1.0, SIDE / max(image.width, image.height))
    small = image.resize(scale) if scale < 1 else image
    if small.bands < 3:
        small = small.colourspace("srgb")
    if not small.hasalpha():
        small = small.addalpha()
    small = small.extract_band(0, n=4).cast("uchar")
    pixels = bytes(small.write_to_memory())
    colours = dominant(pixels, count)
    opaque = [pixels[i : i + 3] for i in range(0, len(pixels), 4) if pixels[i + 3] >= 128]
    luminance = (
        sum(sum(weight * channel for weight, channel in zip(_LUMA, rgb, strict=True)) for rgb in opaque)
        / (255 * len(opaque))
        if opaque
        else 0.0
    )
    answer: dict[str, Any] = {
        "colors": [_entry(colour) for colour in colours],
        "average_luminance": round(luminance, 4),
        "dominant_colors": _extremes(colours),
    }
    return json.dumps(answer, separators=(",", ":")).encode()


def dominant(rgba: bytes, count: int) -> list[tuple[int, int, int]]:
    """Up to ``count`` colours, most common first, from RGBA bytes (pixels under half alpha are skipped)."""
    shift = 8 - _BITS
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
    # Most common first; ties go to the lowest bucket, so the answer never depends on pixel order.
    ranked = sorted(buckets, key=lambda key: (-buckets[key], key))
    chosen: list[tuple[int, int, int]] = []
    for key in ranked:
        number = buckets[key]
        colour = (round(sums[key][0] / number), round(sums[key][1] / number), round(sums[key][2] / number))
        if all(max(abs(a - b) for a, b in zip(colour, kept, strict=True)) >= _MERGE for kept in chosen):
            chosen.append(colour)
        if len(chosen) == count:
            break
    return chosen


def _entry(colour: tuple[int, int, int]) -> dict[str, Any]:
    red, green, blue = colour
    return {
        "red": round(red / 255, 4),
        "green": round(green / 255, 4),
        "blue": round(blue / 255, 4),
        "hex": f"#{red:02x}{green:02x}{blue:02x}",
    }


def _extremes(colours: list[tuple[int, int, int]]) -> dict[str, Any]:
    if not colours:
        return {}

    def saturation(colour: tuple[int, int, int]) -> float:
        return (max(colour) - min(colour)) / 255

    return {"vibrant": _entry(max(colours, key=saturation)), "muted": _entry(min(colours, key=saturation))}
