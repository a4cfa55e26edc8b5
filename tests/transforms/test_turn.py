"""rot and flip read back into the source's orientation (the layout works there; the turn comes last)."""

from __future__ import annotations

import pytest

from transforms.options import Aspect, Crop
from transforms.params import parse_query
from transforms.steps.turn import source_options


@pytest.mark.parametrize(
    ("turn", "edges"),
    [
        # the output's top, right, bottom, left edges, as edges of the source
        ("orient=90", ("left", "top", "right", "bottom")),
        ("orient=180", ("bottom", "left", "top", "right")),
        ("orient=270", ("right", "bottom", "left", "top")),
        ("flip=h", ("top", "left", "bottom", "right")),
        ("flip=v", ("bottom", "right", "top", "left")),
        ("flip=hv", ("bottom", "left", "top", "right")),
        ("orient=90&flip=h", ("left", "bottom", "right", "top")),
        ("orient=90&flip=v", ("right", "top", "left", "bottom")),
    ],
)
def test_edges_and_padding_map_back_to_the_source(turn, edges):
    for output_edge, source_edge in zip(("top", "right", "bottom", "left"), edges, strict=True):
        mapped = source_options(parse_query(f"crop={output_edge}&{turn}"))
        assert mapped.crop == {Crop(source_edge)}, (turn, output_edge)
        padded = source_options(parse_query(f"pad-{output_edge}=7&{turn}")).sides()
        assert getattr(padded, source_edge) == 7
        assert sum((padded.top, padded.right, padded.bottom, padded.left)) == 7


def test_quarter_turns_swap_sides_and_aspect():
    mapped = source_options(parse_query("w=300&ar=16:9&orient=270"))
    assert (mapped.w, mapped.h, mapped.ar) == (None, 300, Aspect(9, 16))
    assert (
        source_options(parse_query("w=300&h=0.5&orient=90")).w,
        source_options(parse_query("w=300&h=0.5&orient=90")).h,
    ) == (0.5, 300)
    assert source_options(parse_query("w=300&orient=180")).w == 300


@pytest.mark.parametrize(
    ("turn", "point", "expected"),
    [
        ("orient=90", (0.2, 0.1), (0.1, 0.8)),  # the output's top-left area was the source's bottom-left
        ("orient=180", (0.2, 0.1), (0.8, 0.9)),
        ("orient=270", (0.2, 0.1), (0.9, 0.2)),
        ("flip=h", (0.2, 0.1), (0.8, 0.1)),
        ("flip=v", (0.2, 0.1), (0.2, 0.9)),
    ],
)
def test_focal_point_maps_back(turn, point, expected):
    mapped = source_options(parse_query(f"fp-x={point[0]}&fp-y={point[1]}&{turn}"))
    assert mapped.fp_x == pytest.approx(expected[0]) and mapped.fp_y == pytest.approx(expected[1])


def test_no_turn_is_the_same_object():
    options = parse_query("w=10&crop=top&pad-left=3")
    assert source_options(options) is options
