from __future__ import annotations

import pyvips

from gateway.capture.redact import Box, black_out, page_boxes_to_pixels


def test_boxes_map_from_page_to_image_pixels() -> None:
    boxes = page_boxes_to_pixels([[110.0, 220.0, 30.0, 40.0]], origin=(100.0, 200.0), scale=2.0, size=(1000, 1000))
    assert boxes == [Box(20, 40, 60, 80)]


def test_fractional_edges_round_outwards() -> None:
    (box,) = page_boxes_to_pixels([[10.4, 10.6, 5.2, 5.2]], origin=(0.0, 0.0), scale=1.5, size=(100, 100))
    # 15.6 .. 23.4 horizontally, 15.9 .. 23.7 vertically: every touched pixel is covered.
    assert (box.left, box.top, box.left + box.width, box.top + box.height) == (15, 15, 24, 24)


def test_boxes_are_clipped_to_the_image_and_empty_ones_dropped() -> None:
    boxes = page_boxes_to_pixels(
        [[-10.0, -10.0, 30.0, 30.0], [90.0, 90.0, 50.0, 50.0], [500.0, 0.0, 10.0, 10.0], [5.0, 5.0, 0.0, 9.0]],
        origin=(0.0, 0.0),
        scale=1.0,
        size=(100, 100),
    )
    assert boxes == [Box(0, 0, 20, 20), Box(90, 90, 10, 10)]


def _white_png(bands: int) -> bytes:
    image = (pyvips.Image.black(200, 100, bands=bands) + 255).cast("uchar")
    if bands == 4:
        image = image.copy(interpretation="srgb")
    data: bytes = image.write_to_buffer(".png")
    return data


def test_black_out_fills_boxes_with_opaque_black() -> None:
    for bands in (3, 4):
        out = pyvips.Image.new_from_buffer(
            black_out(_white_png(bands), [[10.0, 20.0, 30.0, 10.0]], origin=(0.0, 0.0), scale=2.0), ""
        )
        inside = out.crop(20, 40, 60, 20)
        assert inside.extract_band(0, n=3).max() == 0
        if bands == 4:
            assert inside.extract_band(3).min() == 255  # opaque, not a transparent hole
        assert out.getpoint(19, 40)[:3] == [255.0, 255.0, 255.0]
        assert out.getpoint(80, 40)[:3] == [255.0, 255.0, 255.0]
        assert out.getpoint(20, 60)[:3] == [255.0, 255.0, 255.0]


def test_nothing_to_black_out_returns_the_same_bytes() -> None:
    png = _white_png(3)
    assert black_out(png, [], origin=(0.0, 0.0), scale=1.0) is png
    assert black_out(png, [[500.0, 500.0, 5.0, 5.0]], origin=(0.0, 0.0), scale=1.0) is png
