"""The geometry rules, as a table: a 400x200 upright source unless stated."""

from __future__ import annotations

import pytest

from transforms.errors import ImageTooLarge, InvalidParameter
from transforms.options import Crop, Sides
from transforms.params import parse_query
from transforms.steps import layout as layout_step
from transforms.steps.context import Box, Layout, Region
from transforms.steps.layout import UNBOUNDED, geometry

TOP = frozenset({Crop.TOP})


def layout_of(query: str, width: int = 400, height: int = 200, max_side: int = 8192) -> Layout:
    return geometry(width, height, parse_query(query).normalised(), max_side)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", Layout()),
        ("fm=png&dpr=3", Layout()),
        ("w=100", Layout(resize=Box(100, UNBOUNDED))),
        ("h=100", Layout(resize=Box(UNBOUNDED, 100))),
        ("w=100&dpr=2.5", Layout(resize=Box(250, UNBOUNDED))),
        ("w=3&dpr=1.5", Layout(resize=Box(5, UNBOUNDED))),  # 4.5 rounds half up
        ("w=100&fit=crop", Layout(resize=Box(100, UNBOUNDED))),
        ("w=800&fit=min", Layout(resize=Box(800, UNBOUNDED), size="down")),
        ("w=100&h=100", Layout(resize=Box(100, 100))),
        ("w=100&h=100&fit=max", Layout(resize=Box(100, 100), size="down")),
        ("w=100&h=100&fit=scale", Layout(resize=Box(100, 100), size="force")),
        ("w=100&h=100&fit=fill&crop=top", Layout(resize=Box(100, 100), canvas=Box(100, 100), gravity=TOP)),
        ("w=100&h=100&fit=crop", Layout(resize=Box(100, 100), crop="centre")),
        # 400x200 covering 100x100 overflows horizontally: only left/right choose the end.
        ("w=100&h=100&fit=crop&crop=left", Layout(resize=Box(100, 100), crop="low")),
        ("w=100&h=100&fit=crop&crop=bottom,right", Layout(resize=Box(100, 100), crop="high")),
        ("w=100&h=100&fit=crop&crop=top", Layout(resize=Box(100, 100), crop="centre")),
        # covering 400x50 overflows vertically: now top/bottom choose.
        ("w=400&h=50&fit=crop&crop=top,right", Layout(resize=Box(400, 50), crop="low")),
        ("w=100&h=100&fit=min&crop=right", Layout(resize=Box(100, 100), crop="high")),
        # min that would enlarge cuts the target's aspect ratio from the source at scale 1.
        ("w=800&h=200&fit=min", Layout(resize=Box(400, 100), crop="centre")),
        ("w=100&h=400&fit=min&crop=left", Layout(resize=Box(50, 200), crop="low")),
    ],
)
def test_geometry(query, expected):
    assert layout_of(query) == expected


def test_dpr_beyond_the_output_cap_names_dpr():
    with pytest.raises(InvalidParameter) as caught:
        layout_of("w=3000&dpr=3")
    assert caught.value.message == "dpr: w×dpr must be at most 8192 pixels"


def test_a_lower_configured_cap_names_the_side():
    with pytest.raises(InvalidParameter) as caught:
        layout_of("h=3000", max_side=2048)
    assert caught.value.message == "h: must be at most 2048 pixels"


def test_one_side_on_an_extreme_aspect_cannot_blow_up_the_other():
    with pytest.raises(InvalidParameter) as caught:
        layout_of("w=8000", width=10, height=5000)
    assert caught.value.param == "w"


def test_no_resize_of_a_source_beyond_the_output_cap_is_refused():
    with pytest.raises(ImageTooLarge):
        layout_of("fm=webp", width=9000, height=100)
    assert layout_of("w=100", width=9000, height=100).resize == Box(100, UNBOUNDED)


def layout_turned(query: str, width: int = 400, height: int = 200, max_side: int = 8192) -> Layout:
    return layout_step.layout_for(width, height, parse_query(query).normalised(), max_side)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("w=0.5", Layout(resize=Box(200, UNBOUNDED))),  # a ratio of the source width
        ("h=0.25&dpr=2", Layout(resize=Box(UNBOUNDED, 100))),
        ("w=100&ar=2:1", Layout(resize=Box(100, UNBOUNDED))),  # as in imgix: ar only with the fits that cut
        ("h=50&ar=1:1&fit=crop", Layout(resize=Box(50, 50), crop="centre")),
        ("ar=1:1&fit=crop", Layout(resize=Box(200, 200), crop="centre")),  # largest square inside 400x200
        ("w=100&h=100&fit=crop&crop=entropy", Layout(resize=Box(100, 100), crop="entropy")),
        ("w=100&h=100&fit=min&crop=attention", Layout(resize=Box(100, 100), crop="attention")),
        ("pad=10", Layout(pad=Sides(10, 10, 10, 10))),
        ("w=100&h=100&fit=crop&pad=10", Layout(resize=Box(80, 80), crop="centre", pad=Sides(10, 10, 10, 10))),
        ("w=100&pad-left=20&dpr=2", Layout(resize=Box(160, UNBOUNDED), pad=Sides(left=40))),
        # Focal point: cover 100x100 (scale 0.5: 200x100), then a window centred on fp as far as the edges allow.
        (
            "w=100&h=100&fit=crop&crop=focalpoint&fp-x=0",
            Layout(resize=Box(200, 100), size="force", window=Region(0, 0, 100, 100)),
        ),
        (
            "w=100&h=100&fit=crop&crop=focalpoint&fp-x=0.6&fp-z=2",
            Layout(size="force", window=Region(190, 50, 100, 100)),  # scale 1: nothing to resize
        ),
        # min never enlarges: zoom 2 at scale 1 cuts half the largest square.
        ("w=800&h=800&fit=min&crop=focalpoint&fp-z=2", Layout(window=Region(150, 50, 100, 100))),
    ],
)
def test_geometry_of_the_full_vocabulary(query, expected):
    assert layout_turned(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # The URL describes the turned output: 100 wide after a quarter turn is 100 high before it.
        ("w=100&orient=90", Layout(resize=Box(UNBOUNDED, 100))),
        ("w=100&orient=180", Layout(resize=Box(100, UNBOUNDED))),
        # The turned output's top is the source's left: covering 100x100 overflows sideways, keep the left.
        ("w=100&h=100&fit=crop&crop=top&orient=90", Layout(resize=Box(100, 100), crop="low")),
        ("w=100&h=100&fit=crop&crop=top&orient=270", Layout(resize=Box(100, 100), crop="high")),
        ("w=100&h=100&fit=crop&crop=left&flip=h", Layout(resize=Box(100, 100), crop="high")),
        ("pad-top=5&orient=90", Layout(pad=Sides(left=5))),
        ("pad-top=5&flip=v", Layout(pad=Sides(bottom=5))),
        ("w=100&ar=2:1&fit=crop&orient=90", Layout(resize=Box(50, 100), crop="centre")),
    ],
)
def test_geometry_reads_rot_and_flip_as_describing_the_output(query, expected):
    assert layout_turned(query) == expected


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("w=10&pad=5", "pad"),
        ("w=100&h=100&pad-top=60&pad-bottom=40", "pad"),
        ("w=2000&ar=1:2&fit=crop", "ar"),
        ("h=3000&orient=90", "h"),  # names what the URL wrote, though the layout swapped the sides
    ],
)
def test_impossible_geometry_names_the_parameter(query, param):
    with pytest.raises(InvalidParameter) as caught:
        layout_turned(query, max_side=2048)
    assert caught.value.param == param


def test_padding_beyond_the_output_cap_is_refused():
    with pytest.raises(ImageTooLarge):
        layout_turned("pad=100", width=8100, height=10)
