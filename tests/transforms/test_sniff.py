from __future__ import annotations

import pytest

from tests.transforms.images import jpeg, png, solid
from transforms.errors import UnsupportedImage
from transforms.sniff import SourceFormat, sniff


def _encoded(fmt: str) -> bytes:
    image = solid(8, 8)
    savers = {
        "webp": lambda: image.webpsave_buffer(),
        "gif": lambda: image.gifsave_buffer(),
        "tiff": lambda: image.tiffsave_buffer(),
        "avif": lambda: image.heifsave_buffer(compression="av1"),
    }
    return bytes(savers[fmt]())


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (jpeg(solid(8, 8)), SourceFormat.JPEG),
        (png(solid(8, 8)), SourceFormat.PNG),
        (b"MM\x00*" + bytes(16), SourceFormat.TIFF),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", SourceFormat.HEIF),
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf", SourceFormat.AVIF),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', SourceFormat.SVG),
        (
            b'\xef\xbb\xbf\n <?xml version="1.0"?>\n<!-- c -->\n<!DOCTYPE svg>\n<svg width="1">',
            SourceFormat.SVG,
        ),
    ],
)
def test_known_magic(data, expected):
    assert sniff(data) is expected


@pytest.mark.parametrize(("fmt", "expected"), [("webp", "webp"), ("gif", "gif"), ("tiff", "tiff"), ("avif", "avif")])
def test_files_libvips_writes(fmt, expected):
    assert sniff(_encoded(fmt)) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 64,
        b"2 2\n1 2\n3 4\n",  # libvips' matrix format
        b"P6\n1 1\n255\n\x00\x00\x00",  # PPM
        b"%PDF-1.7\n",
        b"BM" + bytes(60),  # BMP
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",  # an MP4, same container as AVIF
        b"<html><body>svg</body></html>",
        b"hello <svg>",  # text that merely mentions svg
    ],
)
def test_everything_else_is_refused(data):
    with pytest.raises(UnsupportedImage):
        sniff(data)
