"""Marks on output pixels: placement, opacity, size, tiling, text, band layouts, and the parsers."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import pyvips

from tests.transforms.mark_images import (
    BLUE,
    RED,
    band_max,
    band_means,
    changed_box,
    circle_svg,
    frame,
    largest_difference,
    mark_png,
    same_pixels,
)
from transforms import vips
from transforms.errors import InvalidParameter, UnsupportedImage
from transforms.marks import (
    MARK_PARAMETERS,
    MarkSpec,
    apply_mark,
    parse_align,
    parse_alpha,
    parse_color,
    parse_font,
    parse_font_size,
    parse_pad,
    parse_scale,
    parse_size,
    parse_text,
    prepare_mark,
)

# A 40×20 white logo on a 300×200 black frame: every expected box below is plain arithmetic on these.
LOGO = mark_png(40, 20)


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips():
    # Marks are decoded under the same loader block list as originals.
    vips.configure(concurrency=2)


def stamped(spec: MarkSpec, width: int = 300, height: int = 200, values: tuple[int, ...] = (0, 0, 0)):
    before = frame(width, height, values)
    after = apply_mark(before, spec).copy_memory()
    return before, after


# --- placement ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("align", "box"),
    [
        (("top", "left"), (10, 10, 40, 20)),
        (("top", "center"), (130, 10, 40, 20)),
        (("top", "right"), (250, 10, 40, 20)),
        (("middle", "left"), (10, 90, 40, 20)),
        (("middle", "center"), (130, 90, 40, 20)),
        (("middle", "right"), (250, 90, 40, 20)),
        (("bottom", "left"), (10, 170, 40, 20)),
        (("bottom", "center"), (130, 170, 40, 20)),
        (("bottom", "right"), (250, 170, 40, 20)),
    ],
)
def test_the_mark_lands_where_align_and_pad_put_it(align, box):
    before, after = stamped(MarkSpec(image=LOGO, align=align))
    assert changed_box(before, after) == box
    assert band_means(after, box) == (255, 255, 255)


def test_the_default_is_bottom_right_and_the_opposite_corner_is_untouched():
    before, after = stamped(MarkSpec(image=LOGO))
    assert changed_box(before, after) == (250, 170, 40, 20)
    assert band_means(after, (0, 0, 100, 60)) == (0, 0, 0)


@pytest.mark.parametrize(("pad", "box"), [(0, (260, 180, 40, 20)), (25, (235, 155, 40, 20))])
def test_pad_is_the_distance_from_the_aligned_edges(pad, box):
    before, after = stamped(MarkSpec(image=LOGO, pad=pad))
    assert changed_box(before, after) == box


def test_pad_gives_way_on_an_output_too_small_for_it():
    before, after = stamped(MarkSpec(image=mark_png(4, 4), pad=30), width=40, height=24)
    # A quarter of each side at most (10 and 6), so the mark stays on the image.
    assert changed_box(before, after) == (26, 14, 4, 4)


# --- opacity ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("alpha", "level"), [(100, 255), (50, 127.5), (25, 63.75)])
def test_alpha_blends_by_the_expected_fraction(alpha, level):
    before, after = stamped(MarkSpec(image=LOGO, alpha=alpha))
    box = changed_box(before, after)
    assert box == (250, 170, 40, 20)
    for mean in band_means(after, box):
        assert abs(mean - level) <= 1


def test_alpha_zero_leaves_the_frame_unchanged():
    before, after = stamped(MarkSpec(image=LOGO, alpha=0))
    assert same_pixels(before, after)


def test_alpha_multiplies_the_marks_own_transparency():
    before, after = stamped(MarkSpec(image=mark_png(40, 20, (255, 255, 255, 128)), alpha=50))
    for mean in band_means(after, (250, 170, 40, 20)):
        assert abs(mean - 64) <= 1.5


# --- size ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("scale", "width", "expected"), [(0.25, 400, (100, 50)), (0.5, 800, (400, 200))])
def test_scale_sizes_the_mark_relative_to_the_output_width(scale, width, expected):
    before, after = stamped(MarkSpec(image=LOGO, scale=scale), width=width, height=300)
    box = changed_box(before, after)
    assert box is not None
    assert abs(box[2] - expected[0]) <= 1
    assert abs(box[3] - expected[1]) <= 1
    assert box[0] + box[2] == width - 10  # still bottom-right, 10 px in


def test_a_mark_never_overflows_the_output():
    before, after = stamped(MarkSpec(image=LOGO, scale=1.0), width=400, height=100)
    # 380 px wide would be 190 tall; the room is 380×80, so it fits the height instead.
    assert changed_box(before, after) == (230, 10, 160, 80)


@pytest.mark.parametrize(
    ("w", "h", "size"),
    [
        (60, None, (60, 30)),
        (None, 40, (80, 40)),
        (120, 60, (120, 60)),
        (100, 100, (100, 50)),  # both: fits inside, keeping the aspect
    ],
)
def test_fixed_width_and_height(w, h, size):
    before, after = stamped(MarkSpec(image=LOGO, w=w, h=h))
    assert changed_box(before, after) == (290 - size[0], 190 - size[1], *size)


def test_fixed_size_wins_over_scale():
    before, after = stamped(MarkSpec(image=LOGO, w=60, scale=0.9))
    assert changed_box(before, after) == (230, 160, 60, 30)


@pytest.mark.parametrize("scale", [0.1, 0.37, 0.9])
def test_resizing_keeps_hidden_colour_from_bleeding_into_the_edges(scale):
    # A blue logo whose transparent pixels hold yellow: resampled without premultiplying, the yellow
    # would bleed into its edges, visible on a frame of the logo's own blue.
    blue = (0, 128, 255)
    logo = frame(60, 40, (255, 255, 0, 0)).insert(frame(40, 20, (*blue, 255)), 10, 10)
    before, after = stamped(MarkSpec(image=logo.pngsave_buffer(), scale=scale), values=blue)
    assert largest_difference(before, after) <= 1  # resampling may overshoot by a level


# --- tile ---------------------------------------------------------------------------------------------


def test_tile_covers_the_whole_image():
    before, after = stamped(MarkSpec(image=mark_png(20, 10), tile=True, alpha=50), width=400, height=300)
    # 30-px cells from x=10: the last tile ends at 390; 20-px rows from y=10 reach the bottom edge.
    assert changed_box(before, after) == (10, 10, 380, 290)
    for quadrant in ((0, 0), (200, 0), (0, 150), (200, 150)):
        part = (*quadrant, 200, 150)
        assert band_means(after, part)[0] > 20
        assert abs(band_max(after, part, 0) - 128) <= 1  # alpha applies to every tile
    # Tiles start pad from the corner, pad apart: (10, 10) is marked, the gap at (35, 10) is not.
    assert after.getpoint(10, 10)[0] > 0
    assert after.getpoint(35, 10)[0] == 0
    assert after.getpoint(40, 10)[0] > 0


# --- text ---------------------------------------------------------------------------------------------


def test_a_text_mark_renders_in_the_colour_asked():
    before, after = stamped(MarkSpec(text="MARK", color="f00"), width=400)
    box = changed_box(before, after)
    assert box is not None
    assert box[2] > 30 and box[3] > 10
    assert band_max(after, box, 0) >= 250
    assert band_max(after, box, 1) == 0
    assert band_max(after, box, 2) == 0


def test_a_text_background_paints_a_box_behind_the_text():
    plain = changed_box(*stamped(MarkSpec(text="MARK")))
    before, after = stamped(MarkSpec(text="MARK", background="0000ff"))
    boxed = changed_box(before, after)
    assert plain is not None and boxed is not None
    assert boxed[2] > plain[2] and boxed[3] > plain[3]
    assert tuple(after.getpoint(boxed[0], boxed[1])) == BLUE


def test_font_size_is_in_pixels():
    small = changed_box(*stamped(MarkSpec(text="MARK", background="000080", font_size=20), width=600))
    large = changed_box(*stamped(MarkSpec(text="MARK", background="000080", font_size=40), width=600))
    assert small is not None and large is not None
    assert 20 <= small[3] <= 40
    assert abs(large[3] / small[3] - 2) < 0.15


def test_text_scale_sizes_it_relative_to_the_output_width():
    before, after = stamped(MarkSpec(text="© imgate", background="000080", scale=0.5), width=400)
    box = changed_box(before, after)
    assert box is not None
    assert abs(box[2] - 200) <= 1


def test_a_translucent_text_colour_blends():
    before, after = stamped(MarkSpec(text="MARK", color="80ffffff"))
    box = changed_box(before, after)
    assert box is not None
    assert abs(band_max(after, box, 0) - 128) <= 1


def test_text_scaled_up_is_drawn_again_and_stays_sharp():
    before, after = stamped(MarkSpec(text="MARK", font_size=8, scale=0.9), width=400)
    box = changed_box(before, after)
    assert box is not None and box[2] == 360
    red = after.crop(*box).extract_band(0)
    inked = (red >= 245).avg() / 255
    edges = ((red > 10) & (red < 245)).avg() / 255
    # Drawn at ~45 px: mostly solid strokes with thin antialiased edges. An 8-px rendering resampled
    # 45 times over would be almost all edge (measured: 80 % of the box).
    assert inked > 0.2 and edges < 0.3


def test_text_that_looks_like_markup_is_shown_as_typed():
    plain = changed_box(*stamped(MarkSpec(text="b", background="000080")))
    markup = changed_box(*stamped(MarkSpec(text="<b>&amp;", background="000080")))
    assert plain is not None and markup is not None
    assert markup[2] > 4 * plain[2]


# --- band layouts -------------------------------------------------------------------------------------


def test_on_a_transparent_frame_only_the_mark_becomes_visible():
    before, after = stamped(MarkSpec(image=LOGO, alpha=50), values=(0, 0, 0, 0))
    assert after.bands == 4
    assert changed_box(before, after) == (250, 170, 40, 20)
    # Unpremultiplied: the mark keeps its white, at the opacity asked; the rest stays fully transparent.
    assert band_means(after, (250, 170, 40, 20)) == (255, 255, 255, 128)
    assert band_max(after, (0, 0, 240, 200), 3) == 0


def test_the_frames_own_translucency_is_kept_beside_the_mark():
    before, after = stamped(MarkSpec(image=LOGO), values=(0, 0, 255, 128))
    assert changed_box(before, after) == (250, 170, 40, 20)
    assert band_means(after, (250, 170, 40, 20)) == (255, 255, 255, 255)


@pytest.mark.parametrize("values", [(0,), (0, 255), (0, 0, 0), (0, 0, 0, 255)])
def test_a_colourless_mark_keeps_the_band_layout(values):
    before, after = stamped(MarkSpec(image=LOGO), values=values)
    assert after.bands == len(values)
    assert changed_box(before, after) == (250, 170, 40, 20)
    assert band_means(after, (250, 170, 40, 20))[0] == 255


@pytest.mark.parametrize(("values", "bands"), [((0,), 3), ((0, 255), 4)])
def test_a_colour_mark_turns_a_grey_frame_to_srgb(values, bands):
    after = apply_mark(frame(300, 200, values), MarkSpec(image=mark_png(40, 20, RED))).copy_memory()
    assert (after.bands, after.interpretation) == (bands, "srgb")
    assert band_means(after, (250, 170, 40, 20))[:3] == RED
    assert band_means(after, (0, 0, 100, 100))[:3] == (0, 0, 0)


@pytest.mark.parametrize("bands", [1, 2, 3, 4])
def test_a_frame_without_a_band_label_is_stamped(bands):
    unlabelled = pyvips.Image.black(300, 200, bands=bands).cast("uchar")
    assert unlabelled.interpretation == "multiband"
    after = apply_mark(unlabelled, MarkSpec(image=LOGO)).copy_memory()
    assert after.bands == bands
    assert band_means(after, (250, 170, 40, 20))[0] == 255
    assert band_means(after, (0, 0, 100, 100))[0] == 0


def test_a_sequential_frame_is_read_once_top_to_bottom():
    source = frame(300, 200).pngsave_buffer()
    lazy = pyvips.Image.new_from_buffer(source, "", access="sequential")
    encoded = apply_mark(lazy, MarkSpec(image=LOGO, tile=True)).pngsave_buffer()
    after = pyvips.Image.new_from_buffer(encoded, "")
    assert after.getpoint(10, 10) == [255, 255, 255]


# --- mark images --------------------------------------------------------------------------------------


@pytest.mark.parametrize("save", ["jpegsave_buffer", "webpsave_buffer"])
def test_jpeg_and_webp_marks(save):
    data = getattr(frame(40, 20, (255, 0, 0)), save)(Q=100)
    before, after = stamped(MarkSpec(image=data))
    assert changed_box(before, after) == (250, 170, 40, 20)
    red, green, blue = band_means(after, (252, 172, 36, 16))
    assert red > 240 and green < 15 and blue < 15


def test_a_grey_and_a_16_bit_mark_image():
    grey = frame(40, 20, (200,)).pngsave_buffer()
    deep = frame(40, 20, (255, 0, 0)).cast("ushort").linear(257, 0).cast("ushort")
    deep = deep.copy(interpretation="rgb16").pngsave_buffer()
    assert pyvips.Image.new_from_buffer(deep, "").format == "ushort"
    for data, colour in ((grey, (200, 200, 200)), (deep, RED)):
        after = apply_mark(frame(300, 200), MarkSpec(image=data)).copy_memory()
        assert band_means(after, (250, 170, 40, 20)) == colour


def test_the_exif_orientation_of_a_mark_is_applied():
    # Stored 20 wide and 40 tall, red on top; orientation 6 asks viewers to turn it a quarter clockwise.
    stored = frame(20, 40, (0, 0, 255)).draw_rect([255, 0, 0], 0, 0, 20, 20, fill=True)
    stored.set_type(pyvips.GValue.gint_type, "orientation", 6)
    before, after = stamped(MarkSpec(image=stored.jpegsave_buffer(Q=95)))
    assert changed_box(before, after) == (250, 170, 40, 20)
    left, right = band_means(after, (252, 172, 16, 16)), band_means(after, (272, 172, 16, 16))
    assert left[2] > 200 > left[0] and right[0] > 200 > right[2]  # the red top is now on the right


def test_a_cmyk_mark_is_converted_to_srgb():
    cmyk = frame(40, 20, RED).icc_transform("cmyk", input_profile="srgb").jpegsave_buffer(Q=95)
    after = apply_mark(frame(300, 200), MarkSpec(image=cmyk)).copy_memory()
    # Red makes a round trip through the CMYK gamut: compare with libvips' own conversion of the file.
    expected = pyvips.Image.new_from_buffer(cmyk, "").icc_transform("srgb", embedded=True)
    shown = band_means(after, (252, 172, 36, 16))
    assert all(abs(a - b) <= 2 for a, b in zip(shown, band_means(expected, (2, 2, 36, 16)), strict=True))
    assert shown[0] > 200 and shown[1] < 50 and shown[2] < 50


def test_a_display_p3_mark_is_converted_to_srgb():
    p3 = frame(40, 20, RED).icc_transform("p3", input_profile="srgb")
    assert band_means(p3, (0, 0, 40, 20))[1] > 40  # the same red reads differently in P3
    after = apply_mark(frame(300, 200), MarkSpec(image=p3.pngsave_buffer())).copy_memory()
    red, green, blue = band_means(after, (252, 172, 36, 16))
    assert red > 240 and green < 15 and blue < 15


def test_an_svg_mark_is_drawn_again_at_the_size_asked_not_resampled():
    before, after = stamped(MarkSpec(image=circle_svg(8), w=160, pad=0), width=400, height=200)
    assert changed_box(before, after) == (240, 40, 160, 160)
    red = after.crop(240, 40, 160, 160).extract_band(0)
    edge = ((red > 10) & (red < 245)).avg() / 255 * 160 * 160
    # A drawn circle's edge is one or two pixels of antialiasing round it (~500 px); an 8-px raster
    # blown up 20 times smears it over ~20 pixels (~10,000 px).
    assert edge < 1500


def test_a_real_photo_with_an_alpha_band_as_a_mark(images_dir: Path):
    photo = pyvips.Image.thumbnail(str(images_dir / "alpha-elarun.png"), 160).copy_memory()
    assert photo.bands == 4
    # Cut out the left half, so that the mark's own transparency is exercised too.
    alpha = photo.extract_band(3).draw_rect(0, 0, 0, 80, photo.height, fill=True)
    logo = photo.extract_band(0, n=3).bandjoin(alpha).copy(interpretation="srgb")
    before, after = stamped(MarkSpec(image=logo.pngsave_buffer(), scale=0.4), width=400, height=300)
    left, top = 390 - 160, 290 - photo.height
    box = changed_box(before, after)
    assert box is not None
    assert box[0] >= left + 80 and box[0] + box[2] == 390 and box[1] + box[3] == 290
    shown = after.crop(left + 80, top, 80, photo.height)
    wanted = photo.crop(80, 0, 80, photo.height).extract_band(0, n=3)
    assert (shown.cast("int") - wanted.cast("int")).abs().max() <= 1


def test_a_corrupt_mark_image_is_unsupported():
    spec = MarkSpec(image=LOGO[: len(LOGO) // 2])
    with pytest.raises(UnsupportedImage) as caught:
        apply_mark(frame(300, 200), spec)
    assert "mark" in caught.value.message


def test_an_oversized_mark_image_is_refused_before_decoding():
    spec = MarkSpec(image=pyvips.Image.black(5000, 2).pngsave_buffer())
    with pytest.raises(UnsupportedImage, match="at most 4096 pixels"):
        apply_mark(frame(300, 200), spec)


def test_prepare_mark_decodes_now_and_reports_the_natural_size():
    assert prepare_mark(MarkSpec(image=LOGO, scale=0.5)) == (40, 20)
    width, height = prepare_mark(MarkSpec(text="MARK", font_size=30))
    assert width > 2 * height > 30
    with pytest.raises(UnsupportedImage):
        prepare_mark(MarkSpec(image=LOGO[:-30]))


def test_a_text_rendering_larger_than_a_mark_may_be_is_refused():
    with pytest.raises(InvalidParameter) as caught:
        prepare_mark(MarkSpec(text="W" * 200, font_size=40))
    assert caught.value.param == "text"


@pytest.mark.parametrize(
    "data",
    [b"GIF89a" + bytes(20), b"II*\x00" + bytes(20), b"plain text, not an image"],
)
def test_a_mark_image_must_be_png_jpeg_webp_or_svg(data):
    with pytest.raises(UnsupportedImage):
        MarkSpec(image=data)


def test_marks_are_shared_safely_across_threads():
    spec = MarkSpec(text="© imgate", color="f80", background="80000000", scale=0.3)
    widths = [200, 300, 400] * 8

    def one(width: int) -> bytes:
        data: bytes = apply_mark(frame(width, 150), spec).pngsave_buffer()
        return data

    expected = {width: one(width) for width in set(widths)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, widths))
    assert results == [expected[width] for width in widths]


# --- the spec and its fingerprint ---------------------------------------------------------------------


def test_fingerprint_is_stable_and_normalised():
    first = MarkSpec(text="hi", color="FFF", align=["top", "left"])  # type: ignore[arg-type]
    second = MarkSpec(text="hi", color="ffffff", align=("top", "left"))
    assert first == second
    assert first.fingerprint() == second.fingerprint()
    assert len(first.fingerprint()) == 64 and int(first.fingerprint(), 16) >= 0


@pytest.mark.parametrize(
    "change",
    [
        {"text": "ho"},
        {"font": "serif"},
        {"font_size": 25},
        {"color": "fe0000"},
        {"background": "000000"},
        {"align": ("top", "left")},
        {"alpha": 99},
        {"scale": 0.5},
        {"pad": 11},
        {"w": 50},
        {"h": 50},
        {"tile": True},
    ],
)
def test_every_field_changes_the_fingerprint(change):
    base = MarkSpec(text="hi")
    assert dataclasses.replace(base, **change).fingerprint() != base.fingerprint()


def test_one_byte_of_the_image_changes_the_fingerprint():
    other = bytearray(LOGO)
    other[-20] ^= 1
    assert MarkSpec(image=bytes(other)).fingerprint() != MarkSpec(image=LOGO).fingerprint()


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({}, "mark"),
        ({"image": LOGO, "text": "both"}, "mark"),
        ({"text": ""}, "text"),
        ({"text": "two\nlines"}, "text"),
        ({"text": "x" * 201}, "text"),
        ({"text": "x", "font": "sans 12"}, "font"),
        ({"text": "x", "font": "/etc/fonts/x.ttf"}, "font"),
        ({"text": "x", "font_size": 0}, "font_size"),
        ({"text": "x", "color": "red"}, "color"),
        ({"text": "x", "background": "12345"}, "background"),
        ({"image": LOGO, "align": ("left", "top")}, "align"),
        ({"image": LOGO, "alpha": 101}, "alpha"),
        ({"image": LOGO, "alpha": True}, "alpha"),
        ({"image": LOGO, "scale": 0.0}, "scale"),
        ({"image": LOGO, "scale": 1.5}, "scale"),
        ({"image": LOGO, "pad": -1}, "pad"),
        ({"image": LOGO, "w": 0}, "w"),
        ({"image": LOGO, "h": 9000}, "h"),
    ],
)
def test_a_bad_spec_names_the_field(fields, param):
    with pytest.raises(InvalidParameter) as caught:
        MarkSpec(**fields)
    assert caught.value.param == param
    assert caught.value.message.startswith(f"{param}: ")


# --- parsers ------------------------------------------------------------------------------------------


def test_mark_parameters_are_the_url_api_names():
    overrides = {"mark-align", "mark-alpha", "mark-scale", "mark-pad", "mark-w", "mark-h"}
    assert MARK_PARAMETERS == {"mark"} | overrides


@pytest.mark.parametrize(
    ("text", "align"),
    [
        ("top,left", ("top", "left")),
        ("left,top", ("top", "left")),
        ("bottom,right", ("bottom", "right")),
        ("middle,center", ("middle", "center")),
        ("center,middle", ("middle", "center")),
        ("left", ("middle", "left")),
        ("top", ("top", "center")),
        ("center", ("middle", "center")),
        ("middle", ("middle", "center")),
    ],
)
def test_parse_align_takes_the_imgix_forms(text, align):
    assert parse_align(text) == align


@pytest.mark.parametrize(
    "text", ["", "top,bottom", "left,right", "top,top", "top,left,bottom", "Top", "top, left", "centre", "up"]
)
def test_parse_align_refuses_the_rest(text):
    with pytest.raises(InvalidParameter) as caught:
        parse_align(text)
    assert caught.value.param == "mark-align"


@pytest.mark.parametrize(
    ("parser", "good", "bad", "param"),
    [
        (parse_alpha, {"0": 0, "50": 50, "100": 100}, ["", "101", "-1", "5.5", " 5", "٣"], "mark-alpha"),
        (parse_scale, {"25": 0.25, "12.5": 0.125}, ["0", "101", "1e1", "nan", "-5", ".5"], "mark-scale"),
        (parse_pad, {"0": 0, "10": 10, "4096": 4096}, ["", "-1", "4097", "1.5"], "mark-pad"),
    ],
)
def test_numeric_parsers(parser, good, bad, param):
    for text, value in good.items():
        assert parser(text) == value
    for text in bad:
        with pytest.raises(InvalidParameter) as caught:
            parser(text)
        assert caught.value.param == param


@pytest.mark.parametrize("param", ["mark-w", "mark-h"])
def test_parse_size_names_the_parameter_it_was_given(param):
    assert parse_size("120", param) == 120
    for text in ("0", "8193", "12px", ""):
        with pytest.raises(InvalidParameter) as caught:
            parse_size(text, param)
        assert caught.value.param == param


def test_text_field_parsers():
    assert parse_color("F00", "color") == "ff0000"
    assert parse_color("8f00", "color") == "88ff0000"
    assert parse_color("ff102030", "color") == "102030"  # opaque ARGB is plain RGB
    assert parse_font("DejaVu Sans bold", "font") == "DejaVu Sans bold"
    assert parse_font_size("48", "font_size") == 48
    assert parse_text("© 2026 ACME", "text") == "© 2026 ACME"
    for parser, text in [
        (parse_color, "#fff"),
        (parse_font, "sans,serif"),
        (parse_font, "sans 12"),
        (parse_font_size, "401"),
        (parse_text, "tab\there"),
    ]:
        with pytest.raises(InvalidParameter) as caught:
            parser(text, "field")
        assert caught.value.param == "field"
