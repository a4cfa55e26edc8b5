"""Faces on a real portrait (public domain, see fixtures/README.md) and on photos without faces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pyvips

from tests.conftest import DEMO_IMAGES
from transforms.errors import InvalidParameter
from transforms.faces import FaceBox, detect_faces
from transforms.params import parse_query
from transforms.pipeline import PixelBudget, run

PORTRAIT = (Path(__file__).parent / "fixtures" / "astronaut.jpg").read_bytes()
WITHOUT_FACES = [DEMO_IMAGES / name for name in ("photo-kite.jpg", "photo-path.jpg", "photo-colorfulcups.jpg")]
# Where the face is in the portrait: (x, y, width, height), as found at full size (a few pixels either way).
FACE = (177, 66, 97, 97)


def render(query: str, original: bytes = PORTRAIT) -> pyvips.Image:
    output = run(original, parse_query(query), None, PixelBudget())
    return pyvips.Image.new_from_buffer(output.data, "")


def near(box: FaceBox, expected: tuple[int, int, int, int], slack: int) -> bool:
    return all(abs(a - b) <= slack for a, b in zip((box.x, box.y, box.width, box.height), expected, strict=True))


def test_the_portraits_face_is_found_at_any_size() -> None:
    image = pyvips.Image.new_from_buffer(PORTRAIT, "")
    (face,) = detect_faces(image)
    assert near(face, FACE, 6)
    (large,) = detect_faces(image.resize(3))  # scanned on a 400 px copy, answered in its own pixels
    assert near(large, tuple(3 * side for side in FACE), 20)  # type: ignore[arg-type]
    (small,) = detect_faces(image.resize(0.25))  # scaled up before the scan
    assert near(small, tuple(round(side / 4) for side in FACE), 4)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", WITHOUT_FACES, ids=lambda path: path.name)
def test_photos_without_faces_have_none(path: Path) -> None:
    assert detect_faces(pyvips.Image.new_from_file(str(path))) == []


def test_fm_json_lists_the_faces_only_when_asked() -> None:
    info = json.loads(run(PORTRAIT, parse_query("fm=json&faces=1"), None, PixelBudget()).data)
    (face,) = info["faces"]
    assert near(FaceBox(**face), FACE, 8)
    assert "faces" not in json.loads(run(PORTRAIT, parse_query("fm=json"), None, PixelBudget()).data)
    none = json.loads(run(WITHOUT_FACES[0].read_bytes(), parse_query("fm=json&faces=1"), None, PixelBudget()).data)
    assert none["faces"] == []


def band_rows(image: pyvips.Image) -> int:
    """Where the face sits in a wide band cut from the portrait: the band's top row in the source."""
    source = pyvips.Image.new_from_buffer(PORTRAIT, "")
    # Find the offset whose rows match the band best.
    best, best_offset = None, 0
    for offset in range(0, source.height - image.height + 1, 4):
        diff = (source.crop(0, offset, image.width, image.height) - image).abs().avg()
        if best is None or diff < best:
            best, best_offset = diff, offset
    return best_offset


def test_crop_faces_keeps_the_face_in_a_wide_band() -> None:
    band = render("w=512&h=100&fit=crop&crop=faces&fm=png")
    assert (band.width, band.height) == (512, 100)
    top = band_rows(band)
    face_centre = FACE[1] + FACE[3] / 2
    assert top <= face_centre - 30 and top + 100 >= face_centre + 30
    # Without faces the centre is kept: rows 206-306, which miss the face entirely.
    assert band_rows(render("w=512&h=100&fit=crop&fm=png")) >= 200


def test_crop_faces_falls_back_to_the_other_item_without_a_face() -> None:
    kite = WITHOUT_FACES[0].read_bytes()
    # The same cut; the face path decodes at full size before resizing, so a few levels of difference remain.
    fallback = render("w=100&h=100&fit=crop&crop=faces,left&fm=png", kite)
    left = render("w=100&h=100&fit=crop&crop=left&fm=png", kite)
    centre = render("w=100&h=100&fit=crop&fm=png", kite)
    assert (fallback - left).abs().avg() < 2 < (fallback - centre).abs().avg()
    plain = render("w=100&h=100&fit=crop&crop=faces&fm=png", kite)
    assert (plain - centre).abs().avg() < 2 < (plain - left).abs().avg()


def test_fit_facearea_cuts_the_face_with_facepad() -> None:
    tight = render("w=100&h=100&fit=facearea&fm=png")
    assert (tight.width, tight.height) == (100, 100)
    source = pyvips.Image.new_from_buffer(PORTRAIT, "")
    x, y, w, h = FACE
    expected = source.crop(x, y, w, h).resize(100 / w)
    assert (tight - expected.crop(0, 0, 100, 100)).abs().avg() < 25
    padded = render("w=100&h=100&fit=facearea&facepad=3&fm=png")
    # Three face sizes around the face: the face is a third of the output, so the output differs from the tight one.
    assert (padded - tight).abs().avg() > 10
    wide = render("w=300&h=100&fit=facearea&facepad=2")
    assert (wide.width, wide.height) == (300, 100)


def test_blur_and_pixelate_faces_hide_the_face_and_nothing_else() -> None:
    plain = render("w=256&fm=png")
    for query in ("w=256&blur-faces=1&fm=png", "w=256&px-faces=1&fm=png"):
        hidden = render(query)
        x, y, w, h = (round(side / 2) for side in FACE)
        face_change = (hidden.crop(x, y, w, h) - plain.crop(x, y, w, h)).abs().avg()
        corner_change = (hidden.crop(0, 180, 70, 70) - plain.crop(0, 180, 70, 70)).abs().avg()
        assert face_change > 8 and corner_change == 0, query
        assert detect_faces(hidden) == [], query  # no longer a face to the detector either


def test_face_parameters_are_checked() -> None:
    for query, name in (("facepad=0.1", "facepad"), ("faceindex=0", "faceindex"), ("blur-faces=yes", "blur-faces")):
        with pytest.raises(InvalidParameter) as caught:
            parse_query(query)
        assert caught.value.param == name
    assert parse_query("blur-faces=0") == parse_query("")  # off is the same key as not given


def test_a_large_source_is_scanned_small_and_answered_in_its_own_pixels() -> None:
    big = pyvips.Image.new_from_buffer(PORTRAIT, "").resize(8).copy_memory()  # 4096 px a side
    (face,) = detect_faces(big)
    assert near(face, tuple(8 * side for side in FACE), 60)  # type: ignore[arg-type]


def test_a_large_source_is_decoded_small_for_crop_faces_and_still_cut_at_the_face() -> None:
    large = bytes(pyvips.Image.new_from_buffer(PORTRAIT, "").resize(4).jpegsave_buffer(Q=90))  # 2048 px
    band = render("w=512&h=100&fit=crop&crop=faces", large)
    assert (band.width, band.height) == (512, 100)
    top = band_rows(band)
    face_centre = FACE[1] + FACE[3] / 2
    assert top <= face_centre - 30 and top + 100 >= face_centre + 30
    # The same band as from the small original, decoded at a quarter of the size by libjpeg.
    assert (band - render("w=512&h=100&fit=crop&crop=faces")).abs().avg() < 12
