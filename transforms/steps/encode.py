"""Step 17: write the output format once, with every piece of metadata stripped.

Stripping (``keep=none``) drops EXIF (camera serials, GPS), XMP, comments and the ICC profile; the
colour step made the pixels sRGB, which is what browsers assume for an untagged image. A workspace with
``keep_copyright`` keeps the source's copyright and artist, and only those (``transforms.copyright``).

Encoder speed settings, measured on this machine (640 px wide photo, libvips 8.18):
WebP effort 2 takes 8.5 ms and 11.7 kB, against 22.6 ms and 11.2 kB at the default 4 (used: WEBP_EFFORT);
AVIF effort 1 takes 20 ms and 11.4 kB, against 200 ms and 9.8 kB at the default 4; GIF effort 1 quantises about
three times faster than the default 7. Results are cached for a year, but a miss is paid while a
visitor waits, so speed wins over the last few percent of bytes.

JPEG: the libjpeg in pyvips-binary is mozjpeg, but libvips runs it with libjpeg-turbo's settings (no trellis
quantisation, no scan optimisation) unless asked. Measured with callgrind on four corpus photos, per encode at
400 px / 1280 px: plain 5 / 34 M instructions; ``optimize_coding`` (kept) 8 / 63 M for 2.6% / 2% fewer bytes,
about 2% of a 400 px miss; ``interlace`` (pjpg only) 20 / 173 M; trellis quantisation about 6x the time of
plain for 12% fewer bytes and a lower SSIM (0.928 against 0.931): not used.

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
from dataclasses import dataclass, replace
from typing import Any

from transforms.copyright import read_credits
from transforms.options import PALETTE_COLOURS, Auto, Format, TransformOptions
from transforms.steps.context import Context

# Default q per lossy format; a URL's q overrides. AVIF's scale is harsher: 60 there looks like
# 80 in JPEG at a smaller size.
QUALITY = {Format.JPG: 80, Format.PJPG: 80, Format.WEBP: 80, Format.AVIF: 60}
# With auto=compress. Measured on three corpus photos at 640 px: 7-38% smaller (median about 20%).
COMPRESSED_QUALITY = {Format.JPG: 65, Format.PJPG: 65, Format.WEBP: 65, Format.AVIF: 45}
COMPRESSED_PNG_FILTER = "all"  # libvips tries every PNG row filter and keeps the best per row
# libwebp's default, and thumbor's (Pillow's method 4). Effort 2 was chosen for speed, but SSIM against a
# full-size reference showed it below thumbor's output on every corpus photo at 400 px q80 (0.0005-0.0075 lower);
# effort 3 and 4 match it. Measured with callgrind per 400 px encode: 45 M instructions at 2, 101-102 M at 3 and 4.
WEBP_EFFORT = 4
AVIF_EFFORT = 1
GIF_EFFORT = 1
_KEEP_NONE = 0  # VipsForeignKeep.NONE


@dataclass(frozen=True, slots=True)
class Settings:
    quality: int  # 0 for the formats that take none
    lossless: bool
    compress: bool
    subsample: str = "auto"  # JPEG chroma subsampling (chromasub): libvips' auto is 4:2:0 below Q 90
    keep: int = _KEEP_NONE  # metadata kinds written: none, or the source's credits (transforms.copyright)


def settings_for(output: Format, options: TransformOptions) -> Settings:
    compress = Auto.COMPRESS in options.auto
    defaults = COMPRESSED_QUALITY if compress else QUALITY
    subsample = "auto" if options.chromasub is None else _SUBSAMPLING[options.chromasub]
    return Settings(options.q or defaults.get(output, 0), options.lossless, compress, subsample)


_SUBSAMPLING = {444: "off", 420: "on"}


def _jpeg(image: Any, settings: Settings) -> bytes:
    data: bytes = image.jpegsave_buffer(
        Q=settings.quality, optimize_coding=True, subsample_mode=settings.subsample, keep=settings.keep
    )
    return data


def _progressive_jpeg(image: Any, settings: Settings) -> bytes:
    data: bytes = image.jpegsave_buffer(
        Q=settings.quality, optimize_coding=True, interlace=True, subsample_mode=settings.subsample, keep=settings.keep
    )
    return data


def _png(image: Any, settings: Settings) -> bytes:
    if settings.compress:
        data: bytes = image.pngsave_buffer(filter=COMPRESSED_PNG_FILTER, keep=settings.keep)
    else:
        data = image.pngsave_buffer(keep=settings.keep)
    return data


def _webp(image: Any, settings: Settings) -> bytes:
    if settings.lossless:
        data: bytes = image.webpsave_buffer(lossless=True, effort=WEBP_EFFORT, keep=settings.keep)
    else:
        data = image.webpsave_buffer(Q=settings.quality, effort=WEBP_EFFORT, keep=settings.keep)
    return data


def _avif(image: Any, settings: Settings) -> bytes:
    quality = {"lossless": True} if settings.lossless else {"Q": settings.quality}
    data: bytes = image.heifsave_buffer(compression="av1", effort=AVIF_EFFORT, keep=settings.keep, **quality)
    return data


def _png8(image: Any, settings: Settings) -> bytes:
    # libimagequant's palette of at most 256 colours (alpha kept), at libvips' fastest effort.
    data: bytes = image.pngsave_buffer(palette=True, effort=1, keep=settings.keep)
    return data


def _blurhash(image: Any, settings: Settings) -> bytes:
    from transforms.blurhash import encode_image

    return encode_image(image).encode("ascii")


def _gif(image: Any, settings: Settings) -> bytes:
    data: bytes = image.gifsave_buffer(effort=GIF_EFFORT, keep=settings.keep)
    return data


_SAVERS: dict[Format, Callable[[Any, Settings], bytes]] = {
    Format.JPG: _jpeg,
    Format.PJPG: _progressive_jpeg,
    Format.PNG: _png,
    Format.WEBP: _webp,
    Format.AVIF: _avif,
    Format.GIF: _gif,
    Format.PNG8: _png8,
    Format.BLURHASH: _blurhash,
}
PALETTE_CONTENT_TYPE = "application/json"


def encode(ctx: Context) -> None:
    output = ctx.output_format()
    if ctx.options.palette is not None:  # palette=json answers the output's colours instead of its pixels
        from transforms.palette import palette_json

        ctx.data = palette_json(ctx.pixels(), ctx.options.colors or PALETTE_COLOURS)
        return
    image, settings = ctx.pixels(), settings_for(output, ctx.options)
    if ctx.options.keep_copyright:  # the workspace keeps copyright: credits only, every other field still stripped
        credits = read_credits(ctx.original)
        if credits is not None:
            image, settings = credits.applied_to(image), replace(settings, keep=credits.keep)
    ctx.data = _SAVERS[output](image, settings)
