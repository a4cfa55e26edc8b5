"""Hypothesis strategies: every value the parameter parser can produce."""

from __future__ import annotations

from hypothesis import strategies as st

from transforms.options import Auto, Color, Crop, Fit, Format, TransformOptions
from transforms.params import PARAMETERS

sides = st.none() | st.integers(1, 8192)
dprs = st.none() | st.floats(1, 5, allow_nan=False, allow_infinity=False)
edges = st.sampled_from(
    [
        frozenset(),
        frozenset({Crop.CENTER}),
        *(frozenset({edge}) for edge in (Crop.TOP, Crop.BOTTOM, Crop.LEFT, Crop.RIGHT)),
        *(frozenset({a, b}) for a in (Crop.TOP, Crop.BOTTOM) for b in (Crop.LEFT, Crop.RIGHT)),
    ]
)
colours = st.none() | st.builds(
    Color, st.integers(0, 255), st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)
)
versions = st.none() | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=64)

options = st.builds(
    TransformOptions,
    w=sides,
    h=sides,
    dpr=dprs,
    fit=st.none() | st.sampled_from(Fit),
    crop=edges,
    fm=st.none() | st.sampled_from(Format),
    auto=st.frozensets(st.sampled_from(Auto)),
    q=st.none() | st.integers(1, 100),
    bg=colours,
    v=versions,
)

# Query pairs mixing real names, near misses and noise, with values that are sometimes valid.
names = st.sampled_from([*PARAMETERS, "W", "width", "", "fm ", "src", "ü"]) | st.text(max_size=8)
values = st.sampled_from(
    [
        "",
        "0",
        "1",
        "8192",
        "8193",
        "1.5",
        "5.0001",
        "crop",
        "center",
        "top,left",
        "top,bottom",
        "webp",
        "format,compress",
        "format,format",
        "fff",
        "80ffffff",
        "zz",
        "nan",
        "1e3",
        " 7",
        "٣",
        "1_0",
        "-1",
    ]
) | st.text(max_size=20)
pairs = st.lists(st.tuples(names, values), max_size=6)
