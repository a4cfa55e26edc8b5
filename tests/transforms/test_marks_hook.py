"""The pipeline's mark step: a MarkSpec is stamped on the finished pixels of every frame."""

from __future__ import annotations

import pytest

from tests.transforms.images import RED, animation, close, frames_of, gif, mean_rgb, png, quadrants, solid
from tests.transforms.render import decoded
from transforms import marks, vips
from transforms.negotiate import choose_format
from transforms.params import parse_query
from transforms.pipeline import Output, PixelBudget, run

BLUE = (0, 0, 255)


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips():
    vips.configure(concurrency=2)


@pytest.fixture(scope="module")
def blue_square():
    """A 10x10 opaque blue mark in the top-left corner, no padding."""
    return marks.MarkSpec(image=png(solid(10, 10, BLUE)), align=("top", "left"), pad=0)


def stamped(data: bytes, query: str, mark) -> Output:
    options = parse_query(query)
    chosen, _ = choose_format(options, None)
    return run(data, options, chosen, PixelBudget(), mark=mark)


def test_a_still_gets_the_mark(blue_square):
    image = decoded(stamped(png(solid(100, 60, RED)), "w=50&fm=png", blue_square))
    assert (image.width, image.height) == (50, 30)
    assert close(mean_rgb(image, 1, 1, 8, 8), BLUE, 2)
    assert close(mean_rgb(image, 20, 10, 20, 10), RED, 3)


def test_without_a_mark_nothing_is_stamped():
    image = decoded(stamped(png(solid(100, 60, RED)), "w=50&fm=png", None))
    assert close(mean_rgb(image, 1, 1, 8, 8), RED, 3)


def test_every_frame_of_an_animation_gets_the_mark(blue_square):
    output = stamped(gif(animation(10)), "w=60", blue_square)
    frames = frames_of(output.data)
    assert len(frames) == 10
    for frame in frames:
        assert (frame.width, frame.height) == (60, 40)
        assert close(mean_rgb(frame, 1, 1, 8, 8), BLUE, 30)  # GIF's palette may shift it a little


def test_the_mark_goes_on_after_turning_blurring_and_padding(blue_square):
    image = decoded(stamped(png(quadrants()), "orient=90&blur=200&pad=5&bg=fff&fm=png", blue_square))
    assert (image.width, image.height) == (110, 210)
    # Top-left of the turned, blurred, padded output, and crisp: not turned, not blurred, not cut.
    assert close(mean_rgb(image, 0, 0, 10, 10), BLUE, 2)
    assert not close(mean_rgb(image, 12, 0, 10, 4), BLUE, 60)


def test_a_grey_output_takes_a_coloured_mark(blue_square):
    from tests.transforms.images import jpeg

    image = decoded(stamped(jpeg(solid(40, 40, (90,))), "fm=png", blue_square))
    assert image.bands >= 3
    assert close(mean_rgb(image, 1, 1, 8, 8), BLUE, 2)


def test_info_is_not_marked(blue_square):
    data = png(solid(40, 40, RED))
    assert stamped(data, "fm=json", blue_square).data == stamped(data, "fm=json", None).data
