"""Antialiased coverage masks (one 8-bit band, 255 inside) for the mask and border steps, drawn by librsvg.

libvips' bundled librsvg renders a one-element SVG of the frame's size: exact antialiasing for an ellipse
and for rounded rectangles with a radius per corner, in one cheap pass, with no pixel loop in Python.
"""

from __future__ import annotations

from typing import Any

import pyvips

from transforms.options import Corners


def ellipse(width: int, height: int) -> Any:
    return _render(
        width, height, f'<ellipse cx="{width / 2}" cy="{height / 2}" rx="{width / 2}" ry="{height / 2}" fill="#fff"/>'
    )


def rounded(width: int, height: int, corners: Corners) -> Any:
    """A ``width`` x ``height`` rectangle with rounded corners, each radius capped at half the shorter side."""
    cap = min(width, height) / 2
    tl, tr, br, bl = (
        min(radius, cap) for radius in (corners.top_left, corners.top_right, corners.bottom_right, corners.bottom_left)
    )
    path = (
        f"M{tl},0 H{width - tr} A{tr},{tr} 0 0 1 {width},{tr} V{height - br} "
        f"A{br},{br} 0 0 1 {width - br},{height} H{bl} A{bl},{bl} 0 0 1 0,{height - bl} "
        f"V{tl} A{tl},{tl} 0 0 1 {tl},0 Z"
    )
    return _render(width, height, f'<path d="{path}" fill="#fff"/>')


def _render(width: int, height: int, shape: str) -> Any:
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">{shape}</svg>'
    image = pyvips.Image.svgload_buffer(svg.encode())
    if (image.width, image.height) != (width, height):  # librsvg rounds a fractional size: pad or cut to it
        image = image.gravity("north-west", width, height, extend="black")
    return image.extract_band(3)  # the alpha band is the coverage
