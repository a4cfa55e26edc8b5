"""Step 1: what is this, and may we decode it? Sniff the format, read only the header, check the budget.

The budget here is one frame's: whether every frame of an animation is decoded depends on the output
format, so the layout step checks the summed budget once it knows.

libvips opens images lazily: ``new_from_buffer`` parses the header and decodes no pixel, so a
50000x50000 PNG of a few hundred kilobytes is refused here in about a millisecond.
"""

from __future__ import annotations

import pyvips

from transforms.errors import ImageTooLarge, UnsupportedImage
from transforms.sniff import SourceFormat, sniff
from transforms.steps.context import Context, SourceInfo
from transforms.steps.icc import describes_srgb
from transforms.vips import FAIL_ON


def read_header(ctx: Context) -> None:
    source_format = sniff(ctx.original)
    try:
        header = pyvips.Image.new_from_buffer(ctx.original, "", access="sequential", fail_on=FAIL_ON)
    except pyvips.Error as exc:
        raise UnsupportedImage("the source could not be read as an image") from exc
    if source_format is SourceFormat.HEIF:
        _check_hevc_decodes(header)
    budget = ctx.budget
    if max(header.width, header.height) > budget.max_input_side:
        raise ImageTooLarge(f"the image is wider or taller than {budget.max_input_side} pixels")
    if header.width * header.height > budget.max_pixels:
        raise ImageTooLarge(f"the image has more than {budget.max_pixels:,} pixels")
    ctx.source = SourceInfo(
        format=source_format,
        width=header.width,
        height=header.height,
        orientation=_orientation(header),
        has_alpha=bool(header.hasalpha()),
        foreign_profile=_foreign_profile(header),
        frames=_frames(header),
        resolution=(header.xres, header.yres),
        resolution_unit=_resolution_unit(header),
    )


def _frames(header: pyvips.Image) -> int:
    # Loaded with the default n=1, the header is one frame (page) high; n-pages counts them all.
    if not header.get_typeof("n-pages"):
        return 1
    value = header.get("n-pages")
    return value if isinstance(value, int) and value >= 1 else 1


def _resolution_unit(header: pyvips.Image) -> str | None:
    value = header.get("resolution-unit") if header.get_typeof("resolution-unit") else None
    return value if isinstance(value, str) else None


def _orientation(header: pyvips.Image) -> int:
    if not header.get_typeof("orientation"):
        return 1
    value = header.get("orientation")
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _foreign_profile(header: pyvips.Image) -> bool:
    if not header.get_typeof("icc-profile-data"):
        return False
    profile = header.get("icc-profile-data")
    return not (isinstance(profile, bytes) and describes_srgb(profile))


def _check_hevc_decodes(header: pyvips.Image) -> None:
    """A HEIC photo (HEVC inside HEIF, as phones write them) needs an HEVC decoder, which some libvips builds
    leave out (the pyvips-binary wheel has none, for the codec's patents): say so, rather than the generic
    decode failure. Decoding one pixel decodes one tile, and only HEVC sources pay for it."""
    if not header.get_typeof("heif-compression") or header.get("heif-compression") != "hevc":
        return
    try:
        header.crop(0, 0, 1, 1).avg()
    except pyvips.Error as exc:
        raise UnsupportedImage(
            "the image is HEIC (HEVC-compressed HEIF), which this build's libvips cannot decode; "
            "AVIF, JPEG, PNG and WebP can"
        ) from exc
