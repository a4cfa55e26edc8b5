"""Credits kept through a transform: the source's copyright and artist, and no other piece of metadata.

A workspace may ask (``keep_copyright``) that its outputs keep who made a picture and who owns it, while GPS,
camera serials, thumbnails of the uncropped original and everything else stay stripped. From the source's
header (libvips parses it without decoding a pixel) this module takes:

- EXIF IFD0 Artist (0x013B) and Copyright (0x8298), raw bytes (Copyright's "photographer NUL editor" form
  survives), written into a new EXIF block holding those two tags alone;
- IPTC IIM 2:80 By-line and 2:116 Copyright Notice (with 1:90, the character set they are written in, and
  2:00, the record version), in a new Photoshop APP13 block holding that one resource;
- XMP ``dc:creator`` and ``dc:rights``, in a new packet holding those two properties alone (parsed with
  defusedxml: an XMP packet is attacker-written XML).

libvips rebuilds EXIF on save from the ``exif-ifd*`` fields on the image: a tag of the block with no field is
removed, and one whose field text differs from libexif's rendering of the stored value is re-created from the
text (losing NULs and non-ASCII bytes). So the new block goes with the two fields exactly as libvips read them
from the source, whose raw bytes are the same: both tags are kept as they are. libvips then adds only what it
always writes (orientation, resolution, dimensions). JPEG carries all three kinds; WebP, AVIF and PNG carry
EXIF and XMP (their libvips savers write no IPTC); GIF carries none.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

import pyvips
from defusedxml import ElementTree as SafeElementTree

# VipsForeignKeep flags: EXIF | XMP | IPTC (never ICC: the colour step made the pixels sRGB; never "other").
_KEEP_EXIF, _KEEP_XMP, _KEEP_IPTC = 1, 2, 4

ARTIST, COPYRIGHT = 0x013B, 0x8298
_EXIF_TAGS = {ARTIST: "exif-ifd0-Artist", COPYRIGHT: "exif-ifd0-Copyright"}
_EXIF_HEADER = b"Exif\x00\x00"
_ASCII = 2
_MAX_VALUE = 4096  # bytes of one kept value; a longer one is no credit line and is dropped

# IPTC IIM datasets kept: (record, dataset).
CHARACTER_SET, RECORD_VERSION, BY_LINE, COPYRIGHT_NOTICE = (1, 90), (2, 0), (2, 80), (2, 116)
_IIM_KEPT = (CHARACTER_SET, RECORD_VERSION, BY_LINE, COPYRIGHT_NOTICE)
_IIM_CREDITS = (BY_LINE, COPYRIGHT_NOTICE)
_PHOTOSHOP = b"Photoshop 3.0\x00"
_IPTC_RESOURCE = 0x0404

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_DC = "http://purl.org/dc/elements/1.1/"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_MAX_XMP = 1 << 20  # a packet beyond this is not parsed (libvips keeps packets of any size)

# Fields libvips writes as metadata on save; all of them go before the credits are set.
_METADATA_FIELDS = frozenset({"exif-data", "xmp-data", "iptc-data", "jpeg-thumbnail-data", "icc-profile-data"})


@dataclass(frozen=True, slots=True)
class Credits:
    """What of the source's metadata an output keeps; each part None when the source has none of it."""

    exif: bytes | None = None  # a whole EXIF block: Artist and Copyright only
    exif_fields: tuple[tuple[str, str], ...] = ()  # libvips' text of those tags in the source
    iptc: bytes | None = None  # a Photoshop APP13 block: the IIM datasets above only
    xmp: bytes | None = None  # a packet: dc:creator and dc:rights only

    @property
    def keep(self) -> int:
        """The savers' ``keep`` flags for what is there."""
        return (_KEEP_EXIF if self.exif else 0) | (_KEEP_IPTC if self.iptc else 0) | (_KEEP_XMP if self.xmp else 0)

    def applied_to(self, image: Any) -> Any:
        """A copy of ``image`` whose metadata is these credits and nothing else."""
        out = image.copy()
        for name in out.get_fields():
            if name in _METADATA_FIELDS or name.startswith("exif-"):
                out.remove(name)
        if self.exif:
            out.set_type(pyvips.GValue.blob_type, "exif-data", self.exif)
            for name, text in self.exif_fields:
                out.set_type(pyvips.GValue.gstr_type, name, text)
        if self.iptc:
            out.set_type(pyvips.GValue.blob_type, "iptc-data", self.iptc)
        if self.xmp:
            out.set_type(pyvips.GValue.blob_type, "xmp-data", self.xmp)
        return out


def read_credits(original: bytes) -> Credits | None:
    """The source's credits, or None when it carries none (then the output keeps no metadata at all)."""
    try:
        header = pyvips.Image.new_from_buffer(original, "", access="sequential")
    except pyvips.Error:
        return None
    exif, fields = _exif_credits(header)
    credits = Credits(exif, fields, _iptc_credits(_blob(header, "iptc-data")), _xmp_credits(_blob(header, "xmp-data")))
    return credits if credits.keep else None


def _blob(header: Any, name: str) -> bytes | None:
    if not header.get_typeof(name):
        return None
    value = header.get(name)
    return bytes(value) if isinstance(value, bytes | bytearray | memoryview) else None


# --- EXIF ----------------------------------------------------------------------------------------------------


def _exif_credits(header: Any) -> tuple[bytes | None, tuple[tuple[str, str], ...]]:
    block = _blob(header, "exif-data")
    if block is None:
        return None, ()
    values = {tag: raw for tag, raw in ifd0_ascii(block).items() if tag in _EXIF_TAGS}
    # Only tags libvips names as fields can be kept (its save removes the others).
    kept = {tag: raw for tag, raw in values.items() if header.get_typeof(_EXIF_TAGS[tag])}
    if not kept:
        return None, ()
    fields = tuple((_EXIF_TAGS[tag], str(header.get(_EXIF_TAGS[tag]))) for tag in sorted(kept))
    return exif_block(kept), fields


def ifd0_ascii(block: bytes) -> dict[int, bytes]:
    """The ASCII entries of an EXIF block's first IFD, raw, by tag; {} for anything malformed."""
    data = block[len(_EXIF_HEADER) :] if block.startswith(_EXIF_HEADER) else block
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None:
        return {}
    found: dict[int, bytes] = {}
    try:
        magic, offset = struct.unpack_from(order + "HI", data, 2)
        if magic != 42:
            return {}
        (count,) = struct.unpack_from(order + "H", data, offset)
        for index in range(min(count, 1024)):
            tag, kind, length = struct.unpack_from(order + "HHI", data, offset + 2 + 12 * index)
            if kind != _ASCII or not 0 < length <= _MAX_VALUE:
                continue
            start = offset + 2 + 12 * index + 8
            if length > 4:
                (start,) = struct.unpack_from(order + "I", data, start)
            raw = data[start : start + length]
            if len(raw) == length:
                found[tag] = raw
    except struct.error:
        return found
    return found


def exif_block(values: dict[int, bytes]) -> bytes:
    """An EXIF block (with its APP1 ``Exif`` header) of one IFD holding ``values`` as ASCII entries."""
    tags = sorted(values)
    entries, extra = b"", b""
    extra_at = 8 + 2 + 12 * len(tags) + 4  # after the TIFF header, the IFD and its next-IFD link
    for tag in tags:
        raw = values[tag]
        if len(raw) <= 4:
            entries += struct.pack("<HHI", tag, _ASCII, len(raw)) + raw.ljust(4, b"\x00")
        else:
            entries += struct.pack("<HHII", tag, _ASCII, len(raw), extra_at + len(extra))
            extra += raw + (b"\x00" if len(raw) % 2 else b"")  # values start on a word boundary
    ifd = struct.pack("<H", len(tags)) + entries + struct.pack("<I", 0)
    return _EXIF_HEADER + b"II*\x00" + struct.pack("<I", 8) + ifd + extra


# --- IPTC ----------------------------------------------------------------------------------------------------


def _iptc_credits(block: bytes | None) -> bytes | None:
    if not block:
        return None
    datasets = [(key, value) for key, value in iim_datasets(iim_stream(block)) if key in _IIM_KEPT]
    if not any(key in _IIM_CREDITS for key, _ in datasets):
        return None
    return photoshop_block(datasets)


def iim_stream(block: bytes) -> bytes:
    """The IIM stream inside libvips' ``iptc-data``: a Photoshop APP13 block (JPEG) or a bare stream."""
    if not block.startswith(_PHOTOSHOP):
        return block
    at = len(_PHOTOSHOP)
    while at + 12 <= len(block) and block[at : at + 4] == b"8BIM":
        (resource,) = struct.unpack_from(">H", block, at + 4)
        name_length = block[at + 6]
        at += 6 + name_length + 1 + (name_length + 1) % 2  # a Pascal string padded to an even length
        if at + 4 > len(block):
            break
        (size,) = struct.unpack_from(">I", block, at)
        data = block[at + 4 : at + 4 + size]
        if resource == _IPTC_RESOURCE:
            return data
        at += 4 + size + size % 2
    return b""


def iim_datasets(stream: bytes) -> list[tuple[tuple[int, int], bytes]]:
    """((record, dataset), value) of an IIM stream, in order, up to the first malformed one."""
    out: list[tuple[tuple[int, int], bytes]] = []
    at = 0
    while at + 5 <= len(stream) and stream[at] == 0x1C:
        record, dataset = stream[at + 1], stream[at + 2]
        (size,) = struct.unpack_from(">H", stream, at + 3)
        at += 5
        if size & 0x8000:  # extended length: the low bits count the bytes of the real length
            width = size & 0x7FFF
            if not 0 < width <= 4 or at + width > len(stream):
                break
            size = int.from_bytes(stream[at : at + width], "big")
            at += width
        if at + size > len(stream):
            break
        value = stream[at : at + size]
        at += size
        if size <= _MAX_VALUE:
            out.append(((record, dataset), value))
    return out


def photoshop_block(datasets: list[tuple[tuple[int, int], bytes]]) -> bytes:
    """A Photoshop APP13 block holding one IPTC resource of ``datasets`` (record 1 first, as IIM requires)."""
    stream = b"".join(
        bytes((0x1C, record, dataset)) + struct.pack(">H", len(value)) + value
        for (record, dataset), value in sorted(datasets, key=lambda item: item[0][0])
    )
    padding = b"\x00" if len(stream) % 2 else b""
    return (
        _PHOTOSHOP
        + b"8BIM"
        + struct.pack(">H", _IPTC_RESOURCE)
        + b"\x00\x00"
        + struct.pack(">I", len(stream))
        + (stream + padding)
    )


# --- XMP -----------------------------------------------------------------------------------------------------


def _xmp_credits(packet: bytes | None) -> bytes | None:
    if not packet or len(packet) > _MAX_XMP:
        return None
    try:
        root = SafeElementTree.fromstring(packet.strip(b"\x00"))
    except Exception:  # defusedxml's refusals and every parse error alike: a packet we cannot read keeps nothing
        return None
    creators = _items(root, "creator")
    rights = _items(root, "rights")
    if not creators and not rights:
        return None
    return xmp_packet(creators, rights)


def _items(root: Element, name: str) -> list[tuple[str, str]]:
    """(xml:lang, text) of each rdf:li of the first dc:``name`` property."""
    prop = root.find(f".//{{{_DC}}}{name}")
    if prop is None:
        return []
    items = [(li.get(_XML_LANG, ""), (li.text or "").strip()) for li in prop.iter(f"{{{_RDF}}}li")]
    if not items and (prop.text or "").strip():  # a simple value, outside the container XMP prescribes
        items = [("", (prop.text or "").strip())]
    return [(lang, text) for lang, text in items if text and len(text) <= _MAX_VALUE]


def xmp_packet(creators: list[tuple[str, str]], rights: list[tuple[str, str]]) -> bytes:
    """An XMP packet with dc:creator (an ordered list) and dc:rights (a language alternative) alone."""
    properties = ""
    if creators:
        items = "".join(f"<rdf:li>{escape(text)}</rdf:li>" for _, text in creators)
        properties += f"<dc:creator><rdf:Seq>{items}</rdf:Seq></dc:creator>"
    if rights:
        items = "".join(
            f"<rdf:li xml:lang={quoteattr(lang or 'x-default')}>{escape(text)}</rdf:li>" for lang, text in rights
        )
        properties += f"<dc:rights><rdf:Alt>{items}</rdf:Alt></dc:rights>"
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{_RDF}">'
        f'<rdf:Description rdf:about="" xmlns:dc="{_DC}">{properties}</rdf:Description>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="r"?>'
    ).encode()
