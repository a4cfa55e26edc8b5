"""Synthetic test images, made with pyvips (and zlib for the bomb) inside the test run."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import pyvips

RED = (220, 30, 30)
WHITE = (255, 255, 255)


def solid(width: int, height: int, colour: tuple[int, ...] = WHITE) -> Any:
    interpretation = "srgb" if len(colour) >= 3 else "b-w"
    return (pyvips.Image.black(width, height) + list(colour)).cast("uchar").copy(interpretation=interpretation)


def noisy(width: int, height: int) -> Any:
    grey = pyvips.Image.gaussnoise(width, height, sigma=40, mean=128).cast("uchar")
    return grey.bandjoin([grey.flip("horizontal"), grey.flip("vertical")]).copy(interpretation="srgb")


def block_on_left(width: int = 300, height: int = 100, block: int = 50) -> Any:
    """White, with a red block ``block`` pixels wide down the left edge."""
    return solid(width, height).draw_rect(list(RED), 0, 0, block, height, fill=True)


def block_on_top(width: int = 100, height: int = 300, block: int = 50) -> Any:
    return solid(width, height).draw_rect(list(RED), 0, 0, width, block, fill=True)


SVG_NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def svg(width: int, height: int, body: str = "") -> bytes:
    return f'<svg {SVG_NS} width="{width}" height="{height}">{body}</svg>'.encode()


def png(image: Any) -> bytes:
    data: bytes = image.pngsave_buffer()
    return data


def jpeg(image: Any, **options: Any) -> bytes:
    data: bytes = image.jpegsave_buffer(Q=95, **options)
    return data


def oriented_jpeg(image: Any, orientation: int) -> bytes:
    """``image`` stored as is, with an EXIF orientation tag asking viewers to rotate it."""
    tagged = image.copy()
    tagged.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return jpeg(tagged)


def cmyk_jpeg(image: Any, embed_profile: bool) -> bytes:
    cmyk = image.icc_transform("cmyk", input_profile="srgb")
    # keep=0 drops the profile icc_transform attached; libvips then assumes its default CMYK profile.
    return jpeg(cmyk) if embed_profile else jpeg(cmyk, keep=0)


def p3_jpeg(image: Any) -> bytes:
    """The same colours re-encoded in Display P3, with the P3 profile embedded."""
    return jpeg(image.icc_transform("p3", input_profile="srgb"))


def mean_rgb(image: Any, left: int, top: int, width: int, height: int) -> tuple[float, ...]:
    region = image.crop(left, top, width, height)
    return tuple(region.extract_band(band).avg() for band in range(min(3, region.bands)))


def close(actual: tuple[float, ...], expected: tuple[float, ...], tolerance: float) -> bool:
    return len(actual) == len(expected) and all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def png_bomb(side: int = 50_000) -> bytes:
    """A valid 1-bit greyscale PNG of side x side zeros, about 300 kB: 2.5 gigapixels once decoded.

    Built in ~0.1 s without compressing 300 MB: after a full flush zlib forgets its history, so one
    compressed block of rows can be repeated; only the Adler-32 trailer needs the real data.
    """
    row = bytes(1 + (side + 7) // 8)  # filter byte "none", then packed 1-bit pixels
    rows_per_block = 1000
    block = row * rows_per_block
    compressor = zlib.compressobj(9)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    blocks, rest = divmod(side, rows_per_block)
    body = first + repeated * (blocks - 1) + compressor.compress(row * rest) + compressor.flush()
    adler = 1
    for _ in range(blocks):
        adler = zlib.adler32(block, adler)
    adler = zlib.adler32(row * rest, adler)
    body = body[:-4] + struct.pack(">I", adler)
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


# --- images with known features -------------------------------------------------------------------------

GREEN = (30, 200, 60)
BLUE = (40, 60, 220)
YELLOW = (240, 220, 40)


def quadrants(width: int = 200, height: int = 100) -> Any:
    """Red top-left, green top-right, blue bottom-left, yellow bottom-right: every turn and mirror differs."""
    half_w, half_h = width // 2, height // 2
    image = solid(width, height, RED)
    image = image.draw_rect(list(GREEN), half_w, 0, width - half_w, half_h, fill=True)
    image = image.draw_rect(list(BLUE), 0, half_h, half_w, height - half_h, fill=True)
    return image.draw_rect(list(YELLOW), half_w, half_h, width - half_w, height - half_h, fill=True)


def corners(image: Any, inset: int = 4) -> tuple[tuple[float, ...], ...]:
    """Mean colours near the top-left, top-right, bottom-left and bottom-right corners."""
    size = max(1, min(image.width, image.height) // 6)
    right, bottom = image.width - inset - size, image.height - inset - size
    return tuple(
        mean_rgb(image, left, top, size, size)
        for left, top in ((inset, inset), (right, inset), (inset, bottom), (right, bottom))
    )


def dot(width: int, height: int, x: int, y: int, radius: int = 6, colour: tuple[int, ...] = RED) -> Any:
    """White, with one filled circle of ``colour`` centred at (x, y)."""
    return solid(width, height).draw_circle(list(colour), x, y, radius, fill=True)


def framed(width: int, height: int, border: int, inner: tuple[int, ...] = RED, outer: tuple[int, ...] = WHITE) -> Any:
    """``inner`` colour inside a uniform ``border`` of ``outer``."""
    return solid(width, height, outer).draw_rect(
        list(inner), border, border, width - 2 * border, height - 2 * border, fill=True
    )


def frame_colour(index: int) -> tuple[int, int, int]:
    return (index * 25 % 256, 255 - index * 25 % 256, 128)


def animation(frames: int = 10, width: int = 120, height: int = 80, delay: int = 70, loop: int = 3) -> Any:
    """A roll of ``frames`` solid frames, frame i coloured ``frame_colour(i)``, with a white bar on its left."""
    pages = [
        solid(width, height, frame_colour(i)).draw_rect([255, 255, 255], 0, 0, width // 6, height, fill=True)
        for i in range(frames)
    ]
    roll = pyvips.Image.arrayjoin(pages, across=1).copy()
    roll.set_type(pyvips.GValue.gint_type, "page-height", height)
    roll.set_type(pyvips.GValue.array_int_type, "delay", [delay] * frames)
    roll.set_type(pyvips.GValue.gint_type, "loop", loop)
    return roll


def gif(image: Any) -> bytes:
    data: bytes = image.gifsave_buffer()
    return data


def webp(image: Any, **options: Any) -> bytes:
    data: bytes = image.webpsave_buffer(**options)
    return data


def frames_of(data: bytes) -> list[Any]:
    """Every frame of an encoded image, decoded independently of the code under test."""
    first = pyvips.Image.new_from_buffer(data, "")
    pages = first.get("n-pages") if first.get_typeof("n-pages") else 1
    roll = pyvips.Image.new_from_buffer(data, "", n=-1) if pages > 1 else first
    height = roll.height // pages
    return [roll.crop(0, i * height, roll.width, height).copy_memory() for i in range(pages)]


def stddev(image: Any) -> float:
    return float(image.colourspace("b-w").extract_band(0).deviate())
