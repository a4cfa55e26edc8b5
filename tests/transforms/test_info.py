"""fm=json: the source described, checked against what libvips itself reports."""

from __future__ import annotations

import base64
import json
import math

import pytest
import pyvips

from tests.transforms import thumbhash_decode
from tests.transforms.images import RED, animation, gif, jpeg, oriented_jpeg, png, png_bomb, quadrants, solid, svg
from tests.transforms.render import render
from transforms import vips
from transforms.errors import ImageTooLarge
from transforms.info import FIELDS
from transforms.negotiate import choose_format
from transforms.options import Format
from transforms.params import parse_query
from transforms.sniff import sniff

CORPUS_FILES = [
    "photo-kite.jpg",
    "photo-grey.jpg",
    "photo-colorfulcups.jpg",
    "alpha-elarun.png",
    "alpha-flyingkonqui-icc.png",
    "webp-adwaita-4096.webp",
    "vector-blobs.svg",
]


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips():
    vips.configure(concurrency=2)


def info(data: bytes, query: str = "fm=json") -> dict[str, object]:
    output = render(data, query)
    assert output.format is Format.JSON and output.content_type == "application/json"
    answer: dict[str, object] = json.loads(output.data)
    assert list(answer) == list(FIELDS)
    return answer


def placeholder(answer: dict[str, object]) -> bytes:
    return base64.b64decode(str(answer["thumbhash"]), validate=True)


def assert_shape(hash_: bytes, width: int, height: int) -> None:
    """The placeholder decodes to the image's orientation and, within the format's coarse steps, its aspect."""
    ratio = thumbhash_decode.aspect_ratio(hash_)
    decoded_width, decoded_height, _ = thumbhash_decode.decode(hash_)
    assert (decoded_width > decoded_height) == (width > height) or width == height
    assert abs(math.log(ratio / (width / height))) < math.log(1.25)


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_fields_match_what_libvips_reports(corpus, name):
    data = (corpus / name).read_bytes()
    header = pyvips.Image.new_from_buffer(data, "")
    answer = info(data)
    orientation = header.get("orientation") if header.get_typeof("orientation") else 1
    assert answer["width"] == header.width and answer["height"] == header.height
    assert answer["format"] == str(sniff(data))
    assert answer["bytes"] == len(data)
    assert answer["has_alpha"] is bool(header.hasalpha())
    assert answer["frames"] == (header.get("n-pages") if header.get_typeof("n-pages") else 1)
    assert answer["orientation"] == orientation
    upright: tuple[int, int] = (
        (header.height, header.width) if orientation in (5, 6, 7, 8) else (header.width, header.height)
    )
    assert (answer["upright_width"], answer["upright_height"]) == upright
    assert_shape(placeholder(answer), *upright)


def test_corpus_photo_placeholder_and_colour_look_like_the_photo(corpus):
    data = (corpus / "photo-kite.jpg").read_bytes()
    answer = info(data)
    small = pyvips.Image.thumbnail_buffer(data, 64).copy_memory()
    mean = [small.extract_band(band).avg() for band in range(3)]
    average = thumbhash_decode.average_rgb(placeholder(answer))
    assert all(abs(a - m) < 25 for a, m in zip(average, mean, strict=True)), (average, mean)
    assert str(answer["dominant_color"]).startswith("#") and len(str(answer["dominant_color"])) == 7


def test_orientation_and_upright_size():
    answer = info(oriented_jpeg(solid(200, 100, RED), 6))
    assert (answer["width"], answer["height"], answer["orientation"]) == (200, 100, 6)
    assert (answer["upright_width"], answer["upright_height"]) == (100, 200)
    assert_shape(placeholder(answer), 100, 200)  # what the viewer sees: portrait


def test_animation_counts_frames_and_reports_one_frame_size():
    answer = info(gif(animation(10, 120, 80)))
    assert (answer["width"], answer["height"], answer["frames"], answer["format"]) == (120, 80, 10, "gif")


def test_dominant_colour_is_the_most_common_one():
    image = solid(100, 100, (0, 0, 255)).draw_rect(list(RED), 0, 0, 30, 100, fill=True)
    assert info(png(image))["dominant_color"] == "#0000ff"
    grey_source = info(jpeg(solid(40, 40, (90,))))
    assert grey_source["dominant_color"] == "#5a5a5a"
    clear = info(png(solid(20, 20, (10, 20, 30, 0))))
    assert clear["dominant_color"] is None and clear["has_alpha"] is True


def test_placeholder_shape_for_portrait_and_landscape():
    assert_shape(placeholder(info(png(quadrants(300, 100)))), 300, 100)
    assert_shape(placeholder(info(png(quadrants(60, 240)))), 60, 240)
    assert_shape(placeholder(info(svg(40, 20, '<rect width="40" height="20" fill="red"/>'))), 40, 20)


def test_other_parameters_do_not_change_info():
    data = png(quadrants())
    assert render(data, "fm=json").data == render(data, "fm=json&w=10&orient=90&blur=50&sat=-100").data
    assert parse_query("fm=json&w=10&orient=90").canonical() == "fm=json"


def test_info_is_chosen_without_vary():
    assert choose_format(parse_query("fm=json&auto=format"), "image/avif,*/*") == (Format.JSON, False)


def test_info_keeps_the_pixel_budget():
    with pytest.raises(ImageTooLarge):
        render(png_bomb(), "fm=json")
