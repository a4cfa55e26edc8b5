"""ThumbHash: a ~25-byte placeholder that a front end decodes into a blurry preview before the image loads.

An encoder written from Evan Wallace's published description of the format (evanw.github.io/thumbhash):
the image, composited over its own average colour, is turned into luminance (L), two colour
differences (P: yellow-blue, Q: red-green) and alpha (A); each channel keeps a few low-frequency DCT
terms, which are normalised by their largest magnitude and stored in 4 bits each behind a small
header. Frequencies form a triangle (cx·ny < nx·(ny - cy)), L gets up to 7 along the long side
(5 with alpha), P and Q 3, A 5. Front ends decode it with the format's reference decoders.

Pure Python on purpose (no numpy in the image): the image is at most 100×100, and the DCT is done
in two passes (rows, then columns), so one hash is a few tens of milliseconds at worst.
"""

from __future__ import annotations

import math

MAX_SIDE = 100


def encode(width: int, height: int, rgba: bytes) -> bytes:
    """The ThumbHash of ``width`` x ``height`` 8-bit RGBA pixels (not premultiplied), row by row."""
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValueError(f"{width}x{height} does not fit in {MAX_SIDE}x{MAX_SIDE}")
    count = width * height
    if len(rgba) != count * 4:
        raise ValueError("rgba must hold 4 bytes per pixel")
    alphas = [rgba[i + 3] / 255 for i in range(0, count * 4, 4)]
    total_alpha = sum(alphas)
    average = [0.0, 0.0, 0.0]
    if total_alpha:
        for band in range(3):
            weighted = sum(alpha * rgba[i * 4 + band] for i, alpha in enumerate(alphas))
            average[band] = weighted / 255 / total_alpha
    has_alpha = total_alpha < count
    luminance_limit = 5 if has_alpha else 7  # fewer luminance terms leave room for alpha's
    longest = max(width, height)
    lx = max(1, _round(luminance_limit * width / longest))
    ly = max(1, _round(luminance_limit * height / longest))

    l_values, p_values, q_values = [], [], []
    for i, alpha in enumerate(alphas):
        # Composited over the average colour, so that clear pixels do not drag the colours to black.
        r, g, b = (average[band] * (1 - alpha) + alpha / 255 * rgba[i * 4 + band] for band in range(3))
        l_values.append((r + g + b) / 3)
        p_values.append((r + g) / 2 - b)
        q_values.append(r - g)

    l_dc, l_ac, l_scale = _channel(l_values, max(3, lx), max(3, ly), width, height)
    p_dc, p_ac, p_scale = _channel(p_values, 3, 3, width, height)
    q_dc, q_ac, q_scale = _channel(q_values, 3, 3, width, height)

    landscape = width > height
    header24 = (
        _round(63 * l_dc)
        | _round(31.5 + 31.5 * p_dc) << 6
        | _round(31.5 + 31.5 * q_dc) << 12
        | _round(31 * l_scale) << 18
        | int(has_alpha) << 23
    )
    header16 = (ly if landscape else lx) | _round(63 * p_scale) << 3 | _round(63 * q_scale) << 9 | int(landscape) << 15
    out = bytearray([header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255, header16 >> 8])
    factors = [l_ac, p_ac, q_ac]
    if has_alpha:
        a_dc, a_ac, a_scale = _channel(alphas, 5, 5, width, height)
        out.append(_round(15 * a_dc) | _round(15 * a_scale) << 4)
        factors.append(a_ac)
    nibbles = [_round(15 * factor) for channel in factors for factor in channel]
    for index in range(0, len(nibbles), 2):
        high = nibbles[index + 1] if index + 1 < len(nibbles) else 0
        out.append(nibbles[index] | high << 4)  # the first of each pair in the low nibble
    return bytes(out)


def _channel(values: list[float], nx: int, ny: int, width: int, height: int) -> tuple[float, list[float], float]:
    """(DC term, AC terms mapped to 0..1, the AC terms' largest magnitude) of one channel."""
    columns = [[math.cos(math.pi / width * cx * (x + 0.5)) for x in range(width)] for cx in range(nx)]
    rows = [values[y * width : (y + 1) * width] for y in range(height)]
    # First pass: each row against each horizontal frequency.
    row_terms = [[sum(v * c for v, c in zip(row, column, strict=True)) for row in rows] for column in columns]
    dc, ac, scale = 0.0, [], 0.0
    for cy in range(ny):
        weights = [math.cos(math.pi / height * cy * (y + 0.5)) for y in range(height)]
        cx = 0
        while cx * ny < nx * (ny - cy):
            term = sum(t * w for t, w in zip(row_terms[cx], weights, strict=True)) / (width * height)
            if cx or cy:
                ac.append(term)
                scale = max(scale, abs(term))
            else:
                dc = term
            cx += 1
    if scale:
        ac = [0.5 + 0.5 / scale * term for term in ac]
    return dc, ac, scale


def _round(value: float) -> int:
    """Half up, as the format's reference implementation rounds (Python's round() is half-to-even)."""
    return math.floor(value + 0.5)
