"""Hypothesis strategies: every value the parameter parser can produce."""

from __future__ import annotations

from hypothesis import strategies as st

from transforms.options import (
    Aspect,
    Auto,
    BlendMode,
    Border,
    Color,
    Corners,
    Crop,
    Duotone,
    Fill,
    Fit,
    Flip,
    Format,
    Mask,
    Palette,
    Rect,
    TransformOptions,
    Trim,
)
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
ratios = st.integers(1, 9999).map(lambda k: k / 10_000)
rects = (
    st.none()
    | st.builds(Rect, st.integers(0, 99_999), st.integers(0, 99_999), st.integers(1, 99_999), st.integers(1, 99_999))
    | st.builds(  # imgix's forms: ratios and keywords
        Rect,
        ratios | st.sampled_from(["left", "center", "right"]),
        ratios | st.sampled_from(["top", "middle", "bottom"]),
        ratios | st.just(1.0),
        ratios,
    )
)
colours = st.none() | st.builds(
    Color, st.integers(0, 255), st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)
)
opaque_colours = st.none() | st.builds(Color, st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
adjustments = st.none() | st.integers(-100, 100)
paddings = st.none() | st.integers(0, 4096)
percents = st.none() | st.integers(0, 100)
radii = st.none() | st.builds(Corners, *(st.integers(0, 4096) for _ in range(4)))
solid = st.builds(Color, st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
versions = st.none() | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=64)

# Every option set the parser can produce (it refuses ar together with both w and h).
options = st.builds(
    TransformOptions,
    w=sides,
    h=sides,
    dpr=dprs,
    ar=aspects,
    # facearea needs a detected face and both sides: its own tests cover it.
    fit=st.none() | st.sampled_from([fit for fit in Fit if fit != "facearea"]),
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
    orient=st.none() | st.sampled_from([0, 90, 180, 270]),
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
    rot=st.none() | st.integers(0, 35_999).map(lambda k: k / 100),
    fill=st.none() | st.sampled_from(Fill),
    fill_color=colours,
    invert=st.none() | st.just(True),
    monochrome=colours,
    sepia=percents,
    duotone=st.none() | st.builds(Duotone, solid, solid),
    duotone_alpha=percents,
    gam=adjustments,
    hue=st.none() | st.integers(0, 359),
    vib=adjustments,
    px=percents,
    usm=adjustments,
    usmrad=st.none() | st.integers(1, 5000).map(lambda k: k / 10),
    border=st.none() | st.builds(Border, st.integers(0, 4096), solid),
    border_radius=radii,
    mask=st.none() | st.sampled_from(Mask),
    corner_radius=radii,
    mask_bg=colours,
    blend=colours,
    blend_mode=st.none() | st.sampled_from(BlendMode),
    blend_alpha=percents,
    palette=st.none() | st.sampled_from(Palette),
    colors=st.none() | st.integers(1, 16),
    chromasub=st.none() | st.sampled_from([420, 444]),
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
