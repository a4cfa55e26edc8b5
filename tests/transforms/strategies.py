"""Hypothesis strategies: every value the parameter parser can produce."""

from __future__ import annotations

from hypothesis import strategies as st

from transforms.options import Aspect, Auto, Color, Crop, Fit, Flip, Format, Rect, TransformOptions, Trim
from transforms.params import PARAMETERS

# Ratios as the parser makes them: at most four decimals, strictly between 0 and 1.
sides = st.none() | st.integers(1, 8192) | st.integers(1, 9999).map(lambda k: k / 10_000)
dprs = st.none() | st.floats(1, 5, allow_nan=False, allow_infinity=False)
aspects = st.none() | st.builds(
    Aspect, st.integers(1, 99).map(float), st.integers(100, 9999).map(lambda k: k / 100)
).filter(lambda aspect: 0.01 <= aspect.ratio <= 100)
edges = st.sampled_from(
    [
        frozenset(),
        frozenset({Crop.CENTER}),
        *(frozenset({edge}) for edge in (Crop.TOP, Crop.BOTTOM, Crop.LEFT, Crop.RIGHT)),
        *(frozenset({a, b}) for a in (Crop.TOP, Crop.BOTTOM) for b in (Crop.LEFT, Crop.RIGHT)),
        *(frozenset({strategy}) for strategy in (Crop.ENTROPY, Crop.ATTENTION, Crop.FOCALPOINT)),
    ]
)
fractions = st.none() | st.integers(0, 100).map(lambda k: k / 100)
zooms = st.none() | st.integers(10, 1000).map(lambda k: k / 10)
rects = st.none() | st.builds(
    Rect, st.integers(0, 99_999), st.integers(0, 99_999), st.integers(1, 99_999), st.integers(1, 99_999)
)
colours = st.none() | st.builds(
    Color, st.integers(0, 255), st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)
)
opaque_colours = st.none() | st.builds(Color, st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
adjustments = st.none() | st.integers(-100, 100)
paddings = st.none() | st.integers(0, 4096)
versions = st.none() | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=64)

# Every option set the parser can produce (it refuses ar together with both w and h).
options = st.builds(
    TransformOptions,
    w=sides,
    h=sides,
    dpr=dprs,
    ar=aspects,
    fit=st.none() | st.sampled_from(Fit),
    crop=edges,
    fp_x=fractions,
    fp_y=fractions,
    fp_z=zooms,
    rect=rects,
    fm=st.none() | st.sampled_from(Format),
    auto=st.frozensets(st.sampled_from(Auto)),
    q=st.none() | st.integers(1, 100),
    lossless=st.booleans(),
    bg=colours,
    rot=st.none() | st.sampled_from([0, 90, 180, 270]),
    flip=st.none() | st.sampled_from(Flip),
    blur=st.none() | st.integers(0, 2000),
    sharp=st.none() | st.integers(0, 100),
    bri=adjustments,
    con=adjustments,
    sat=adjustments,
    pad=paddings,
    pad_top=paddings,
    pad_right=paddings,
    pad_bottom=paddings,
    pad_left=paddings,
    trim=st.none() | st.sampled_from(Trim),
    trim_color=opaque_colours,
    trim_tol=st.none() | st.integers(0, 100),
    frame=st.none() | st.integers(1, 9999),
    v=versions,
).filter(lambda o: not (o.ar is not None and o.w is not None and o.h is not None))

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
        "0.5",
        "1.0",
        "16:9",
        "0:1",
        "0,0,10,10",
        "0,0,0,10",
        "90",
        "45",
        "hv",
        "entropy",
        "focalpoint,top",
        "true",
        "-100",
        "-101",
        "auto",
    ]
) | st.text(max_size=20)
pairs = st.lists(st.tuples(names, values), max_size=6)
