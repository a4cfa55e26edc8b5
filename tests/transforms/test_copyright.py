"""keep_copyright: the source's copyright and artist survive the transform, and no other piece of metadata does."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import pyvips
from hypothesis import given
from hypothesis import strategies as st

from tests.transforms.credits import (
    ARTIST_TEXT,
    COPYRIGHT_TEXT,
    IPTC_DROPPED,
    IPTC_KEPT,
    iptc,
    metadata,
    tagged_photo,
    with_app1,
)
from tests.transforms.images import jpeg, solid
from transforms.copyright import (
    ARTIST,
    COPYRIGHT,
    Credits,
    ifd0_ascii,
    iim_datasets,
    iim_stream,
    read_credits,
)
from transforms.errors import InvalidParameter
from transforms.negotiate import choose_format
from transforms.options import TransformOptions
from transforms.params import parse_query
from transforms.pipeline import Output, PixelBudget, run

MAKE = 0x010F
PRIVATE = ("GPS", "Make", "MakerNote", "Model", "digiKam", "private-keyword", "Aarhus")


@pytest.fixture(scope="module")
def tagged(images_dir: Path) -> bytes:
    source = tagged_photo(images_dir / "photo-colorfulcups.jpg")
    fields = metadata(source)
    # The source really carries what must go: a GPS position, the camera, its maker note and thumbnail, ICC.
    assert any(name.startswith("exif-ifd3-GPS") for name in fields)
    assert "exif-ifd0-Make" in fields and "jpeg-thumbnail-data" in fields and "icc-profile-data" in fields
    assert b"GPSLatitude" in fields["xmp-data"] and IPTC_DROPPED[0] in iptc(fields)
    return source


def rendered(data: bytes, query: str, keep: bool = True) -> Output:
    options = dataclasses.replace(parse_query(query), keep_copyright=True if keep else None)
    chosen, _ = choose_format(options, None)
    return run(data, options, chosen, PixelBudget())


def assert_only_credits(fields: dict[str, object], iptc_expected: bool) -> None:
    exif = fields["exif-data"]
    assert isinstance(exif, bytes)
    assert ifd0_ascii(exif)[ARTIST] == ARTIST_TEXT.encode() + b"\x00"
    assert ifd0_ascii(exif)[COPYRIGHT] == COPYRIGHT_TEXT.encode() + b"\x00"
    names = " ".join(fields)
    assert "GPS" not in names and "Make" not in names and "MakerNote" not in names and "Model" not in names
    assert "jpeg-thumbnail-data" not in fields and "icc-profile-data" not in fields
    for blob in (exif, fields.get("xmp-data", b""), fields.get("iptc-data", b"")):
        assert isinstance(blob, bytes)
        assert not any(word.encode() in blob for word in PRIVATE), blob[:200]
    xmp = fields["xmp-data"]
    assert isinstance(xmp, bytes)
    assert b"<dc:creator><rdf:Seq><rdf:li>Jane Doe</rdf:li>" in xmp and b"(c) 2026 Jane &amp; Co" in xmp
    if iptc_expected:
        assert iptc(fields) == IPTC_KEPT


@pytest.mark.parametrize(
    ("query", "iptc_expected"),
    [
        ("w=300", True),  # the shrink-on-load path
        ("w=300&h=300&fit=crop&blur=5&sat=-50", True),  # several pixel steps in between
        ("w=300&fm=pjpg", True),
        ("w=300&fm=webp", False),  # libvips writes no IPTC into WebP, AVIF or PNG
        ("w=300&fm=avif", False),
        ("w=300&fm=png", False),
    ],
)
def test_credits_survive_and_everything_else_is_stripped(tagged: bytes, query: str, iptc_expected: bool) -> None:
    output = rendered(tagged, query)
    assert output.width == 300
    assert_only_credits(metadata(output.data), iptc_expected)


@pytest.mark.parametrize("query", ["w=300", "w=300&fm=webp", "w=300&fm=png", "w=300&fm=avif", "w=300&fm=gif"])
def test_off_everything_is_stripped(tagged: bytes, query: str) -> None:
    fields = metadata(rendered(tagged, query, keep=False).data)
    assert not {"exif-data", "xmp-data", "iptc-data", "icc-profile-data"} & set(fields)
    assert not any(word.encode() in rendered(tagged, query, keep=False).data for word in ("Jane Doe", "GPS"))


def test_gif_carries_no_metadata_either_way(tagged: bytes) -> None:
    output = rendered(tagged, "w=120&fm=gif")
    assert b"Jane Doe" not in output.data and b"GPS" not in output.data


def test_the_raw_copyright_bytes_survive_byte_for_byte() -> None:
    # EXIF's Copyright holds "photographer NUL editor NUL"; libvips' text of it would lose the second part.
    raw = b"Jane Doe\x00Studio Nord Editors\x00"
    source = with_app1(jpeg(solid(120, 80)), {COPYRIGHT: raw, ARTIST: b"Jane Doe\x00", MAKE: b"SecretCam 9\x00"})
    assert b"SecretCam" in source
    for query in ("w=60", "w=60&fm=webp"):
        output = rendered(source, query)
        exif = metadata(output.data)["exif-data"]
        assert ifd0_ascii(exif)[COPYRIGHT] == raw and ifd0_ascii(exif)[ARTIST] == b"Jane Doe\x00"
        assert MAKE not in ifd0_ascii(exif) and b"SecretCam" not in output.data


def test_a_source_without_credits_keeps_nothing(images_dir: Path) -> None:
    source = (images_dir / "photo-colorfulcups.jpg").read_bytes()  # GPS and a camera, no artist or copyright
    assert read_credits(source) is None
    fields = metadata(rendered(source, "w=200").data)
    assert not {"exif-data", "xmp-data", "iptc-data"} & set(fields)


def test_it_is_in_the_cache_key_and_no_url_can_set_it() -> None:
    plain = TransformOptions(w=300)
    assert dataclasses.replace(plain, keep_copyright=True).canonical() != plain.canonical()
    assert TransformOptions(w=300, keep_copyright=None).canonical() == plain.canonical()
    with pytest.raises(InvalidParameter, match="keep-copyright"):
        parse_query("w=300&keep-copyright=1")


def test_a_hostile_xmp_packet_keeps_nothing_and_raises_nothing() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><dc:rights xmlns:dc='http://purl.org/dc/elements/1.1/'>&b;</dc:rights>"
        b"</x:xmpmeta>"
    )
    image = solid(40, 40).copy()
    image.set_type(pyvips.GValue.blob_type, "xmp-data", bomb)
    source = bytes(image.jpegsave_buffer(keep=2))  # XMP only
    assert b"ENTITY" in source
    assert read_credits(source) is None
    assert b"aaaa" not in rendered(source, "w=20").data


def test_credits_applied_replace_every_field() -> None:
    image = solid(10, 10).copy()
    for name in ("exif-ifd3-GPSLatitude", "exif-ifd0-Make"):
        image.set_type(pyvips.GValue.gstr_type, name, "secret")
    image.set_type(pyvips.GValue.blob_type, "jpeg-thumbnail-data", b"\xff\xd8thumb")
    out = Credits(xmp=b"<x/>").applied_to(image)
    assert not [name for name in out.get_fields() if name.startswith("exif-") or name == "jpeg-thumbnail-data"]
    assert out.get("xmp-data") == b"<x/>" and Credits(xmp=b"<x/>").keep == 2
    assert image.get_typeof("exif-ifd0-Make")  # the image given is not changed


@given(st.binary(max_size=300))
def test_the_block_readers_never_raise(data: bytes) -> None:
    ifd0_ascii(data)
    ifd0_ascii(b"II*\x00" + data)
    iim_datasets(data)
    iim_datasets(b"\x1c\x02\x50" + data)
    iim_stream(b"Photoshop 3.0\x008BIM" + data)


def test_read_credits_of_no_image_is_none() -> None:
    assert read_credits(b"not an image at all") is None
