"""Animated GIF and WebP: frames kept and resized one by one, budgets from the header, stills on request."""

from __future__ import annotations

import pytest
import pyvips

from tests.transforms.images import animation, close, frame_colour, frames_of, gif, mean_rgb, webp
from tests.transforms.render import render
from transforms import vips
from transforms.errors import ImageTooLarge, InvalidParameter
from transforms.options import Format
from transforms.pipeline import PixelBudget

AVIF_FIRST = "image/avif,image/webp,*/*"


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips():
    vips.configure(concurrency=2)


@pytest.fixture(scope="module")
def ten_gif() -> bytes:
    return gif(animation(10))


@pytest.fixture(scope="module")
def ten_webp() -> bytes:
    return webp(animation(10), lossless=True)


def assert_frames_in_order(frames: list[pyvips.Image], tolerance: float = 30) -> None:
    """Frame i still shows frame i's colour, right of the white bar."""
    for index, frame in enumerate(frames):
        right = frame.width // 2
        assert close(mean_rgb(frame, right, 0, frame.width - right, frame.height), frame_colour(index), tolerance), (
            index
        )


@pytest.mark.parametrize("source", ["ten_gif", "ten_webp"])
def test_ten_frames_stay_ten_after_resize(request, source):
    data = request.getfixturevalue(source)
    output = render(data, "w=60")
    assert output.format is Format(source.split("_")[1])
    assert (output.width, output.height) == (60, 40)
    frames = frames_of(output.data)
    assert len(frames) == 10
    assert all((frame.width, frame.height) == (60, 40) for frame in frames)
    assert_frames_in_order(frames)


def test_timing_and_loop_are_kept(ten_gif):
    for fm in ("gif", "webp"):
        decoded = pyvips.Image.new_from_buffer(render(ten_gif, f"w=60&fm={fm}").data, "", n=-1)
        assert decoded.get("delay") == [70] * 10
        assert decoded.get("loop") == 3


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("w=50&h=50&fit=crop", (50, 50)),
        ("w=50&h=50&fit=crop&crop=right", (50, 50)),
        ("w=100&h=100&fit=fill&bg=000", (100, 100)),
        ("orient=90&w=40", (40, 60)),
        ("rect=60,0,60,80", (60, 80)),
        ("pad=5&w=70", (70, 50)),  # 60x40 inside 5 px each side
        ("w=60&h=60&fit=crop&crop=focalpoint&fp-x=1", (60, 60)),
        ("w=30&blur=40&sat=-100", (30, 20)),
    ],
)
def test_geometry_applies_to_every_frame(ten_gif, query, size):
    output = render(ten_gif, query)
    frames = frames_of(output.data)
    assert len(frames) == 10
    assert all((frame.width, frame.height) == size for frame in frames), query
    assert (output.width, output.height) == size


def test_cuts_land_in_the_same_place_in_every_frame(ten_gif):
    # crop=right keeps the right of each frame: no white bar (it is on the left) in any frame.
    frames = frames_of(render(ten_gif, "w=50&h=50&fit=crop&crop=right").data)
    assert_frames_in_order(frames)
    for frame in frames:
        assert not close(mean_rgb(frame, 0, 0, 5, 50), (255, 255, 255), 30)
    # crop=left keeps the bar in every frame.
    for frame in frames_of(render(ten_gif, "w=50&h=50&fit=crop&crop=left").data):
        assert close(mean_rgb(frame, 0, 0, 5, 50), (255, 255, 255), 30)


def test_frames_are_turned_one_by_one(ten_gif):
    frames = frames_of(render(ten_gif, "orient=90").data)
    assert len(frames) == 10 and (frames[0].width, frames[0].height) == (80, 120)
    for frame in frames:
        assert close(mean_rgb(frame, 0, 0, 80, 15), (255, 255, 255), 30)  # the left bar is now on top
    assert_frames_in_order([frame.rot("d270") for frame in frames])


def test_frame_takes_one_still(ten_gif):
    output = render(ten_gif, "frame=4&w=60")
    frames = frames_of(output.data)
    assert len(frames) == 1
    assert close(mean_rgb(frames[0], 30, 0, 30, 40), frame_colour(3), 30)


def test_a_frame_the_image_does_not_have_names_frame(ten_gif):
    with pytest.raises(InvalidParameter) as caught:
        render(ten_gif, "frame=11")
    assert caught.value.param == "frame"
    assert render(gif(animation(1)), "frame=1").width == 120
    with pytest.raises(InvalidParameter):
        render(gif(animation(1)), "frame=2")


@pytest.mark.parametrize("fm", ["jpg", "png", "avif"])
def test_still_formats_take_the_first_frame(ten_gif, fm):
    output = render(ten_gif, f"w=60&fm={fm}")
    frames = frames_of(output.data)
    assert len(frames) == 1
    assert close(mean_rgb(frames[0], 30, 0, 30, 40), frame_colour(0), 30)


def test_auto_format_keeps_an_animation_moving(ten_gif):
    output = render(ten_gif, "w=60&auto=format", accept=AVIF_FIRST)
    assert output.format is Format.WEBP
    assert len(frames_of(output.data)) == 10
    still = render(gif(animation(1)), "w=60&auto=format", accept=AVIF_FIRST)
    assert still.format is Format.AVIF
    one = render(ten_gif, "w=60&auto=format&frame=2", accept=AVIF_FIRST)
    assert one.format is Format.AVIF


def test_summed_frames_beyond_the_pixel_budget_are_refused_from_the_header(ten_gif):
    one_frame, all_frames = 120 * 80, 120 * 80 * 10
    tight = PixelBudget(max_pixels=all_frames - 1)
    with pytest.raises(ImageTooLarge) as caught:
        render(ten_gif, "w=60", budget=tight)
    assert "all its frames" in caught.value.message
    # One frame fits: a still from the same animation is fine under the same budget.
    assert len(frames_of(render(ten_gif, "w=60&frame=1", budget=tight).data)) == 1
    assert render(ten_gif, "w=60&fm=png", budget=PixelBudget(max_pixels=one_frame)).width == 60
    assert len(frames_of(render(ten_gif, "w=60", budget=PixelBudget(max_pixels=all_frames)).data)) == 10


def test_frame_count_cap(ten_gif):
    with pytest.raises(ImageTooLarge) as caught:
        render(ten_gif, "w=60", budget=PixelBudget(max_frames=9))
    assert caught.value.message == "the animation has more than 9 frames"
    assert len(frames_of(render(ten_gif, "w=60", budget=PixelBudget(max_frames=10)).data)) == 10
