from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.transforms import strategies
from transforms.capabilities import lacking
from transforms.errors import InvalidParameter
from transforms.options import Aspect, Auto, Color, Crop, Fit, Flip, Format, Rect, TransformOptions, Trim
from transforms.params import PARAMETERS, parse, parse_query, to_query


def test_every_parameter_parses_into_its_field():
    options = parse_query("w=640&h=480&dpr=2&fit=crop&crop=top,left&fm=webp&auto=format,compress&q=70&bg=8fff&v=3")
    assert options == TransformOptions(
        w=640,
        h=480,
        dpr=2.0,
        fit=Fit.CROP,
        crop=frozenset({Crop.TOP, Crop.LEFT}),
        fm=Format.WEBP,
        auto=frozenset({Auto.FORMAT, Auto.COMPRESS}),
        q=70,
        bg=Color(255, 255, 255, 0x88),
        v="3",
    )


def test_no_parameters_means_no_transform():
    assert parse([]) == TransformOptions()


RECT_ACCEPTS = "rect: must be " + PARAMETERS["rect"].accepts
CROP_ACCEPTS = (
    "crop: must be center, a comma list of top/bottom and left/right, or entropy/edges, attention or focalpoint"
)


@pytest.mark.parametrize(
    ("text", "colour"),
    [
        ("fff", Color(255, 255, 255)),
        ("F00", Color(255, 0, 0)),
        ("8fff", Color(255, 255, 255, 0x88)),
        ("102030", Color(0x10, 0x20, 0x30)),
        ("80102030", Color(0x10, 0x20, 0x30, 0x80)),
    ],
)
def test_bg_takes_rgb_and_argb_hex(text, colour):
    assert parse([("bg", text)]).bg == colour


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("w=0", "w: must be an integer between 1 and 8192, or a ratio between 0 and 1 such as 0.5"),
        ("w=8193", "w: must be an integer between 1 and 8192, or a ratio between 0 and 1 such as 0.5"),
        ("w=", "w: must be an integer between 1 and 8192, or a ratio between 0 and 1 such as 0.5"),
        ("w=-5", "w: must be an integer between 1 and 8192, or a ratio between 0 and 1 such as 0.5"),
        ("w=1.5", "w: must be an integer between 1 and 8192, or a ratio between 0 and 1 such as 0.5"),
        (
            "w=%207",
            "w: must be an integer between 1 and 8192, or a ratio between 0 and 1 such as 0.5",
        ),  # int() would strip the space
        (
            "w=1_000",
            "w: must be an integer between 1 and 8192, or a ratio between 0 and 1 such as 0.5",
        ),  # int() would read 1000
        (
            "w=%D9%A3",
            "w: must be an integer between 1 and 8192, or a ratio between 0 and 1 such as 0.5",
        ),  # Arabic-Indic three
        ("h=abc", "h: must be an integer between 1 and 8192, or a ratio between 0 and 1 such as 0.5"),
        ("dpr=0.05", "dpr: must be a number between 0.1 and 5"),
        ("dpr=5.01", "dpr: must be a number between 0.1 and 5"),
        ("dpr=nan", "dpr: must be a number between 0.1 and 5"),
        ("dpr=1e0", "dpr: must be a number between 0.1 and 5"),
        ("fit=cover", "fit: must be one of " + ", ".join(Fit)),
        ("fit=CROP", "fit: must be one of " + ", ".join(Fit)),
        (
            "crop=middle",
            CROP_ACCEPTS,
        ),
        (
            "crop=top,",
            CROP_ACCEPTS,
        ),
        ("crop=top,bottom", "crop: opposite edges cannot be combined"),
        ("crop=left,right", "crop: opposite edges cannot be combined"),
        ("crop=center,top", "crop: center cannot be combined with an edge"),
        ("crop=top,top", "crop: lists an item twice"),
        ("fm=jpeg", "fm: must be one of jpg, pjpg, png, webp, avif, gif, json, png8, blurhash (any case)"),
        ("auto=enhance", "auto: enhance is an imgix value imgate does not support (auto takes format and compress)"),
        ("auto=sharpen", "auto: must be a comma list of format, compress"),
        ("auto=format,format", "auto: lists an item twice"),
        ("q=-1", "q: must be an integer between 0 and 100 (0 reads as 1)"),
        ("q=101", "q: must be an integer between 0 and 100 (0 reads as 1)"),
        ("bg=ff", "bg: must be a colour: hex RGB, ARGB, RRGGBB or AARRGGBB, # optional, or a CSS name such as red"),
        ("bg=fffff", "bg: must be a colour: hex RGB, ARGB, RRGGBB or AARRGGBB, # optional, or a CSS name such as red"),
        (
            "bg=reddish",
            "bg: must be a colour: hex RGB, ARGB, RRGGBB or AARRGGBB, # optional, or a CSS name such as red",
        ),
        (
            "bg=%23%23fff",
            "bg: must be a colour: hex RGB, ARGB, RRGGBB or AARRGGBB, # optional, or a CSS name such as red",
        ),
        ("v=", "v: must be 1 to 64 printable ASCII characters"),
        ("v=%0A", "v: must be 1 to 64 printable ASCII characters"),
        ("v=" + "x" * 65, "v: must be 1 to 64 printable ASCII characters"),
        ("v=caf%C3%A9", "v: must be 1 to 64 printable ASCII characters"),
        ("widht=100", "widht: is not a known parameter"),
        ("exp=10", "exp: is an imgix parameter imgate does not support"),
        ("W=100", "W: is not a known parameter"),
        ("w=100&w=100", "w: is given more than once"),
        ("w=100&h=5&w=200", "w: is given more than once"),
    ],
)
def test_bad_input_names_the_parameter(query, message):
    with pytest.raises(InvalidParameter) as caught:
        parse_query(query)
    assert caught.value.message == message
    assert caught.value.param == message.split(":")[0]


def test_unknown_names_are_shown_short_and_printable():
    with pytest.raises(InvalidParameter) as caught:
        parse([("\x00evil\n" + "x" * 100, "1")])
    assert caught.value.param == "?evil?" + "x" * 34
    assert len(caught.value.message) < 80


def test_extra_names_are_left_to_the_caller():
    options = parse([("src", "https://a.example/x.jpg"), ("w", "10"), ("src", "again")], extra=frozenset({"src"}))
    assert options == TransformOptions(w=10)
    with pytest.raises(InvalidParameter):
        parse([("src", "x")])


def test_table_documents_every_parameter():
    for name, spec in PARAMETERS.items():
        assert spec.description and spec.accepts and spec.default, name
        # One field, one name, except imgix's second published spelling of a concept (blend-color for blend).
        assert spec.field.replace("_", "-") == name or PARAMETERS[spec.field.replace("_", "-")].field == spec.field
        assert hasattr(TransformOptions(), spec.field)


def test_to_query_spells_values_the_imgix_way():
    options = TransformOptions(w=100, dpr=2.0, crop=frozenset({Crop.TOP, Crop.LEFT}), bg=Color(0, 0, 0, 0), v="a&b c")
    assert to_query(options) == "w=100&dpr=2&crop=left,top&bg=00000000&v=a%26b%20c"


@given(strategies.options)
def test_to_query_round_trips(options):
    assert parse_query(to_query(options)) == options


@given(strategies.pairs)
def test_arbitrary_pairs_raise_nothing_but_invalid_parameter(pairs):
    try:
        parse(pairs, extra=frozenset({"src"}))
    except InvalidParameter as error:
        assert error.message.startswith(error.param + ": ")


@given(st.text(max_size=60) | st.lists(strategies.names).map("&".join))
def test_arbitrary_query_text_raises_nothing_but_invalid_parameter(text):
    try:
        parse_query(text)
    except InvalidParameter:
        pass


# --- the full vocabulary ----------------------------------------------------------------------------------


def test_the_full_vocabulary_parses_into_its_fields():
    options = parse_query(
        "w=0.5&h=300&dpr=1.5&fit=crop&crop=focalpoint&fp-x=0.25&fp-y=1&fp-z=2.5&rect=10,20,300,200"
        "&fm=avif&lossless=true&orient=270&flip=hv&blur=40&sharp=10&bri=-20&con=30&sat=-100"
        "&pad=5&pad-top=0&pad-right=7&pad-bottom=8&pad-left=9&trim=color&trim-color=0f0&trim-tol=3&frame=2"
    )
    assert options == TransformOptions(
        w=0.5,
        h=300,
        dpr=1.5,
        fit=Fit.CROP,
        crop=frozenset({Crop.FOCALPOINT}),
        fp_x=0.25,
        fp_y=1.0,
        fp_z=2.5,
        rect=Rect(10, 20, 300, 200),
        fm=Format.AVIF,
        lossless=True,
        orient=270,
        flip=Flip.HV,
        blur=40,
        sharp=10,
        bri=-20,
        con=30,
        sat=-100,
        pad=5,
        pad_top=0,
        pad_right=7,
        pad_bottom=8,
        pad_left=9,
        trim=Trim.COLOR,
        trim_color=Color(0, 255, 0),
        trim_tol=3,
        frame=2,
    )
    assert parse_query("ar=16:9&w=100").ar == Aspect(16, 9)
    assert parse_query("ar=1.91:1").ar == Aspect(1.91, 1)
    assert parse_query("fm=json").fm is Format.JSON


@pytest.mark.parametrize(
    ("text", "value"), [("0.5", 0.5), ("0.0001", 0.0001), ("0.9999", 0.9999), ("1", 1), ("8192", 8192)]
)
def test_sides_are_pixels_or_ratios(text, value):
    parsed = parse([("w", text)]).w
    assert parsed == value and type(parsed) is type(value)  # an int is pixels, a float a ratio


@pytest.mark.parametrize(("text", "value"), [("1", True), ("true", True), ("0", False), ("false", False)])
def test_lossless_takes_both_imgix_spellings(text, value):
    assert parse([("lossless", text)]).lossless is value


SIDE = "must be an integer between 1 and 8192, or a ratio between 0 and 1 such as 0.5"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("w=0.0", f"w: {SIDE}"),
        ("w=1.5", f"w: {SIDE}"),
        ("h=0.12345", f"h: {SIDE}"),
        ("w=.5", f"w: {SIDE}"),
        ("ar=16x9", "ar: must be an aspect ratio W:H between 1:100 and 100:1, such as 16:9 or 1.91:1"),
        ("ar=0:1", "ar: must be an aspect ratio W:H between 1:100 and 100:1, such as 16:9 or 1.91:1"),
        ("ar=101:1", "ar: must be an aspect ratio W:H between 1:100 and 100:1, such as 16:9 or 1.91:1"),
        ("crop=entropy,top", "crop: entropy, attention and focalpoint cannot be combined with anything"),
        ("crop=focalpoint,attention", "crop: entropy, attention and focalpoint cannot be combined with anything"),
        ("crop=eyes", CROP_ACCEPTS),
        ("fp-x=1.01", "fp-x: must be a number between 0 and 1"),
        ("fp-y=-0.1", "fp-y: must be a number between 0 and 1"),
        ("fp-z=0.5", "fp-z: must be a number between 1 and 100"),
        ("fp-z=101", "fp-z: must be a number between 1 and 100"),
        ("rect=0,0,10", RECT_ACCEPTS),
        ("rect=0,0,0,10", RECT_ACCEPTS),
        ("rect=-1,0,10,10", RECT_ACCEPTS),
        ("lossless=yes", "lossless: must be 1, 0, true or false"),
        ("orient=45", "orient: must be 0, 90, 180 or 270, or the EXIF rotations 1, 3, 6 and 8"),
        ("or=2", "or: the mirrored orientations 2, 4, 5 and 7 are not supported: combine or with flip"),
        ("rot=360", "rot: must be a number of degrees from 0 up to 360"),
        ("orient=-90", "orient: must be 0, 90, 180 or 270, or the EXIF rotations 1, 3, 6 and 8"),
        ("flip=x", "flip: must be one of h, v, hv"),
        ("blur=2001", "blur: must be an integer between 0 and 2000"),
        ("sharp=101", "sharp: must be a number between 0 and 100"),
        ("bri=101", "bri: must be an integer between -100 and 100"),
        ("con=-101", "con: must be an integer between -100 and 100"),
        ("sat=+5", "sat: must be an integer between -100 and 100"),
        ("sat=1.5", "sat: must be an integer between -100 and 100"),
        ("pad=4097", "pad: must be an integer between 0 and 4096"),
        ("pad-left=-1", "pad-left: must be an integer between 0 and 4096"),
        ("trim=edges", "trim: must be one of auto, color, alpha"),
        (
            "trim-color=8fff",
            "trim-color: must be an opaque colour: hex RGB or RRGGBB, # optional, or a CSS name such as red",
        ),
        ("trim-tol=101", "trim-tol: must be an integer between 0 and 100"),
        ("frame=0", "frame: must be an integer between 1 and 9999, at most the number of frames"),
        ("fm=pdf", "fm: must be one of jpg, pjpg, png, webp, avif, gif, json, png8, blurhash (any case)"),
        ("fm=jp2", "fm: jp2 is an imgix format imgate does not support: " + lacking("jp2ksave", "JPEG 2000 saver")),
    ],
)
def test_bad_values_of_the_full_vocabulary_name_the_parameter(query, message):
    with pytest.raises(InvalidParameter) as caught:
        parse_query(query)
    assert caught.value.message == message
    assert caught.value.param == message.split(":")[0]


def test_every_parameter_names_what_it_corresponds_to_elsewhere():
    for name, spec in PARAMETERS.items():
        assert spec.imgix and spec.imgproxy and spec.cloudflare, name
    assert PARAMETERS["orient"].cloudflare == "rotate"
    assert PARAMETERS["fit"].imgix == "fit"
