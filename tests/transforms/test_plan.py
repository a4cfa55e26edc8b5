"""The geometry rules, as a table: a 400x200 upright source unless stated."""

from __future__ import annotations

import pytest

from transforms.errors import ImageTooLarge, InvalidParameter
from transforms.options import Crop
from transforms.params import parse_query
from transforms.steps.context import Box, Plan
from transforms.steps.plan import UNBOUNDED, geometry

TOP = frozenset({Crop.TOP})


def plan_for(query: str, width: int = 400, height: int = 200, max_side: int = 8192) -> Plan:
    return geometry(width, height, parse_query(query).normalised(), max_side)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", Plan()),
        ("fm=png&dpr=3", Plan()),
        ("w=100", Plan(resize=Box(100, UNBOUNDED))),
        ("h=100", Plan(resize=Box(UNBOUNDED, 100))),
        ("w=100&dpr=2.5", Plan(resize=Box(250, UNBOUNDED))),
        ("w=3&dpr=1.5", Plan(resize=Box(5, UNBOUNDED))),  # 4.5 rounds half up
        ("w=100&fit=crop", Plan(resize=Box(100, UNBOUNDED))),
        ("w=800&fit=min", Plan(resize=Box(800, UNBOUNDED), size="down")),
        ("w=100&h=100", Plan(resize=Box(100, 100))),
        ("w=100&h=100&fit=max", Plan(resize=Box(100, 100), size="down")),
        ("w=100&h=100&fit=scale", Plan(resize=Box(100, 100), size="force")),
        ("w=100&h=100&fit=fill&crop=top", Plan(resize=Box(100, 100), canvas=Box(100, 100), gravity=TOP)),
        ("w=100&h=100&fit=crop", Plan(resize=Box(100, 100), crop="centre")),
        # 400x200 covering 100x100 overflows horizontally: only left/right choose the end.
        ("w=100&h=100&fit=crop&crop=left", Plan(resize=Box(100, 100), crop="low")),
        ("w=100&h=100&fit=crop&crop=bottom,right", Plan(resize=Box(100, 100), crop="high")),
        ("w=100&h=100&fit=crop&crop=top", Plan(resize=Box(100, 100), crop="centre")),
        # covering 400x50 overflows vertically: now top/bottom choose.
        ("w=400&h=50&fit=crop&crop=top,right", Plan(resize=Box(400, 50), crop="low")),
        ("w=100&h=100&fit=min&crop=right", Plan(resize=Box(100, 100), crop="high")),
        # min that would enlarge cuts the target's aspect ratio from the source at scale 1.
        ("w=800&h=200&fit=min", Plan(resize=Box(400, 100), crop="centre")),
        ("w=100&h=400&fit=min&crop=left", Plan(resize=Box(50, 200), crop="low")),
    ],
)
def test_geometry(query, expected):
    assert plan_for(query) == expected


def test_dpr_beyond_the_output_cap_names_dpr():
    with pytest.raises(InvalidParameter) as caught:
        plan_for("w=3000&dpr=3")
    assert caught.value.message == "dpr: w×dpr must be at most 8192 pixels"


def test_a_lower_configured_cap_names_the_side():
    with pytest.raises(InvalidParameter) as caught:
        plan_for("h=3000", max_side=2048)
    assert caught.value.message == "h: must be at most 2048 pixels"


def test_one_side_on_an_extreme_aspect_cannot_blow_up_the_other():
    with pytest.raises(InvalidParameter) as caught:
        plan_for("w=8000", width=10, height=5000)
    assert caught.value.param == "w"


def test_no_resize_of_a_source_beyond_the_output_cap_is_refused():
    with pytest.raises(ImageTooLarge):
        plan_for("fm=webp", width=9000, height=100)
    assert plan_for("w=100", width=9000, height=100).resize == Box(100, UNBOUNDED)
