"""A run with a deadline leaves no image behind for the cyclic collector: its images (and their decoders) go with it.

The deadline's handler, connected to the loaded image, holds the deadline, which holds the image: a cycle. A
worker whose cycles wait for the collector keeps every such image's decoder mapped (a progressive 5120 px JPEG's
is ~90 MB) until a full collection, which a worker between bursts may never reach.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator

import pytest
import pyvips

from tests.transforms.images import jpeg
from transforms import vips
from transforms.params import parse_query
from transforms.pipeline import PixelBudget, run


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips() -> None:
    vips.configure(concurrency=1)


@pytest.fixture
def no_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _live_images() -> int:
    return sum(1 for thing in gc.get_objects() if isinstance(thing, pyvips.Image))


@pytest.mark.usefixtures("no_collector")
@pytest.mark.parametrize("query", ["w=300&fm=jpg", "w=300&fm=webp", "w=300&h=300&fit=crop&crop=entropy&fm=jpg"])
def test_a_run_with_a_deadline_frees_its_images_without_a_collection(query: str) -> None:
    xyz = pyvips.Image.xyz(1600, 1000)
    image = ((xyz[0] ^ xyz[1]) % 256).cast("uchar").bandjoin([xyz[0].cast("uchar"), xyz[1].cast("uchar")])
    source = jpeg(image.copy(interpretation="srgb"))
    del xyz, image
    before = _live_images()
    output = run(source, parse_query(query), None, PixelBudget(), deadline=time.monotonic() + 60)
    assert output.width == 300
    assert _live_images() == before
