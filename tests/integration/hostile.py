"""Hostile originals, generated at test time (the repository ships none)."""

from __future__ import annotations

import os
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(side: int = 50_000) -> bytes:
    """A few-KB PNG whose header claims side x side pixels (2.5 gigapixels at the default)."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    # A few hundred rows are enough: the pixel budget must refuse it from the header alone.
    body = b"".join(compressor.compress(row) for _ in range(200)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def truncated(data: bytes, keep: float = 0.4) -> bytes:
    return data[: int(len(data) * keep)]


def random_bytes(size: int = 4096) -> bytes:
    return os.urandom(size)


def svg_with_external_reference(url: str) -> bytes:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64">'
        f'<image href="{url}" xlink:href="{url}" width="64" height="64"/>'
        '<rect x="0" y="0" width="16" height="16" fill="red"/></svg>'
    ).encode()
