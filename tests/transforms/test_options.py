from __future__ import annotations

from hypothesis import given

from tests.transforms import strategies
from transforms.options import Color, Crop, Fit, Format, Sides, TransformOptions
from transforms.params import parse_query


def test_no_transform_has_an_empty_canonical_form():
    assert TransformOptions().canonical() == ""


def test_canonical_form_is_sorted_with_defaults_omitted():
    options = parse_query("w=100&fm=webp&h=50&dpr=1&fit=clip&v=7")
    assert options.canonical() == "fm=webp&h=50&v=7&w=100"


def test_canonical_floats_are_normalised():
    assert parse_query("w=10&dpr=2.0").canonical() == parse_query("w=10&dpr=2").canonical() == "dpr=2&w=10"
    assert parse_query("w=10&dpr=1.50").canonical() == "dpr=1.5&w=10"


def test_spellings_that_render_alike_share_a_canonical_form():
    same = [
        ("w=10", "w=10&dpr=1"),
        ("w=10", "w=10&fit=clip"),
        ("w=10&h=10&fit=crop", "w=10&h=10&fit=crop&crop=center"),
        ("w=10&h=10", "w=10&h=10&crop=top"),  # clip never cuts: the gravity is unused
        ("w=10", "w=10&fit=crop"),  # one side: nothing to cover
        ("w=10&fit=max", "w=10&fit=min"),
        ("fm=png", "fm=png&q=50"),  # PNG takes no quality
        ("fm=webp", "fm=webp&auto=format"),  # an explicit fm wins over negotiation
        ("", "fit=crop&dpr=2"),  # nothing is resized without w or h
        ("bg=fff", "bg=ffffffff"),
        ("crop=top,left&fit=crop&w=1&h=1", "crop=left,top&fit=crop&w=1&h=1"),
    ]
    for first, second in same:
        assert parse_query(first).canonical() == parse_query(second).canonical(), (first, second)


def test_spellings_that_render_differently_do_not():
    different = [
        ("w=10", "h=10"),
        ("w=10&h=10&fit=crop&crop=top", "w=10&h=10&fit=crop"),
        ("w=10&fit=max", "w=10"),
        ("fm=jpg", "fm=pjpg"),
        ("q=80", ""),  # the default q depends on the output format: not folded
        ("v=1", "v=2"),
        ("auto=compress", ""),
        ("auto=format", ""),
        ("fm=webp&auto=compress", "fm=webp"),
        ("bg=8fff", "bg=fff"),
    ]
    for first, second in different:
        assert parse_query(first).canonical() != parse_query(second).canonical(), (first, second)


def test_canonical_values_cannot_smuggle_separators():
    assert parse_query("v=1%26w%3D100").canonical() == "v=1%26w%3D100"
    assert parse_query("v=1%26w%3D100").canonical() != parse_query("v=1&w=100").canonical()


def test_normalised_reads_as_the_pipeline_does():
    options = TransformOptions(w=10, fit=Fit.FILL, crop=frozenset({Crop.TOP}), fm=Format.GIF, q=5, bg=Color(1, 2, 3))
    assert options.normalised() == TransformOptions(w=10, fm=Format.GIF, bg=Color(1, 2, 3))


@given(strategies.options)
def test_canonical_form_parses_back_to_the_normalised_options(options):
    # Hence injective on renderings: different normalised options never share a canonical form.
    assert parse_query(options.canonical()) == options.normalised()


@given(strategies.options)
def test_normalising_is_idempotent_and_deterministic(options):
    once = options.normalised()
    assert once.normalised() == once
    assert once.canonical() == options.canonical() == options.canonical()


def test_new_spellings_that_render_alike_share_a_canonical_form():
    same = [
        ("w=10&orient=0", "w=10"),
        ("w=10&blur=0&sharp=0&bri=0&con=0&sat=0", "w=10"),
        ("pad=5", "pad-top=5&pad-right=5&pad-bottom=5&pad-left=5"),
        ("pad=5&pad-left=5", "pad=5"),
        ("pad=5&pad-left=0", "pad-top=5&pad-right=5&pad-bottom=5"),
        ("pad=0", ""),
        ("w=10&h=10&fit=crop&crop=focalpoint", "w=10&h=10&fit=crop&crop=focalpoint&fp-x=0.5&fp-y=0.5&fp-z=1"),
        ("w=10&h=10&fit=crop&fp-x=0.2", "w=10&h=10&fit=crop"),  # fp without crop=focalpoint
        ("w=10&h=10&fit=clip&crop=entropy", "w=10&h=10"),
        ("w=10&h=10&fit=fill&crop=attention", "w=10&h=10&fit=fill"),  # fill places, it never cuts
        ("w=10&fit=crop&crop=focalpoint&fp-x=0", "w=10"),  # one side: nothing to cut
        ("fm=png&lossless=1", "fm=png"),
        ("fm=jpg&lossless=true", "fm=jpg"),
        ("fm=webp&lossless=1&q=50", "fm=webp&lossless=1"),
        ("lossless=true", "lossless=1"),
        ("trim=auto&trim-color=f00", "trim=auto"),
        ("trim=auto&trim-tol=10", "trim=auto"),
        ("trim-tol=3", ""),
        ("fm=json&w=100&orient=90&blur=5&v=2", "fm=json&v=2"),  # info describes the source
        ("ar=1:1&fit=crop&dpr=2", "ar=1:1&fit=crop"),  # dpr scales given sizes only
        ("bri=-0", ""),
    ]
    for first, second in same:
        assert parse_query(first).canonical() == parse_query(second).canonical(), (first, second)


def test_new_spellings_that_render_differently_do_not():
    different = [
        ("w=0.5", "w=1"),
        ("w=10&ar=1:1&fit=min", "w=10&fit=min"),
        ("w=10&ar=1:1&fit=crop", "w=10&fit=crop"),  # ar makes a box, so crop cuts
        ("w=10&h=10&fit=crop&crop=entropy", "w=10&h=10&fit=crop&crop=attention"),
        ("w=10&h=10&fit=crop&crop=focalpoint&fp-x=0.2", "w=10&h=10&fit=crop&crop=focalpoint"),
        ("orient=90", "orient=270"),
        ("pad=5", "pad=5&pad-left=6"),
        ("pad=5&dpr=2", "pad=5"),  # dpr scales padding
        ("rect=0,0,10,10", ""),
        ("trim=auto", "trim=color"),
        ("trim=color&trim-color=fff", "trim=color"),
        ("trim=auto&trim-tol=0", "trim=auto"),
        ("frame=1", ""),  # frame=1 makes an animation still
        ("fm=webp&lossless=1", "fm=webp"),
        ("lossless=1", ""),  # the source family may be WebP or AVIF
        ("fm=json", "fm=png"),
        ("auto=compress&fm=png", "fm=png"),  # harder deflate
    ]
    for first, second in different:
        assert parse_query(first).canonical() != parse_query(second).canonical(), (first, second)


def test_padding_reads_pad_then_each_side():
    assert parse_query("pad=4&pad-left=1").sides() == Sides(top=4, right=4, bottom=4, left=1)
    assert parse_query("pad-bottom=2").sides() == Sides(bottom=2)


def test_ratio_and_aspect_spell_back_as_written():
    assert parse_query("w=0.25&ar=1.91:1&fit=crop").canonical() == "ar=1.91%3A1&fit=crop&w=0.25"
