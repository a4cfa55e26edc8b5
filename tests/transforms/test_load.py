"""The hot path stays one libvips call: which requests decode with thumbnail's shrink-on-load, which at full size."""

from __future__ import annotations

import pytest

from tests.transforms.images import animation, gif, jpeg, noisy
from transforms import vips
from transforms.negotiate import choose_format
from transforms.params import parse_query
from transforms.pipeline import PixelBudget
from transforms.steps.context import Context, Done
from transforms.steps.header import read_header
from transforms.steps.layout import layout
from transforms.steps.load import load


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips():
    vips.configure(concurrency=1)


def loaded(data: bytes, query: str) -> Context:
    options = parse_query(query)
    chosen, _ = choose_format(options, None)
    ctx = Context(original=data, options=options.normalised(), chosen=chosen, budget=PixelBudget())
    for step in (read_header, layout, load):
        step(ctx)
    return ctx


@pytest.mark.parametrize(
    "query",
    [
        "w=100",
        "w=100&h=100&fit=crop&fm=webp",
        "w=100&h=100&fit=crop&crop=attention",
        "w=100&h=100&fit=crop&crop=focalpoint&fp-x=0.2",  # scaled in the one call, the window cut after
        "w=0.5",
        "w=100&ar=16:9&fit=crop",
        "rect=0,0,200,200&w=100",  # the cut taken from a decode scaled for its own 2x reduction
        # Everything that works on the output leaves the decode alone.
        "w=100&orient=90&flip=h&blur=20&sharp=10&bri=5&con=5&sat=-100&pad=4&bg=000&q=50&auto=compress",
    ],
)
def test_resizes_decode_in_one_thumbnail_call(query):
    ctx = loaded(jpeg(noisy(400, 300)), query)
    assert Done.RESIZED in ctx.done


@pytest.mark.parametrize("query", ["rect=0,0,300,300&w=200", "trim=auto&w=100", "fm=png", "orient=90"])
def test_cuts_before_the_resize_decode_at_full_size(query):
    ctx = loaded(jpeg(noisy(400, 300)), query)
    assert Done.RESIZED not in ctx.done
    assert (ctx.image.width, ctx.image.height) == (400, 300)


def test_animations_resize_in_one_call_unless_frames_must_be_cut():
    data = gif(animation(10))
    plain = loaded(data, "w=60")
    assert Done.RESIZED in plain.done and plain.pages == 10 and plain.image.height == 400
    cut = loaded(data, "w=60&h=60&fit=crop")
    assert Done.RESIZED not in cut.done and cut.pages == 10 and cut.image.height == 800
    still = loaded(data, "w=60&fm=jpg")
    assert still.pages == 1 and still.image.height == 40
