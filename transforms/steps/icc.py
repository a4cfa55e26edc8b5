"""Is an embedded ICC profile plain sRGB? Then converting it to sRGB is a costly no-op.

Measured on a 2560x1600 JPEG with no profile: asking libvips' thumbnail for sRGB output adds about
a third to the whole request, because it runs an sRGB -> sRGB transform. Most photos on the web
carry the standard sRGB profile, so recognising it by its description keeps the hot path at the
cost of bare ``thumbnail_buffer``. A profile that calls itself sRGB is trusted to be sRGB.
"""

from __future__ import annotations

_HEADER = 128
_TAG_ENTRY = 12


def describes_srgb(profile: bytes) -> bool:
    if profile[16:20] != b"RGB ":
        return False
    return "srgb" in _description(profile).lower()


def _description(profile: bytes) -> str:
    count = _u32(profile, _HEADER)
    for index in range(min(count, 100)):
        entry = _HEADER + 4 + index * _TAG_ENTRY
        if profile[entry : entry + 4] == b"desc":
            offset, size = _u32(profile, entry + 4), _u32(profile, entry + 8)
            return _text(profile[offset : offset + size])
    return ""


def _text(tag: bytes) -> str:
    kind = tag[:4]
    if kind == b"desc":  # ICC v2 textDescriptionType: length, then ASCII
        length = _u32(tag, 8)
        return tag[12 : 12 + length].decode("latin-1")
    if kind == b"mluc":  # ICC v4 multiLocalizedUnicodeType: the first record is enough
        length, offset = _u32(tag, 20), _u32(tag, 24)
        return tag[offset : offset + length].decode("utf-16-be", errors="replace")
    return ""


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "big")
