"""The source format from its first bytes, before libvips sees anything.

libvips picks a loader by content too, but it knows dozens of formats (matrix, CSV, raw, vips…);
sniffing first means only the seven families below ever reach a decoder, whatever the origin
claims in Content-Type or in the file name.
"""

from __future__ import annotations

import re
from enum import StrEnum

from transforms.errors import UnsupportedImage


class SourceFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    GIF = "gif"
    AVIF = "avif"
    HEIF = "heif"
    TIFF = "tiff"
    SVG = "svg"


_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
# Where an SVG's root element may start: after a BOM, an XML declaration, comments and a doctype.
_SVG_HEAD = 4096
_SVG_ROOT = re.compile(rb"<svg[\s>/]")


def sniff(data: bytes) -> SourceFormat:
    if not data:
        raise UnsupportedImage("the source is empty")
    if data.startswith(b"\xff\xd8\xff"):
        return SourceFormat.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return SourceFormat.PNG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return SourceFormat.GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return SourceFormat.WEBP
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return SourceFormat.TIFF
    if data[4:8] == b"ftyp":
        return _isobmff(data)
    if _looks_like_svg(data):
        return SourceFormat.SVG
    raise UnsupportedImage("the source is not a supported image format")


def _isobmff(data: bytes) -> SourceFormat:
    """AVIF and HEIF share one container; the brands in the ftyp box tell them apart."""
    box_size = int.from_bytes(data[:4], "big")
    box = data[8 : min(max(box_size, 16), 256)]
    brands = {box[0:4]} | {box[i : i + 4] for i in range(8, len(box) - 3, 4)}
    if brands & _AVIF_BRANDS:
        return SourceFormat.AVIF
    if brands & _HEIF_BRANDS:
        return SourceFormat.HEIF
    raise UnsupportedImage("the source is not a supported image format")


def _looks_like_svg(data: bytes) -> bool:
    head = data[:_SVG_HEAD].removeprefix(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"<") and _SVG_ROOT.search(head) is not None
