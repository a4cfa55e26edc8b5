"""A real camera photo carrying credits beside the metadata they must not drag along, and readers for outputs."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pyvips

from transforms.copyright import exif_block, iim_datasets, iim_stream, photoshop_block

ARTIST_TEXT = "Jane Doe"
COPYRIGHT_TEXT = "(c) 2026 Jane Doe Studio"
IPTC_KEPT = [((2, 80), b"Jane Doe"), ((2, 116), b"(c) 2026 Jane Doe Studio")]
IPTC_DROPPED = [((2, 25), b"private-keyword"), ((2, 90), b"Aarhus")]
XMP_CREDITS = (
    "<rdf:Description rdf:about='' xmlns:dc='http://purl.org/dc/elements/1.1/'>"
    "<dc:creator><rdf:Seq><rdf:li>Jane Doe</rdf:li></rdf:Seq></dc:creator>"
    "<dc:rights><rdf:Alt><rdf:li xml:lang='x-default'>(c) 2026 Jane &amp; Co</rdf:li></rdf:Alt></dc:rights>"
    "</rdf:Description>"
    "<rdf:Description rdf:about='' xmlns:exif='http://ns.adobe.com/exif/1.0/'>"
    "<exif:GPSLatitude>56,9.3597N</exif:GPSLatitude></rdf:Description>"
)


def tagged_photo(photo: Path, width: int = 800) -> bytes:
    """``photo`` (camera EXIF with GPS, maker note and thumbnail, XMP, ICC) made smaller, plus EXIF Artist and
    Copyright, IPTC credits beside a keyword and a city, and XMP credits beside a GPS position."""
    image = pyvips.Image.new_from_file(str(photo))
    image = image.resize(width / image.width).copy()  # resize keeps every metadata field
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Artist", ARTIST_TEXT)
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Copyright", COPYRIGHT_TEXT)
    image.set_type(pyvips.GValue.blob_type, "iptc-data", photoshop_block(IPTC_KEPT + IPTC_DROPPED))
    xmp = image.get("xmp-data") if image.get_typeof("xmp-data") else b""
    marker = b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
    if marker not in xmp:
        xmp = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + marker + b"</rdf:RDF></x:xmpmeta>"
    image.set_type(pyvips.GValue.blob_type, "xmp-data", xmp.replace(marker, marker + XMP_CREDITS.encode()))
    return bytes(image.jpegsave_buffer(Q=85, keep=63))  # VipsForeignKeep.ALL


def with_app1(jpeg: bytes, values: dict[int, bytes]) -> bytes:
    """``jpeg`` with an EXIF APP1 segment holding ``values`` as raw ASCII entries, spliced in after SOI."""
    block = exif_block(values)
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block + jpeg[2:]


def metadata(data: bytes) -> dict[str, Any]:
    """Every metadata field libvips reads from ``data`` (EXIF tags by name, the blobs as bytes)."""
    image = pyvips.Image.new_from_buffer(data, "")
    names = [n for n in image.get_fields() if n.startswith("exif-") or n.endswith("-data") and n != "exif-data"]
    out = {name: image.get(name) for name in names}
    if image.get_typeof("exif-data"):
        out["exif-data"] = image.get("exif-data")
    return out


def iptc(fields: dict[str, Any]) -> list[tuple[tuple[int, int], bytes]]:
    return iim_datasets(iim_stream(fields.get("iptc-data", b"")))
