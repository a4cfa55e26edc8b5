"""Step 17: write the output format once, with every piece of metadata stripped.

Stripping (``keep=none``) drops EXIF (camera serials, GPS), XMP, comments and the ICC profile; the
colour step made the pixels sRGB, which is what browsers assume for an untagged image.

Encoder speed settings, measured on this machine (640 px wide photo, libvips 8.18):
WebP effort 2 takes 8.5 ms and 11.7 kB, against 22.6 ms and 11.2 kB at the default 4; AVIF effort 1
takes 20 ms and 11.4 kB, against 200 ms and 9.8 kB at the default 4; GIF effort 1 quantises about
three times faster than the default 7. Results are cached for a year, but a miss is paid while a
visitor waits, so speed wins over the last few percent of bytes.

Quality: ``QUALITY`` per lossy format unless the URL gives `q`; with `auto=compress` the defaults
are ``COMPRESSED_QUALITY`` instead, and PNG rows are filtered adaptively (libvips' filter "all"):
measured here on photos and an RGBA wallpaper at 640 px, 30-45% smaller for about 3× the encode time;
deflate level 9 on top of it saves 5-10% more for 6-10× the time, so it is not used. `lossless`
writes WebP and AVIF losslessly (PNG and GIF always are; JPEG cannot be and ignores it).

Animations (a roll with ``page-height``) are written animated by the GIF and WebP savers, with
their frame delays and loop count: ``keep=none`` strips metadata, not timing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from transforms.options import Auto, Format, TransformOptions
from transforms.steps.context import Context

# Default q per lossy format; a URL's q overrides. AVIF's scale is harsher: 60 there looks like
# 80 in JPEG at a smaller size.
QUALITY = {Format.JPG: 80, Format.PJPG: 80, Format.WEBP: 80, Format.AVIF: 60}
# With auto=compress. Measured on three corpus photos at 640 px: 7-38% smaller (median about 20%).
COMPRESSED_QUALITY = {Format.JPG: 65, Format.PJPG: 65, Format.WEBP: 65, Format.AVIF: 45}
COMPRESSED_PNG_FILTER = "all"  # libvips tries every PNG row filter and keeps the best per row
WEBP_EFFORT = 2
AVIF_EFFORT = 1
GIF_EFFORT = 1
_KEEP_NONE = 0  # VipsForeignKeep.NONE


@dataclass(frozen=True, slots=True)
class Settings:
    quality: int  # 0 for the formats that take none
    lossless: bool
    compress: bool


def settings_for(output: Format, options: TransformOptions) -> Settings:
    compress = Auto.COMPRESS in options.auto
    defaults = COMPRESSED_QUALITY if compress else QUALITY
    return Settings(options.q or defaults.get(output, 0), options.lossless, compress)


def _jpeg(image: Any, settings: Settings) -> bytes:
    data: bytes = image.jpegsave_buffer(Q=settings.quality, optimize_coding=True, keep=_KEEP_NONE)
    return data


def _progressive_jpeg(image: Any, settings: Settings) -> bytes:
    data: bytes = image.jpegsave_buffer(Q=settings.quality, optimize_coding=True, interlace=True, keep=_KEEP_NONE)
    return data


def _png(image: Any, settings: Settings) -> bytes:
    if settings.compress:
        data: bytes = image.pngsave_buffer(filter=COMPRESSED_PNG_FILTER, keep=_KEEP_NONE)
    else:
        data = image.pngsave_buffer(keep=_KEEP_NONE)
    return data


def _webp(image: Any, settings: Settings) -> bytes:
    if settings.lossless:
        data: bytes = image.webpsave_buffer(lossless=True, effort=WEBP_EFFORT, keep=_KEEP_NONE)
    else:
        data = image.webpsave_buffer(Q=settings.quality, effort=WEBP_EFFORT, keep=_KEEP_NONE)
    return data


def _avif(image: Any, settings: Settings) -> bytes:
    quality = {"lossless": True} if settings.lossless else {"Q": settings.quality}
    data: bytes = image.heifsave_buffer(compression="av1", effort=AVIF_EFFORT, keep=_KEEP_NONE, **quality)
    return data


def _gif(image: Any, settings: Settings) -> bytes:
    data: bytes = image.gifsave_buffer(effort=GIF_EFFORT, keep=_KEEP_NONE)
    return data


_SAVERS: dict[Format, Callable[[Any, Settings], bytes]] = {
    Format.JPG: _jpeg,
    Format.PJPG: _progressive_jpeg,
    Format.PNG: _png,
    Format.WEBP: _webp,
    Format.AVIF: _avif,
    Format.GIF: _gif,
}


def encode(ctx: Context) -> None:
    output = ctx.output_format()
    ctx.data = _SAVERS[output](ctx.pixels(), settings_for(output, ctx.options))
