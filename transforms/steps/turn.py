"""Step 11: orient (or) and flip, the last geometric step, and how the earlier ones read the options because of it.

The URL describes the output as it will be seen: ``w=300&or=90`` is 300 wide after turning, and
``crop=top``, ``fp-x`` and ``pad-left`` name the turned output's top, x axis and left side. Turning
last is cheapest (the image is small by then, and libvips' one-pass thumbnail still does the resize),
so the layout reads ``source_options``: the same request in the source's orientation. A turn is a 2×2
matrix on (right, down) vectors; it is orthogonal, so its inverse is its transpose.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from transforms.options import Aspect, Crop, Flip, Sides, TransformOptions
from transforms.steps.context import Context
from transforms.steps.frames import each_frame

Matrix = tuple[tuple[int, int], tuple[int, int]]
Vector = tuple[float, float]

_IDENTITY: Matrix = ((1, 0), (0, 1))
_CLOCKWISE: Matrix = ((0, -1), (1, 0))  # (x, y) -> (-y, x): the top edge ends on the right
_FLIPS: dict[Flip, Matrix] = {
    Flip.H: ((-1, 0), (0, 1)),
    Flip.V: ((1, 0), (0, -1)),
    Flip.HV: ((-1, 0), (0, -1)),
}
_EDGES: dict[Crop, tuple[int, int]] = {
    Crop.TOP: (0, -1),
    Crop.BOTTOM: (0, 1),
    Crop.LEFT: (-1, 0),
    Crop.RIGHT: (1, 0),
}
_LIBVIPS_ANGLES = {90: "d90", 180: "d180", 270: "d270"}  # libvips turns clockwise
_LIBVIPS_FLIPS = {Flip.H: ("horizontal",), Flip.V: ("vertical",), Flip.HV: ("horizontal", "vertical")}


def turn(ctx: Context) -> None:
    orient, flip = ctx.options.orient, ctx.options.flip
    if orient is None and flip is None:
        return

    def work(frame: Any) -> Any:
        if orient is not None:
            frame = frame.rot(_LIBVIPS_ANGLES[orient])
        for direction in _LIBVIPS_FLIPS[flip] if flip is not None else ():
            frame = frame.flip(direction)
        return frame

    ctx.image = each_frame(ctx.pixels(), ctx.pages, work)


def swaps_sides(options: TransformOptions) -> bool:
    return options.orient in (90, 270)


def source_options(options: TransformOptions) -> TransformOptions:
    """``options`` as they read before the turn: sides swapped, edges, focal point and padding mapped."""
    if options.orient is None and options.flip is None:
        return options
    matrix = _matrix(options)

    def back(vector: Vector) -> Vector:
        (a, b), (c, d) = matrix
        x, y = vector
        return a * x + c * y, b * x + d * y  # the transpose: turned output -> source

    edge_at = {vector: edge for edge, vector in _EDGES.items()}

    def source_edge(edge: Crop) -> Crop:
        x, y = back(_EDGES[edge])
        return edge_at[(round(x), round(y))]

    crop = frozenset(source_edge(item) if item in _EDGES else item for item in options.crop)
    padding = {source_edge(edge): value for edge, value in _by_edge(options.sides()).items()}
    fp_x, fp_y = options.fp_x, options.fp_y
    if fp_x is not None or fp_y is not None:
        x, y = back(((fp_x if fp_x is not None else 0.5) - 0.5, (fp_y if fp_y is not None else 0.5) - 0.5))
        fp_x, fp_y = x + 0.5, y + 0.5
    swap = swaps_sides(options)
    return replace(
        options,
        w=options.h if swap else options.w,
        h=options.w if swap else options.h,
        ar=Aspect(options.ar.height, options.ar.width) if swap and options.ar is not None else options.ar,
        crop=crop,
        fp_x=fp_x,
        fp_y=fp_y,
        pad=None,
        pad_top=padding[Crop.TOP] or None,
        pad_right=padding[Crop.RIGHT] or None,
        pad_bottom=padding[Crop.BOTTOM] or None,
        pad_left=padding[Crop.LEFT] or None,
    )


def _by_edge(sides: Sides) -> dict[Crop, int]:
    return {Crop.TOP: sides.top, Crop.RIGHT: sides.right, Crop.BOTTOM: sides.bottom, Crop.LEFT: sides.left}


def _matrix(options: TransformOptions) -> Matrix:
    """The turn as one matrix: first orient (clockwise quarter turns), then flip."""
    matrix = _IDENTITY
    for _ in range((options.orient or 0) // 90):
        matrix = _times(_CLOCKWISE, matrix)
    if options.flip is not None:
        matrix = _times(_FLIPS[options.flip], matrix)
    return matrix


def _times(left: Matrix, right: Matrix) -> Matrix:
    (a, b), (c, d) = left
    (e, f), (g, h) = right
    return ((a * e + b * g, a * f + b * h), (c * e + d * g, c * f + d * h))
