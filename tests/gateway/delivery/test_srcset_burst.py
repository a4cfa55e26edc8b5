"""A srcset burst: several widths of one original missing at once fetch it from the origin once, and share
one decode while they overlap (the decode's own behaviour: tests/transforms/test_scale_on_load.py)."""

from __future__ import annotations

import asyncio
import time

import pytest
import pyvips

from gateway.cache.originals import DecodeShares
from tests.gateway.delivery.parts import PHOTOS, Parts, request
from tests.support.memory_source import MemorySource
from transforms.params import parse_query

WIDTHS = (32, 64, 96, 128, 160)


@pytest.mark.anyio
async def test_the_widths_of_one_original_share_one_fetch() -> None:
    # A slow origin, so that every width is in flight before the first fetch is back.
    parts = Parts(source=MemorySource(dict(PHOTOS), delay=0.2))
    parts.workspace("acme")
    try:
        answers = await asyncio.gather(
            *(parts.path.serve(request(f"/acme/photo-grey.jpg?w={width}&fm=jpg")) for width in WIDTHS)
        )
        assert parts.source.fetches == 1
        assert [answer.tier for answer in answers] == ["miss"] * len(WIDTHS)
        assert [pyvips.Image.new_from_buffer(answer.body, "").width for answer in answers] == list(WIDTHS)
        # Another original is fetched on its own, and a failed fetch is not shared with later requests.
        missing = await asyncio.gather(
            *(parts.path.serve(request(f"/acme/nothing.jpg?w={width}")) for width in WIDTHS[:2])
        )
        assert [answer.status for answer in missing] == [404, 404]
        assert parts.source.fetches == 2
        again = await parts.path.serve(request("/acme/nothing.jpg?w=32"))
        assert again.status == 404 and parts.source.fetches == 3
    finally:
        await parts.aclose()


def test_a_burst_shares_one_decode_while_its_misses_overlap_and_drops_it_after() -> None:
    shares = DecodeShares(max_bytes=1024, window=60.0)
    small, large = parse_query("w=320"), parse_query("w=1920")
    with shares.joined("acme\x00photo", small) as first, shares.joined("acme\x00photo", large) as second:
        assert first is second and first is not None
        assert first.wanted == [small, large]
        with shares.joined("acme\x00other", small) as other:
            assert other is not first
    assert len(shares) == 0  # nothing is held once the burst is over
    with shares.joined("acme\x00photo", small) as again:
        assert again is not first


def test_a_miss_after_the_window_decodes_on_its_own() -> None:
    shares = DecodeShares(max_bytes=1024, window=0.0)
    with shares.joined("acme\x00photo", parse_query("w=320")) as first:
        time.sleep(0.01)
        with shares.joined("acme\x00photo", parse_query("w=640")) as late:
            assert first is not None and late is None
            assert len(first.wanted) == 1
