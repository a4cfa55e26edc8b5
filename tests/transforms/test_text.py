"""Text overlays: placed where txt-align says, escaped (never markup), wrapped, coloured, from a fixed font set."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import pyvips
from hypothesis import assume, given
from hypothesis import strategies as st

from transforms.errors import InvalidParameter
from transforms.options import Color, TransformOptions
from transforms.params import parse_query, to_query
from transforms.pipeline import PixelBudget, run
from transforms.steps.text import FONTS


def canvas(width: int = 300, height: int = 200) -> bytes:
    return bytes((pyvips.Image.black(width, height, bands=3) + 255).cast("uchar").pngsave_buffer())


WHITE = canvas()


def render(query: str, original: bytes = WHITE) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(run(original, parse_query(query), None, PixelBudget()).data, "")


def ink_box(image: pyvips.Image) -> tuple[int, int, int, int]:
    """(left, top, width, height) of everything that is not the white canvas."""
    return tuple(image.find_trim(background=[255, 255, 255], threshold=10))


def test_text_is_drawn_in_the_aligned_corner_with_its_padding() -> None:
    left, top, width, height = ink_box(render("txt=Hello&txt-size=24&fm=png"))  # bottom,right by default
    assert width > 30 and height > 10
    assert 300 - (left + width) in range(8, 14) and 200 - (top + height) in range(8, 16)
    left, top, _, _ = ink_box(render("txt=Hello&txt-size=24&txt-align=top,left&txt-pad=30&fm=png"))
    assert left in range(29, 35) and top in range(29, 40)
    left, top, width, _ = ink_box(render("txt=Hello&txt-size=24&txt-align=middle,center&fm=png"))
    assert abs((left + width / 2) - 150) <= 3


def test_markup_is_shown_as_typed() -> None:
    plain = ink_box(render("txt=bold&txt-size=24&fm=png"))
    tagged = ink_box(render(f"txt={quote('<b>bold</b> & co')}&txt-size=24&fm=png"))
    assert tagged[2] > plain[2] * 2  # the tags and the ampersand are drawn, not obeyed


def test_colour_size_font_and_shadow_change_the_pixels() -> None:
    red = render("txt=MMMM&txt-size=40&txt-color=ff0000&fm=png")
    left, top, width, height = ink_box(red)
    inside = red.crop(left, top, width, height)
    assert inside.extract_band(0).min() > 200 and inside.extract_band(1).min() < 60  # red ink on white
    assert ink_box(render("txt=MMMM&txt-size=40&fm=png"))[2] > ink_box(render("txt=MMMM&txt-size=20&fm=png"))[2]
    sans = render("txt=Typeface&txt-size=30&fm=png")
    serif = render("txt=Typeface&txt-size=30&txt-font=serif&fm=png")
    assert (sans - serif).abs().max() > 100
    shadowed = render("txt=MMMM&txt-size=40&txt-color=fff&txt-shad=6&fm=png")
    assert ink_box(shadowed)[2] > 0  # white text shows only through its shadow on white


def test_long_text_wraps_at_txt_width() -> None:
    words = quote("a few words that make a long line of text")
    one_line = ink_box(render(f"txt={words}&txt-size=14&txt-width=2000&fm=png", canvas(1000, 200)))
    wrapped = ink_box(render(f"txt={words}&txt-size=14&txt-width=120&fm=png", canvas(1000, 200)))
    assert wrapped[2] <= 122 and wrapped[3] > 2 * one_line[3]


def test_text_parameters_are_checked() -> None:
    for query, name in (
        ("txt=%0Aline", "txt"),
        ("txt=a&txt-font=Comic%20Sans", "txt-font"),
        ("txt=a&txt-align=top,bottom", "txt-align"),
        ("txt=a&txt-size=0", "txt-size"),
        ("txt=a&txt-shad=11", "txt-shad"),
    ):
        with pytest.raises(InvalidParameter) as caught:
            parse_query(query)
        assert caught.value.param == name
    assert parse_query("txt=a&txt-font=sans-serif,bold").txt_font == "sans-bold"
    assert parse_query("txt=a&txt-align=left,top").txt_align == "top,left"


def test_text_on_an_animation_is_on_every_frame() -> None:
    frames = [(pyvips.Image.black(80, 60, bands=3) + 255 - 40 * index).cast("uchar") for index in range(3)]
    roll = pyvips.Image.arrayjoin(frames, across=1).copy()
    roll.set_type(pyvips.GValue.gint_type, "page-height", 60)
    roll.set_type(pyvips.GValue.array_int_type, "delay", [100, 100, 100])
    gif = bytes(roll.gifsave_buffer())
    output = run(gif, parse_query("txt=Hi&txt-size=20&txt-color=000"), None, PixelBudget())
    image = pyvips.Image.new_from_buffer(output.data, "", n=-1)
    assert image.get("n-pages") == 3
    for index in range(3):
        frame = image.crop(0, index * 60, 80, 60).colourspace("b-w")
        assert frame.crop(50, 35, 30, 25).min() < 60  # dark ink in the bottom-right corner of each frame


printable = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf", "Co", "Cn")), min_size=1, max_size=40
)
overlay_options = st.builds(
    TransformOptions,
    txt=st.none() | printable,
    txt_font=st.none() | st.sampled_from(sorted(FONTS)),
    txt_size=st.none() | st.integers(1, 400),
    txt_color=st.none() | st.builds(Color, *(st.integers(0, 255) for _ in range(4))),
    txt_align=st.none() | st.sampled_from(["top,left", "middle,center", "bottom,right", "top,center"]),
    txt_pad=st.none() | st.integers(0, 4096),
    txt_shad=st.none() | st.integers(0, 10),
    txt_width=st.none() | st.integers(1, 8192),
    facepad=st.none() | st.floats(0.5, 10),
    faceindex=st.none() | st.integers(1, 100),
    faces=st.none() | st.just(True),
    blur_faces=st.none() | st.just(True),
    px_faces=st.none() | st.just(True),
)


@given(overlay_options)
def test_overlay_and_face_options_round_trip(options: TransformOptions) -> None:
    assume(options.txt is None or options.txt.isprintable())
    assert parse_query(to_query(options)) == options
    assert parse_query(options.canonical()) == options.normalised()


def test_what_cannot_change_the_pixels_is_folded_out_of_the_key() -> None:
    plain = parse_query("w=10").canonical()
    assert parse_query("w=10&txt-size=20&txt-font=serif").canonical() == plain  # no txt
    assert parse_query("w=10&facepad=2&faceindex=2").canonical() == plain  # no face mode
    assert parse_query("w=10&txt=a&txt-size=12&txt-color=000").canonical() == parse_query("w=10&txt=a").canonical()
    assert (
        parse_query("w=10&h=10&fit=facearea&facepad=1").canonical() == parse_query("w=10&h=10&fit=facearea").canonical()
    )
