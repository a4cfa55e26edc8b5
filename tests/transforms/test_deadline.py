"""A run's deadline: checked between steps, and inside libvips through the loaded image's progress signal."""

from __future__ import annotations

import time
from typing import Any

import pytest
import pyvips

from tests.transforms.images import png, solid
from tests.transforms.render import decoded
from transforms import vips
from transforms.deadline import Deadline
from transforms.errors import RenderTimedOut
from transforms.params import parse_query
from transforms.pipeline import PixelBudget, run

# Upscaled to 8000x8000 and blurred, then PNG-compressed: about 9 s of one core here, every part of it computed in
# libvips work units, from a source of a few kilobytes.
SLOW = "w=8000&h=8000&fit=scale&blur=2000&fm=png&auto=compress"


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips() -> None:
    vips.configure(concurrency=1)


@pytest.fixture(scope="module")
def pattern() -> bytes:
    xyz = pyvips.Image.xyz(256, 256)
    image = ((xyz[0] ^ xyz[1]) % 256).cast("uchar").bandjoin([xyz[0].cast("uchar"), xyz[1].cast("uchar")])
    return png(image.copy(interpretation="srgb"))


class _Clock:
    """A clock that reads ``start`` until it has been read ``reads`` times, then ``later``."""

    def __init__(self, reads: int, start: float = 0.0, later: float = 100.0) -> None:
        self.reads, self.start, self.later, self.count = reads, start, later, 0

    def __call__(self) -> float:
        self.count += 1
        return self.start if self.count <= self.reads else self.later


def test_no_deadline_never_passes() -> None:
    deadline = Deadline(None, clock=_Clock(0))
    assert not deadline.passed
    deadline.check()


def test_check_raises_once_the_clock_passes_the_deadline() -> None:
    deadline = Deadline(10.0, clock=_Clock(1))
    deadline.check()
    with pytest.raises(RenderTimedOut):
        deadline.check()


def test_a_watched_image_stops_mid_computation_once_the_deadline_passes() -> None:
    clock = _Clock(3)
    deadline = Deadline(10.0, clock=clock)
    image = solid(2000, 2000, (10, 20, 30))
    deadline.watch(image)
    with pytest.raises(pyvips.Error):
        image.resize(1.5).pngsave_buffer()  # downstream of the watched image: stopped there too
    # Stopped at the first work unit after the clock passed, not run to the end (which takes ~70 units).
    assert 3 < clock.count < 10


def test_a_watched_image_within_its_deadline_computes_as_usual() -> None:
    deadline = Deadline(10.0, clock=_Clock(10**9))
    image = solid(600, 400, (10, 20, 30))
    deadline.watch(image)
    out: Any = pyvips.Image.new_from_buffer(image.resize(0.5).pngsave_buffer(), "")
    assert (out.width, out.height) == (300, 200)


def test_a_run_past_its_deadline_raises_between_steps(pattern: bytes) -> None:
    with pytest.raises(RenderTimedOut):
        run(pattern, parse_query("w=100"), None, PixelBudget(), deadline=time.monotonic() - 1)


def test_a_run_within_its_deadline_renders(pattern: bytes) -> None:
    output = run(pattern, parse_query("w=100&fm=png"), None, PixelBudget(), deadline=time.monotonic() + 60)
    assert (decoded(output).width, output.height) == (100, 100)


def test_a_slow_run_stops_inside_libvips_soon_after_its_deadline(pattern: bytes) -> None:
    started = time.monotonic()
    with pytest.raises(RenderTimedOut):
        run(pattern, parse_query(SLOW), None, PixelBudget(), deadline=started + 0.3)
    # The encode alone would take ~9 s; stopped within a work unit of the deadline (slack for a busy machine).
    assert time.monotonic() - started < 3.0
