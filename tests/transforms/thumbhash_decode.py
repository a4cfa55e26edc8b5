"""A ThumbHash decoder for tests, written from the format's published description (as a front end decodes).

Independent of ``transforms.thumbhash`` on purpose: the tests decode what the encoder wrote and
compare the picture with the source, rather than comparing the encoder with itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Header:
    l_dc: float
    p_dc: float
    q_dc: float
    l_scale: float
    p_scale: float
    q_scale: float
    has_alpha: bool
    landscape: bool
    lx: int
    ly: int


def header(hash_: bytes) -> Header:
    h24 = hash_[0] | hash_[1] << 8 | hash_[2] << 16
    h16 = hash_[3] | hash_[4] << 8
    has_alpha = bool(h24 >> 23)
    landscape = bool(h16 >> 15)
    long_side = 5 if has_alpha else 7
    short_side = h16 & 7
    return Header(
        l_dc=(h24 & 63) / 63,
        p_dc=((h24 >> 6) & 63) / 31.5 - 1,
        q_dc=((h24 >> 12) & 63) / 31.5 - 1,
        l_scale=((h24 >> 18) & 31) / 31,
        p_scale=((h16 >> 3) & 63) / 63,
        q_scale=((h16 >> 9) & 63) / 63,
        has_alpha=has_alpha,
        landscape=landscape,
        lx=long_side if landscape else short_side,
        ly=short_side if landscape else long_side,
    )


def aspect_ratio(hash_: bytes) -> float:
    """The approximate width/height the hash records."""
    head = header(hash_)
    return head.lx / head.ly


def average_rgb(hash_: bytes) -> tuple[float, float, float]:
    """The DC terms as 0-255 RGB: the picture's average colour."""
    head = header(hash_)
    return _rgb(head.l_dc, head.p_dc, head.q_dc)


def decode(hash_: bytes) -> tuple[int, int, list[tuple[float, float, float, float]]]:
    """(width, height, RGBA pixels 0-255) of the placeholder, at most 32 px a side."""
    head = header(hash_)
    start = 6 if head.has_alpha else 5
    nibbles = [(byte >> shift) & 15 for byte in hash_[start:] for shift in (0, 4)]
    cursor = iter(nibbles)

    def terms(nx: int, ny: int, scale: float) -> list[tuple[int, int, float]]:
        out = []
        for cy in range(ny):
            for cx in range(0 if cy else 1, nx):
                if cx * ny < nx * (ny - cy):
                    out.append((cx, cy, (next(cursor) / 7.5 - 1) * scale))
        return out

    lx, ly = max(3, head.lx), max(3, head.ly)
    l_terms = terms(lx, ly, head.l_scale)
    p_terms = terms(3, 3, head.p_scale * 1.25)  # the format's saturation boost on decode
    q_terms = terms(3, 3, head.q_scale * 1.25)
    a_dc, a_terms = 1.0, []
    if head.has_alpha:
        a_dc = (hash_[5] & 15) / 15
        a_terms = terms(5, 5, (hash_[5] >> 4) / 15)
    ratio = aspect_ratio(hash_)
    width = round(32 if ratio > 1 else 32 * ratio)
    height = round(32 / ratio if ratio > 1 else 32)
    pixels = []
    for y in range(height):
        for x in range(width):

            def value(dc: float, items: list[tuple[int, int, float]], x: int = x, y: int = y) -> float:
                total = dc
                for cx, cy, factor in items:
                    total += (
                        factor
                        * math.cos(math.pi / width * (x + 0.5) * cx)
                        * math.cos(math.pi / height * (y + 0.5) * cy)
                        * 2
                    )
                return total

            red, green, blue = _rgb(value(head.l_dc, l_terms), value(head.p_dc, p_terms), value(head.q_dc, q_terms))
            alpha = max(0.0, min(1.0, value(a_dc, a_terms))) * 255
            pixels.append((red, green, blue, alpha))
    return width, height, pixels


def _rgb(lum: float, p: float, q: float) -> tuple[float, float, float]:
    blue = lum - 2 / 3 * p
    red = (3 * lum - blue + q) / 2
    green = red - q
    return tuple(max(0.0, min(1.0, channel)) * 255 for channel in (red, green, blue))  # type: ignore[return-value]
