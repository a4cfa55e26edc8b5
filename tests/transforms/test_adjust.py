"""Adjustments checked against expectations computed here, independently of the pipeline's arithmetic."""

from __future__ import annotations

import pytest
import pyvips

from tests.transforms.images import RED, WHITE, close, framed, jpeg, mean_rgb, noisy, png, solid, stddev
from tests.transforms.render import decoded, render
from transforms import vips
from transforms.errors import InvalidParameter

LUMA = (0.2126, 0.7152, 0.0722)
ORANGE = (200, 100, 50)


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips():
    vips.configure(concurrency=2)


def expected_tone(colour: tuple[int, ...], bri: int = 0, con: int = 0, sat: int = 0) -> tuple[int, ...]:
    """The documented formulas, worked out on one pixel in plain Python."""
    luma = sum(weight * channel for weight, channel in zip(LUMA, colour, strict=True))
    out = []
    for channel in colour:
        value = channel * (100 + sat) / 100 + luma * (1 - (100 + sat) / 100)
        value += bri * 2.55
        value = (value - 128) * (100 + con) / 100 + 128
        out.append(min(255, max(0, round(value))))
    return tuple(out)


# --- bri, con, sat ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["bri=20", "bri=-35", "bri=100", "con=50", "con=-100", "con=-30", "sat=-100", "sat=50", "sat=-40&bri=10&con=20"],
)
def test_tone_matches_the_documented_formulas(query):
    values = dict(item.split("=") for item in query.split("&"))
    expected = expected_tone(ORANGE, **{name: int(value) for name, value in values.items()})
    image = decoded(render(png(solid(20, 20, ORANGE)), query + "&fm=png"))
    assert close(mean_rgb(image, 0, 0, 20, 20), expected, 1), expected


def test_brightness_moves_the_mean_the_right_way():
    photo = png(noisy(64, 64))
    base = decoded(render(photo, "fm=png")).avg()
    assert decoded(render(photo, "bri=30&fm=png")).avg() > base + 30
    assert decoded(render(photo, "bri=-30&fm=png")).avg() < base - 30


def test_contrast_changes_the_spread_not_the_middle():
    photo = png(noisy(64, 64))
    base = stddev(decoded(render(photo, "fm=png")))
    assert stddev(decoded(render(photo, "con=60&fm=png"))) > base * 1.3
    assert stddev(decoded(render(photo, "con=-60&fm=png"))) < base * 0.6


def test_full_desaturation_gives_equal_channels():
    image = decoded(render(png(noisy(64, 64)), "sat=-100&fm=png"))
    red, green, blue = (image.extract_band(band) for band in range(3))
    assert (red - green).abs().max() == 0 and (green - blue).abs().max() == 0
    assert stddev(image) > 5  # grey, not flat


def test_saturation_up_spreads_the_channels():
    def spread(image: pyvips.Image) -> float:
        return float((image.extract_band(0) - image.extract_band(2)).abs().avg())

    photo = png(noisy(64, 64))
    assert spread(decoded(render(photo, "sat=80&fm=png"))) > 1.3 * spread(decoded(render(photo, "fm=png")))


def test_tone_leaves_alpha_and_grey_sources_alone():
    translucent = solid(10, 10, (*ORANGE, 90))
    image = decoded(render(png(translucent), "bri=20&sat=-100&fm=png"))
    assert image.bands == 4 and image(5, 5)[3] == 90
    grey = decoded(render(jpeg(solid(10, 10, (100,))), "bri=20&sat=-100&fm=png"))
    assert grey.bands == 1 and abs(grey(5, 5)[0] - 151) <= 1


# --- blur and sharp ---------------------------------------------------------------------------------------


def edge() -> pyvips.Image:
    """Black left half, white right half, 100x40."""
    return solid(100, 40, (0, 0, 0)).draw_rect([255, 255, 255], 50, 0, 50, 40, fill=True)


def transition(image: pyvips.Image) -> int:
    """How many columns along the middle row are neither black nor white."""
    row = [image(x, 20)[0] for x in range(image.width)]
    return sum(1 for value in row if 10 < value < 245)


@pytest.mark.parametrize(("blur", "wider_than"), [(20, 1), (200, 8), (2000, 30)])
def test_blur_widens_an_edge_and_keeps_the_size(blur, wider_than):
    image = decoded(render(png(edge()), f"blur={blur}&fm=png"))
    assert (image.width, image.height) == (100, 40)
    assert transition(image) > wider_than
    assert transition(decoded(render(png(edge()), "fm=png"))) == 0
    assert abs(image.avg() - 127.5) < 4  # a blur moves light around, it does not add any


def test_blur_of_a_transparent_image_has_no_dark_fringe():
    # A red square on clear pixels whose hidden colour is black: blurring unpremultiplied would darken the rim.
    source = solid(60, 60, (0, 0, 0, 0)).draw_rect([*RED, 255], 20, 20, 20, 20, fill=True)
    image = decoded(render(png(source), "blur=60&fm=png"))
    rim = image(20, 30)
    assert rim[3] < 250 and rim[0] > 180


def test_sharpen_steepens_a_soft_edge():
    soft = png(edge().gaussblur(2))
    before = decoded(render(soft, "fm=png"))
    after = decoded(render(soft, "sharp=100&fm=png"))
    assert transition(after) < transition(before)
    assert stddev(after) > stddev(before)
    flat = decoded(render(png(solid(30, 30, ORANGE)), "sharp=100&fm=png"))
    assert close(mean_rgb(flat, 0, 0, 30, 30), ORANGE, 1)  # nothing to sharpen, nothing changes


# --- pad ------------------------------------------------------------------------------------------------


def test_pad_adds_transparent_borders_without_a_size():
    image = decoded(render(png(solid(100, 50, RED)), "pad=10&fm=png"))
    assert (image.width, image.height, image.bands) == (120, 70, 4)
    assert image(5, 5)[3] == 0 and image(60, 35)[3] == 255


def test_pad_takes_bg_and_is_white_in_jpeg():
    blue = decoded(render(png(solid(100, 50, RED)), "pad=10&bg=00f&fm=png"))
    assert close(mean_rgb(blue, 0, 0, 120, 10), (0, 0, 255), 1)
    white = decoded(render(png(solid(100, 50, RED)), "pad=10&fm=jpg"))
    assert close(mean_rgb(white, 0, 0, 120, 8), WHITE, 3)


def test_padded_image_fits_the_requested_size():
    image = decoded(render(png(solid(200, 100, RED)), "w=100&pad=10&bg=000&fm=png"))
    # 80 px of image inside 10 px each side: 80x40, padded to 100x60.
    assert (image.width, image.height) == (100, 60)
    assert close(mean_rgb(image, 12, 12, 76, 36), RED, 3)
    assert close(mean_rgb(image, 0, 0, 100, 9), (0, 0, 0), 2)


def test_each_side_can_differ_and_dpr_scales_padding():
    image = decoded(render(png(solid(40, 40, RED)), "pad-left=20&pad-top=5&bg=0f0&fm=png"))
    assert (image.width, image.height) == (60, 45)
    assert close(mean_rgb(image, 0, 10, 18, 30), (0, 255, 0), 2)
    assert close(mean_rgb(image, 22, 7, 36, 36), RED, 3)
    doubled = decoded(render(png(solid(100, 100, RED)), "w=50&pad=5&dpr=2&fm=png"))
    assert (doubled.width, doubled.height) == (100, 100)  # (50 px with 5 px each side) × 2


def test_fill_and_pad_together():
    image = decoded(render(png(solid(100, 50, RED)), "w=100&h=100&fit=fill&pad=10&bg=00f&fm=png"))
    assert (image.width, image.height) == (100, 100)
    assert close(mean_rgb(image, 12, 35, 76, 28), RED, 3)
    assert close(mean_rgb(image, 0, 0, 100, 9), (0, 0, 255), 1)


def test_pad_leaving_no_room_is_refused():
    with pytest.raises(InvalidParameter) as caught:
        render(png(solid(100, 50, RED)), "w=20&pad=10")
    assert caught.value.param == "pad"


# --- trim -----------------------------------------------------------------------------------------------


def test_trim_auto_cuts_a_uniform_border():
    image = decoded(render(png(framed(120, 80, 15)), "trim=auto&fm=png"))
    assert (image.width, image.height) == (90, 50)
    assert close(mean_rgb(image, 0, 0, 90, 50), RED, 2)


def test_trim_auto_leaves_an_image_whose_corners_differ():
    source = framed(120, 80, 15).draw_rect([0, 0, 0], 0, 0, 5, 5, fill=True)
    image = decoded(render(png(source), "trim=auto&fm=png"))
    assert (image.width, image.height) == (120, 80)


def test_trim_color_cuts_that_colour_only():
    source = png(framed(120, 80, 15, outer=(0, 0, 0)))
    assert decoded(render(source, "trim=color&trim-color=000&fm=png")).width == 90
    assert decoded(render(source, "trim=color&trim-color=fff&fm=png")).width == 120
    assert decoded(render(source, "trim=color&fm=png")).width == 90  # default: the top-left pixel's colour


def test_trim_tolerance_and_jpeg_noise():
    near_white = png(framed(120, 80, 15, outer=(235, 235, 235)).draw_rect([255, 255, 255], 0, 0, 120, 1, fill=True))
    assert decoded(render(near_white, "trim=color&trim-color=fff&trim-tol=25&fm=png")).height == 50
    assert decoded(render(near_white, "trim=color&trim-color=fff&trim-tol=5&fm=png")).height == 79
    assert decoded(render(jpeg(framed(120, 80, 15)), "trim=auto&fm=png")).width in (89, 90, 91)


def test_trim_counts_transparency_as_border():
    source = solid(100, 100, (0, 0, 0, 0)).draw_rect([*RED, 255], 30, 40, 20, 10, fill=True)
    image = decoded(render(png(source), "trim=auto&fm=png"))
    assert (image.width, image.height) == (20, 10)


def test_sizes_after_trim_refer_to_the_trimmed_image():
    source = png(framed(120, 80, 20))  # 80x40 of red inside
    assert (render(source, "trim=auto&w=0.5").width, render(source, "trim=auto&w=0.5").height) == (40, 20)
    image = decoded(render(source, "trim=auto&w=40&h=40&fit=crop&fm=png"))
    assert close(mean_rgb(image, 0, 0, 40, 40), RED, 2)  # no white border came back


def test_rect_then_trim():
    source = png(framed(120, 80, 20))
    # rect (10..70, 10..70) has white corners; the red inside starts at 20 and ends at 60 down.
    image = decoded(render(source, "rect=10,10,60,60&trim=auto&fm=png"))
    assert (image.width, image.height) == (50, 40)
    assert close(mean_rgb(image, 0, 0, 50, 40), RED, 2)
    inside = decoded(render(source, "rect=0,0,120,50&trim=color&trim-color=fff&fm=png"))
    assert (inside.width, inside.height) == (80, 30)
