from __future__ import annotations

import pytest
import pyvips

from tests.transforms.images import (
    RED,
    WHITE,
    block_on_left,
    block_on_top,
    close,
    cmyk_jpeg,
    jpeg,
    mean_rgb,
    noisy,
    oriented_jpeg,
    p3_jpeg,
    png,
    solid,
    svg,
)
from tests.transforms.render import decoded, render
from transforms import vips
from transforms.options import Format, TransformOptions
from transforms.params import parse_query
from transforms.steps.context import Box, Context, Layout, PixelBudget
from transforms.steps.resize import resize

BLUE = (0, 0, 255)


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips():
    vips.configure(concurrency=2)


@pytest.fixture(scope="module")
def landscape() -> bytes:
    return png(solid(400, 200, RED))


def is_red(pixel: tuple[float, ...]) -> bool:
    return close(pixel, RED, 25)


# --- geometry -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("", (400, 200)),
        ("w=100", (100, 50)),
        ("h=50", (100, 50)),
        ("w=100&dpr=2", (200, 100)),
        ("w=100&h=100", (100, 50)),  # clip: inside the box
        ("w=800&h=800", (800, 400)),  # clip enlarges
        ("w=800&h=800&fit=max", (400, 200)),  # max never does
        ("h=400&fit=max", (400, 200)),
        ("w=100&h=100&fit=crop", (100, 100)),
        ("w=800&h=100&fit=crop", (800, 100)),
        ("w=100&h=100&fit=fill", (100, 100)),
        ("w=100&h=100&fit=min", (100, 100)),
        ("w=800&h=200&fit=min", (400, 100)),  # would enlarge: cut to 4:1 at scale 1 instead
        ("w=100&h=30&fit=scale", (100, 30)),
        ("w=100&h=100&fit=scale&dpr=1.5", (150, 150)),
    ],
)
def test_fit_geometry(landscape, query, size):
    output = render(landscape, query)
    assert (output.width, output.height) == size
    assert decoded(output).width == size[0]


# --- gravity ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("crop", "keeps_block"), [("left", True), ("right", False), ("center", False)])
def test_crop_gravity_chooses_which_end_survives(crop, keeps_block):
    image = decoded(render(png(block_on_left()), f"w=100&h=100&fit=crop&crop={crop}"))
    assert (image.width, image.height) == (100, 100)
    assert is_red(mean_rgb(image, 0, 0, 10, 100)) is keeps_block
    assert close(mean_rgb(image, 60, 0, 40, 100), WHITE, 5)


@pytest.mark.parametrize(("crop", "keeps_block"), [("top", True), ("bottom", False), ("top,right", True)])
def test_crop_gravity_on_the_vertical_axis(crop, keeps_block):
    image = decoded(render(jpeg(block_on_top()), f"w=50&h=50&fit=crop&crop={crop}"))
    assert (image.width, image.height) == (50, 50)
    assert is_red(mean_rgb(image, 0, 0, 50, 5)) is keeps_block


def test_min_that_would_enlarge_cuts_at_the_gravity():
    image = decoded(render(png(block_on_left()), "w=600&h=600&fit=min&crop=left"))
    assert (image.width, image.height) == (100, 100)
    assert is_red(mean_rgb(image, 0, 0, 40, 100))


@pytest.mark.parametrize(("crop", "red_from"), [("left", 0), ("right", 200), ("center", 100)])
def test_fill_places_the_image_at_the_gravity_and_pads_with_bg(crop, red_from):
    image = decoded(render(png(solid(100, 100, RED)), f"w=300&h=100&fit=fill&crop={crop}&bg=00f"))
    assert (image.width, image.height, image.bands) == (300, 100, 3)
    for left in (0, 100, 200):
        assert close(mean_rgb(image, left + 5, 5, 90, 90), RED if left == red_from else BLUE, 3), left


def test_fill_pads_transparent_where_the_format_allows_and_white_in_jpeg():
    source = png(solid(100, 100, RED))
    as_png = decoded(render(source, "w=100&h=200&fit=fill"))
    assert as_png.bands == 4
    assert as_png(50, 5)[3] == 0 and as_png(50, 100)[3] == 255
    as_jpeg = decoded(render(source, "w=100&h=200&fit=fill&fm=jpg"))
    assert as_jpeg.bands == 3
    assert close(mean_rgb(as_jpeg, 0, 0, 100, 40), WHITE, 3)


# --- formats ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fm", "magic", "content_type"),
    [
        ("jpg", lambda d: d[:3] == b"\xff\xd8\xff" and b"\xff\xc2" not in d, "image/jpeg"),
        ("pjpg", lambda d: d[:3] == b"\xff\xd8\xff" and b"\xff\xc2" in d, "image/jpeg"),  # SOF2: progressive
        ("png", lambda d: d[:8] == b"\x89PNG\r\n\x1a\n", "image/png"),
        ("webp", lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP", "image/webp"),
        ("avif", lambda d: d[4:12] == b"ftypavif", "image/avif"),
        ("gif", lambda d: d[:6] == b"GIF89a", "image/gif"),
    ],
)
def test_output_formats_by_magic_and_by_decoding(landscape, fm, magic, content_type):
    output = render(landscape, f"w=101&fm={fm}")  # odd sizes on purpose (chroma subsampling)
    assert output.format is Format(fm)
    assert output.content_type == content_type
    assert magic(output.data)
    image = decoded(output)
    assert (image.width, image.height) == (101, 51)
    assert is_red(mean_rgb(image, 10, 10, 80, 30))


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("image/avif,image/webp,*/*", Format.AVIF), ("image/webp,*/*", Format.WEBP), ("*/*", Format.PNG)],
)
def test_auto_format_follows_accept_else_the_source_family(landscape, accept, expected):
    assert render(landscape, "w=50&auto=format", accept=accept).format is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (lambda im: im.jpegsave_buffer(), Format.JPG),
        (lambda im: im.pngsave_buffer(), Format.PNG),
        (lambda im: im.webpsave_buffer(), Format.WEBP),
        (lambda im: im.gifsave_buffer(), Format.GIF),
        (lambda im: im.tiffsave_buffer(), Format.JPG),
        (lambda im: im.addalpha().tiffsave_buffer(), Format.PNG),
        (lambda im: im.heifsave_buffer(compression="av1"), Format.AVIF),
    ],
)
def test_without_fm_the_output_stays_in_the_source_family(source, expected):
    output = render(bytes(source(solid(40, 20, RED))), "w=20")
    assert output.format is expected
    assert (output.width, output.height) == (20, 10)


def test_svg_sources_render_at_the_requested_size():
    output = render(svg(40, 20, '<rect width="40" height="20" fill="red"/>'), "w=400")
    assert output.format is Format.PNG  # SVG has alpha: PNG, never SVG back
    image = decoded(output)
    assert (image.width, image.height) == (400, 200)
    assert close(mean_rgb(image, 0, 0, 400, 200), (255, 0, 0), 1)  # vector: no resampling blur


def test_quality_defaults_to_80_and_q_overrides(landscape):
    photo = jpeg(noisy(300, 200))  # detail, so that quality shows in the size
    default = render(photo, "fm=jpg").data
    assert default == render(photo, "fm=jpg&q=80").data
    assert len(render(photo, "fm=jpg&q=20").data) < len(default) < len(render(photo, "fm=jpg&q=95").data)


# --- orientation, colour, metadata --------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "fm=png", "w=50"])
def test_exif_orientation_is_applied_and_not_left_for_the_viewer(query):
    # Orientation 6: the stored pixels are shown rotated 90° clockwise, so the left edge ends on top.
    output = render(oriented_jpeg(block_on_left(), 6), query)
    image = decoded(output)
    width = 50 if query == "w=50" else 100
    assert (image.width, image.height) == (width, width * 3)
    assert is_red(mean_rgb(image, 0, 0, width, width // 10))
    assert close(mean_rgb(image, 0, image.height - width // 2, width, width // 4), WHITE, 5)
    assert not image.get_typeof("orientation") or image.get("orientation") == 1


@pytest.mark.parametrize("query", ["w=32", "fm=png"])  # thumbnail path and full-size path
def test_display_p3_source_comes_out_as_the_same_srgb_colour(query):
    source = p3_jpeg(solid(64, 64, RED))
    stored = pyvips.Image.new_from_buffer(source, "")
    assert not close(mean_rgb(stored, 0, 0, 64, 64), RED, 8)  # the test would notice an untagged P3 copy
    image = decoded(render(source, query))
    assert not image.get_typeof("icc-profile-data")
    assert close(mean_rgb(image, 0, 0, image.width, image.height), RED, 4)


@pytest.mark.parametrize("embed_profile", [True, False])
@pytest.mark.parametrize("query", ["w=32", "fm=jpg"])
def test_cmyk_source_comes_out_srgb(embed_profile, query):
    skin = (180, 120, 90)  # inside the CMYK gamut, so the round trip can be exact
    image = decoded(render(cmyk_jpeg(solid(64, 64, skin), embed_profile), query))
    assert image.bands == 3 and image.interpretation == "srgb"
    assert close(mean_rgb(image, 0, 0, image.width, image.height), skin, 5)


def test_sixteen_bit_sources_come_out_eight_bit():
    deep = (solid(40, 40, RED).cast("ushort") * 257).cast("ushort").copy(interpretation="rgb16")
    assert pyvips.Image.new_from_buffer(png(deep), "").format == "ushort"
    for query in ("fm=png", "w=20&fm=png"):
        image = decoded(render(png(deep), query))
        assert image.format == "uchar"
        assert close(mean_rgb(image, 0, 0, 20, 20), RED, 1)


def test_metadata_is_stripped():
    tagged = solid(60, 40).copy()
    tagged.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Artist", "Jane Doe")
    source = jpeg(tagged)
    assert b"Jane Doe" in source
    for query in ("", "w=30", "fm=webp", "fm=png"):
        output = render(source, query)
        assert b"Jane Doe" not in output.data
        assert not decoded(output).get_typeof("exif-data")


# --- transparency ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def half_transparent() -> bytes:
    """Red, left half opaque, right half fully transparent."""
    alpha = solid(100, 50, (255,)).draw_rect([0], 50, 0, 50, 50, fill=True)
    return png(solid(100, 50, RED).bandjoin(alpha))


def test_alpha_is_kept_where_the_format_allows(half_transparent):
    image = decoded(render(half_transparent, "fm=webp&q=100"))
    assert image.bands == 4
    assert image(75, 25)[3] == 0 and image(25, 25)[3] == 255


@pytest.mark.parametrize(
    ("query", "right_half"),
    [
        ("fm=jpg", WHITE),
        ("fm=jpg&bg=00f", BLUE),
        ("fm=jpg&bg=800000ff", (127, 127, 255)),
        ("fm=png&bg=00f", BLUE),
    ],
)
def test_bg_paints_transparency_and_jpeg_flattens(half_transparent, query, right_half):
    image = decoded(render(half_transparent, query))
    assert image.bands == 3
    assert close(mean_rgb(image, 55, 5, 40, 40), right_half, 4)
    assert close(mean_rgb(image, 5, 5, 40, 40), RED, 4)


def test_translucent_bg_stays_translucent_in_formats_with_alpha(half_transparent):
    image = decoded(render(half_transparent, "fm=png&bg=800000ff"))
    assert image.bands == 4
    assert tuple(image(75, 25)) == (0, 0, 255, 128)
    assert tuple(image(25, 25)) == (*RED, 255)


def test_grey_sources_stay_grey_until_a_colour_needs_rgb():
    grey = jpeg(solid(80, 40, (90,)))
    assert decoded(render(grey, "w=40")).bands == 1
    padded = decoded(render(grey, "w=80&h=80&fit=fill&bg=00f&fm=jpg"))
    assert padded.bands == 3
    assert close(mean_rgb(padded, 0, 0, 80, 10), BLUE, 4)


# --- the resize step on a full-size image (the path a later rect step takes) -------------------------


def test_resize_step_on_a_decoded_image_covers_and_cuts_like_the_hot_path():
    image = pyvips.Image.new_from_buffer(png(block_on_left()), "")
    ctx = Context(original=b"", options=TransformOptions(), chosen=None, budget=PixelBudget(), image=image)
    ctx.layout = Layout(resize=Box(100, 100), crop="low")
    resize(ctx)
    assert (ctx.image.width, ctx.image.height) == (100, 100)
    assert is_red(mean_rgb(ctx.image, 0, 0, 10, 100))
    assert close(mean_rgb(ctx.image, 60, 0, 40, 100), WHITE, 5)


# --- real photos (shared corpus) ------------------------------------------------------------------------


def test_corpus_photo_with_exif_and_icc(corpus):
    source = (corpus / "photo-kite.jpg").read_bytes()
    output = render(source, "w=320&fm=webp")
    image = decoded(output)
    assert (image.width, image.height) == (320, 200)
    assert not image.get_typeof("exif-data") and not image.get_typeof("icc-profile-data")
    # Its profile is sRGB, so the colours must match a plain libvips thumbnail.
    reference = pyvips.Image.thumbnail_buffer(source, 320).copy_memory()
    assert close(mean_rgb(image, 0, 0, 320, 200), mean_rgb(reference, 0, 0, 320, 200), 2)


def test_corpus_rgba_png_with_profile(corpus):
    source = (corpus / "alpha-flyingkonqui-icc.png").read_bytes()
    image = decoded(render(source, "w=256&h=256&fit=crop&fm=png"))
    assert (image.width, image.height, image.bands) == (256, 256, 4)
    as_jpeg = decoded(render(source, "w=256&fm=jpg&bg=000"))
    assert as_jpeg.bands == 3


def test_corpus_grey_and_progressive_photos(corpus):
    grey = decoded(render((corpus / "photo-grey.jpg").read_bytes(), "w=200&h=200&fit=crop&crop=bottom"))
    assert (grey.width, grey.height, grey.bands) == (200, 200, 1)
    cups = render((corpus / "photo-colorfulcups.jpg").read_bytes(), "w=160&fm=avif")
    assert cups.format is Format.AVIF and (cups.width, cups.height) == (160, 100)


def test_parsed_options_render_like_their_canonical_form(landscape):
    first = render(landscape, "w=100&h=100&fit=crop&crop=center&dpr=1")
    second = render(landscape, parse_query("w=100&h=100&fit=crop&crop=center&dpr=1").canonical())
    assert first.data == second.data
