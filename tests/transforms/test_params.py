from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.transforms import strategies
from transforms.errors import InvalidParameter
from transforms.options import Auto, Color, Crop, Fit, Format, TransformOptions
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
        ("w=0", "w: must be an integer between 1 and 8192"),
        ("w=8193", "w: must be an integer between 1 and 8192"),
        ("w=", "w: must be an integer between 1 and 8192"),
        ("w=-5", "w: must be an integer between 1 and 8192"),
        ("w=1.5", "w: must be an integer between 1 and 8192"),
        ("w=%207", "w: must be an integer between 1 and 8192"),  # int() would strip the space
        ("w=1_000", "w: must be an integer between 1 and 8192"),  # int() would read 1000
        ("w=%D9%A3", "w: must be an integer between 1 and 8192"),  # Arabic-Indic three
        ("h=abc", "h: must be an integer between 1 and 8192"),
        ("dpr=0.5", "dpr: must be a number between 1 and 5"),
        ("dpr=5.01", "dpr: must be a number between 1 and 5"),
        ("dpr=nan", "dpr: must be a number between 1 and 5"),
        ("dpr=1e0", "dpr: must be a number between 1 and 5"),
        ("fit=cover", "fit: must be one of clip, crop, fill, max, min, scale"),
        ("fit=CROP", "fit: must be one of clip, crop, fill, max, min, scale"),
        ("crop=middle", "crop: must be center or a comma list of top/bottom and left/right"),
        ("crop=top,", "crop: must be center or a comma list of top/bottom and left/right"),
        ("crop=top,bottom", "crop: opposite edges cannot be combined"),
        ("crop=left,right", "crop: opposite edges cannot be combined"),
        ("crop=center,top", "crop: center cannot be combined with an edge"),
        ("crop=top,top", "crop: lists an item twice"),
        ("fm=jpeg", "fm: must be one of jpg, pjpg, png, webp, avif, gif"),
        ("fm=json", "fm: must be one of jpg, pjpg, png, webp, avif, gif"),
        ("auto=enhance", "auto: must be a comma list of format, compress"),
        ("auto=format,format", "auto: lists an item twice"),
        ("q=0", "q: must be an integer between 1 and 100"),
        ("q=101", "q: must be an integer between 1 and 100"),
        ("bg=ff", "bg: must be a hex colour: RGB, ARGB, RRGGBB or AARRGGBB"),
        ("bg=fffff", "bg: must be a hex colour: RGB, ARGB, RRGGBB or AARRGGBB"),
        ("bg=red", "bg: must be a hex colour: RGB, ARGB, RRGGBB or AARRGGBB"),
        ("bg=%23fff", "bg: must be a hex colour: RGB, ARGB, RRGGBB or AARRGGBB"),
        ("v=", "v: must be 1 to 64 printable ASCII characters"),
        ("v=%0A", "v: must be 1 to 64 printable ASCII characters"),
        ("v=" + "x" * 65, "v: must be 1 to 64 printable ASCII characters"),
        ("v=caf%C3%A9", "v: must be 1 to 64 printable ASCII characters"),
        ("width=100", "width: is not a known parameter"),
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
        assert spec.field.replace("_", "-") == name
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
