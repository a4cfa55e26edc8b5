"""Geometry of the full vocabulary, checked on the output pixels: sizes, and where cuts and turns land."""

from __future__ import annotations

import pytest

from tests.transforms.images import (
    BLUE,
    GREEN,
    RED,
    WHITE,
    YELLOW,
    close,
    corners,
    dot,
    jpeg,
    mean_rgb,
    noisy,
    png,
    quadrants,
    solid,
    stddev,
)
from tests.transforms.render import decoded, render
from transforms import vips
from transforms.errors import InvalidParameter


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips():
    vips.configure(concurrency=2)


@pytest.fixture(scope="module")
def four() -> bytes:
    """200x100: red, green / blue, yellow quadrants of 100x50."""
    return png(quadrants())


def colour_is(pixel: tuple[float, ...], expected: tuple[int, ...]) -> bool:
    return close(pixel, expected, 12)


# --- rect ---------------------------------------------------------------------------------------------


def test_rect_takes_a_region_of_the_source_before_resizing(four):
    image = decoded(render(four, "rect=100,0,100,50"))
    assert (image.width, image.height) == (100, 50)
    assert colour_is(mean_rgb(image, 0, 0, 100, 50), GREEN)
    resized = decoded(render(four, "rect=50,25,100,50&w=50"))
    assert (resized.width, resized.height) == (50, 25)
    # The middle of the source: all four colours, one per corner.
    assert [colour_is(c, e) for c, e in zip(corners(resized, 1), (RED, GREEN, BLUE, YELLOW), strict=True)] == [True] * 4


def test_rect_refers_to_the_upright_source(four):
    from tests.transforms.images import oriented_jpeg, quadrants

    # Stored 100x200 with orientation 6: upright it is the 200x100 quadrants image.
    stored = quadrants().rot("d270")
    image = decoded(render(oriented_jpeg(stored, 6), "rect=0,50,100,50&fm=png"))
    assert (image.width, image.height) == (100, 50)
    assert colour_is(mean_rgb(image, 10, 10, 80, 30), BLUE)


@pytest.mark.parametrize("rect", ["150,0,100,50", "0,60,10,41", "200,0,1,1"])
def test_rect_outside_the_image_names_rect(four, rect):
    with pytest.raises(InvalidParameter) as caught:
        render(four, f"rect={rect}")
    assert caught.value.param == "rect"
    assert "200x100" in caught.value.message


# --- ratios and aspect ratio ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("w=0.5", (100, 50)),
        ("h=0.1", (20, 10)),
        ("w=0.5&dpr=2", (200, 100)),
        ("w=0.25&h=0.5&fit=scale", (50, 50)),
        ("rect=0,0,100,100&w=0.5", (50, 50)),  # a ratio of what rect left
        ("w=100&ar=1:1&fit=crop", (100, 100)),
        ("h=30&ar=16:9&fit=crop", (53, 30)),
        ("w=100&ar=1:1", (100, 50)),  # clip inside the 100x100 box
        ("ar=1:1&fit=crop", (100, 100)),  # no size: the largest square in the source
        ("w=160&ar=16:9&fit=fill", (160, 80)),  # as in imgix, ar shapes the box only for the fits that cut
    ],
)
def test_ratio_sizes_and_aspect_ratio(four, query, size):
    output = render(four, query)
    assert (output.width, output.height) == size
    assert decoded(output).width == size[0]


# --- smartcrop and focal point --------------------------------------------------------------------------


def test_crop_entropy_keeps_the_busy_part():
    # 300x100: flat grey on the left two thirds, noise on the right third.
    source = solid(300, 100, (128, 128, 128)).insert(noisy(100, 100), 200, 0)
    data = png(source)
    busy = decoded(render(data, "w=100&h=100&fit=crop&crop=entropy"))
    flat = decoded(render(data, "w=100&h=100&fit=crop&crop=left"))
    assert (busy.width, busy.height) == (100, 100)
    assert stddev(busy) > 20 > 1 > stddev(flat)


def test_crop_attention_keeps_what_draws_the_eye():
    source = solid(400, 100, (120, 120, 120)).draw_rect(list(RED), 330, 30, 40, 40, fill=True)
    image = decoded(render(png(source), "w=100&h=100&fit=crop&crop=attention"))
    assert (image.width, image.height) == (100, 100)
    reds = (image.extract_band(0) > 180).ifthenelse(1, 0).avg()
    assert reds > 0.1  # the red square is in the cut (centre or left cuts hold none of it)


@pytest.mark.parametrize("fit", ["crop", "min"])
def test_smartcrop_works_for_both_cutting_fits(fit):
    source = solid(400, 100, (120, 120, 120)).draw_rect(list(RED), 20, 30, 40, 40, fill=True)
    image = decoded(render(png(source), f"w=100&h=100&fit={fit}&crop=attention"))
    assert (image.width, image.height) == (100, 100)
    assert (image.extract_band(0) > 180).ifthenelse(1, 0).avg() > 0.1


def test_focal_point_centres_the_window_on_it():
    # A red dot at (300, 50) of 400x200: fp = (0.75, 0.25).
    data = png(dot(400, 200, 300, 50, radius=10))
    image = decoded(render(data, "w=100&h=100&fit=crop&crop=focalpoint&fp-x=0.75&fp-y=0.25&fp-z=2"))
    assert (image.width, image.height) == (100, 100)
    assert colour_is(mean_rgb(image, 47, 47, 6, 6), RED)  # the dot, in the middle
    assert close(mean_rgb(image, 0, 0, 20, 20), WHITE, 3)


def test_focal_point_near_an_edge_stops_at_the_edge():
    data = png(dot(400, 200, 395, 195, radius=4))
    image = decoded(render(data, "w=100&h=100&fit=crop&crop=focalpoint&fp-x=1&fp-y=1&fp-z=2"))
    assert (image.width, image.height) == (100, 100)
    assert colour_is(mean_rgb(image, 92, 92, 6, 6), RED)  # at the bottom-right corner, not off the image


def test_focal_zoom_magnifies():
    data = png(dot(400, 200, 200, 100, radius=10))

    def dot_share(query: str) -> float:
        image = decoded(render(data, query))
        return float((image.extract_band(1) < 100).ifthenelse(1, 0).avg())

    base = "w=100&h=100&fit=crop&crop=focalpoint"
    assert dot_share(base + "&fp-z=4") > 3 * dot_share(base + "&fp-z=2") > 0


# --- gravity for every fit that cuts or pads ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fit", "crop", "expected"),
    [
        ("crop", "top,left", RED),  # 200x100 covering 40x40 overflows sideways: left keeps red/blue side
        ("crop", "top,right", GREEN),
        ("crop", "bottom,right", GREEN),  # only the overflowing axis matters: top half is what stays on top
        ("min", "left", RED),
        ("min", "right", GREEN),
    ],
)
def test_gravity_chooses_the_kept_side(four, fit, crop, expected):
    image = decoded(render(four, f"w=40&h=40&fit={fit}&crop={crop}"))
    assert (image.width, image.height) == (40, 40)
    assert colour_is(mean_rgb(image, 2, 2, 8, 8), expected)


@pytest.mark.parametrize(
    ("crop", "image_at"),
    [("top,left", (0, 0)), ("top,right", (100, 0)), ("bottom,left", (0, 100)), ("bottom,right", (100, 100))],
)
def test_fill_places_the_image_at_corner_gravity(crop, image_at):
    image = decoded(render(png(solid(100, 50, RED)), f"w=200&h=200&fit=fill&crop={crop}&bg=0000ff"))
    assert (image.width, image.height) == (200, 200)
    left, top = image_at
    top = top if top == 0 else 150
    assert colour_is(mean_rgb(image, left + 5, top + 5, 90, 40), RED)
    other_top = 150 if top == 0 else 0
    assert close(mean_rgb(image, left + 5, other_top + 5, 90, 40), (0, 0, 255), 3)


# --- rot and flip on an asymmetric image -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "size", "expected"),
    [
        # corners: top-left, top-right, bottom-left, bottom-right
        ("", (200, 100), (RED, GREEN, BLUE, YELLOW)),
        ("orient=90", (100, 200), (BLUE, RED, YELLOW, GREEN)),  # clockwise: the left edge goes to the top
        ("orient=180", (200, 100), (YELLOW, BLUE, GREEN, RED)),
        ("orient=270", (100, 200), (GREEN, YELLOW, RED, BLUE)),
        ("flip=h", (200, 100), (GREEN, RED, YELLOW, BLUE)),
        ("flip=v", (200, 100), (BLUE, YELLOW, RED, GREEN)),
        ("flip=hv", (200, 100), (YELLOW, BLUE, GREEN, RED)),
        ("orient=90&flip=h", (100, 200), (RED, BLUE, GREEN, YELLOW)),  # flip after the turn
        ("orient=90&w=50", (50, 100), (BLUE, RED, YELLOW, GREEN)),  # w is the turned output's width
    ],
)
def test_rot_and_flip(four, query, size, expected):
    image = decoded(render(four, query + ("&" if query else "") + "fm=png"))
    assert (image.width, image.height) == size
    found = corners(image)
    assert all(colour_is(c, e) for c, e in zip(found, expected, strict=True)), found


def test_rot_comes_after_the_exif_orientation():
    from tests.transforms.images import oriented_jpeg

    # Stored turned a quarter anticlockwise with orientation 6: upright, it is the quadrants image again.
    source = oriented_jpeg(quadrants().rot("d270"), 6)
    image = decoded(render(source, "orient=90&fm=png"))
    assert (image.width, image.height) == (100, 200)
    found = corners(image)
    assert all(colour_is(c, e) for c, e in zip(found, (BLUE, RED, YELLOW, GREEN), strict=True)), found


def test_gravity_and_padding_name_the_turned_output(four):
    # After a quarter turn the output's top is the source's left: crop=top keeps the red and blue half.
    for crop, expected in (("top", (BLUE, RED, BLUE, RED)), ("bottom", (YELLOW, GREEN, YELLOW, GREEN))):
        image = decoded(render(four, f"w=40&h=40&fit=crop&crop={crop}&orient=90&fm=png"))
        assert (image.width, image.height) == (40, 40)
        found = corners(image)
        assert all(colour_is(c, e) for c, e in zip(found, expected, strict=True)), (crop, found)
    padded = decoded(render(four, "pad-left=10&orient=90&bg=000&fm=png"))
    assert (padded.width, padded.height) == (110, 200)
    assert close(mean_rgb(padded, 0, 0, 10, 200), (0, 0, 0), 2)


def test_jpeg_source_turns_too():
    image = decoded(render(jpeg(quadrants()), "orient=270&w=60"))
    assert (image.width, image.height) == (60, 120)
    found = corners(image)
    assert all(colour_is(c, e) for c, e in zip(found, (GREEN, YELLOW, RED, BLUE), strict=True)), found
