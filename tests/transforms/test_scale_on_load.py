"""Scale-on-load: the decode shrinks by the factor imgproxy takes, and sizes stay those libvips' thumbnail gave;
a burst's runs share one decode, made at the largest result's scale."""

from __future__ import annotations

import pytest
import pyvips

from tests.transforms.images import noisy, oriented_jpeg, png, quadrants, svg
from transforms import scale_on_load, vips
from transforms.negotiate import choose_format
from transforms.params import parse_query
from transforms.pipeline import PixelBudget, run
from transforms.scale_on_load import KERNEL, Mode, fitted, jpeg_shrink, load_options
from transforms.shared_decode import SharedDecode
from transforms.sniff import SourceFormat


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips():
    vips.configure(concurrency=1)


def rendered(data: bytes, query: str, shared: SharedDecode | None = None) -> pyvips.Image:
    options = parse_query(query)
    chosen, _ = choose_format(options, None)
    return pyvips.Image.new_from_buffer(run(data, options, chosen, PixelBudget(), shared=shared).data, "")


@pytest.mark.parametrize(
    ("factor", "fast", "fine"),
    [(1.0, 1, 1), (1.99, 1, 1), (2.0, 2, 1), (3.9, 2, 1), (4.0, 4, 2), (6.4, 4, 2), (8.0, 8, 4), (40.0, 8, 8)],
)
def test_jpeg_shrinks_by_the_full_factor_the_reduction_reaches(factor, fast, fine):
    assert jpeg_shrink(factor) == fast
    assert jpeg_shrink(factor, Mode.FINE) == fine


def test_other_formats_scale_on_load_where_their_decoders_can():
    assert load_options(SourceFormat.JPEG, 6.4, Mode.FAST) == {"shrink": 4}
    assert load_options(SourceFormat.JPEG, 1.5, Mode.FAST) == {}
    assert load_options(SourceFormat.WEBP, 8.0) == {"scale": 0.25}  # twice the result's size
    assert load_options(SourceFormat.WEBP, 1.5) == {}
    assert load_options(SourceFormat.SVG, 4.0) == {"scale": 0.25}
    assert load_options(SourceFormat.SVG, 0.5) == {"scale": 2.0}  # a vector renders larger, sharp
    for other in (SourceFormat.PNG, SourceFormat.GIF, SourceFormat.TIFF):
        assert load_options(other, 8.0) == {}


@pytest.mark.parametrize(
    ("box", "size", "crop"),
    [
        ((400, 10_000_000), "both", "none"),
        ((10_000_000, 333), "both", "none"),
        ((300, 300), "both", "none"),
        ((300, 300), "both", "centre"),
        ((300, 300), "both", "attention"),
        ((250, 400), "both", "low"),
        ((301, 77), "force", "none"),
        ((3000, 3000), "down", "none"),
        ((3000, 3000), "both", "none"),
        ((999, 10_000_000), "down", "none"),
    ],
)
@pytest.mark.parametrize("source", [(2561, 1601), (1000, 1000), (17, 3000)])
def test_sizes_are_those_of_libvips_thumbnail(box, size, crop, source):
    data = png(noisy(*source))
    expected = pyvips.Image.thumbnail_buffer(data, box[0], height=box[1], size=size, crop=crop)
    fit = fitted(source[0], source[1], box[0], box[1], size, crop)
    assert (fit.cut_width, fit.cut_height) == (expected.width, expected.height)


def test_a_jpeg_is_decoded_at_the_full_dct_factor_then_reduced(corpus):
    data = (corpus / "photo-kite.jpg").read_bytes()  # 2560x1600: 400 px is a 6.4x reduction
    out = rendered(data, "w=400&fm=png")
    shrunk = pyvips.Image.new_from_buffer(data, "", shrink=4)
    by_hand = shrunk.resize(400 / shrunk.width, vscale=250 / shrunk.height, kernel=KERNEL)
    assert (out.width, out.height) == (400, 250)
    assert (out - by_hand).abs().max() == 0


def test_fine_mode_leaves_the_kernel_a_factor_of_two(corpus):
    data = (corpus / "photo-kite.jpg").read_bytes()
    scale_on_load.configure(Mode.FINE)
    try:
        out = rendered(data, "w=400&fm=png")
    finally:
        scale_on_load.configure(Mode.FAST)
    shrunk = pyvips.Image.new_from_buffer(data, "", shrink=2)
    by_hand = shrunk.resize(400 / shrunk.width, vscale=250 / shrunk.height, kernel=KERNEL)
    assert (out - by_hand).abs().max() == 0


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_exif_rotation_turns_the_small_image_and_sizes_follow_the_upright_source(orientation):
    data = oriented_jpeg(noisy(640, 320), orientation)
    out = rendered(data, "w=100&h=100&fit=crop&fm=png")
    assert (out.width, out.height) == (100, 100)
    clip = rendered(data, "w=100&fm=png")
    assert (clip.width, clip.height) == ((100, 200) if orientation in (6, 8) else (100, 50))


def test_webp_and_svg_sources_come_out_at_the_asked_size():
    data = noisy(1600, 900).webpsave_buffer()
    out = rendered(data, "w=200&fm=png")
    assert (out.width, out.height) == (200, 113)  # 112.5, half up
    vector = svg(1000, 500, '<rect width="1000" height="500"/>')
    drawn = rendered(vector, "w=250&fm=png")
    assert (drawn.width, drawn.height) == (250, 125)
    enlarged = rendered(vector, "w=2000&fm=png")
    assert (enlarged.width, enlarged.height) == (2000, 1000)


def test_transparent_pixels_do_not_bleed_their_colour_into_the_visible_ones():
    # Left half opaque white, right half fully transparent *red*: premultiplied resizing keeps the edge white.
    opaque = pyvips.Image.black(200, 100, bands=3) + 255
    alpha = pyvips.Image.black(200, 100).draw_rect(255, 0, 0, 100, 100, fill=True)
    red = (pyvips.Image.black(200, 100, bands=3) + [255, 0, 0]).cast("uchar")
    rgb = opaque.extract_area(0, 0, 100, 100).join(red.extract_area(100, 0, 100, 100), "horizontal")
    data = png(rgb.bandjoin(alpha).cast("uchar").copy(interpretation="srgb"))
    out = rendered(data, "w=50&fm=png")
    edge = out.extract_area(22, 10, 3, 1)  # the visible pixels nearest the transparent half
    assert edge.extract_band(3).min() > 0
    assert edge.extract_band(1).min() >= 250  # no red mixed in: green stays white's


def test_a_burst_decodes_once_at_the_largest_widths_scale(corpus):
    data = (corpus / "photo-colorfulcups.jpg").read_bytes()  # progressive: its decode costs the same at any scale
    share = SharedDecode(64 * 1024 * 1024)
    for width in (320, 1920):
        share.want(parse_query(f"w={width}&fm=png"))
    small = rendered(data, "w=320&fm=png", share)  # first: it decodes for the 1920 one too (2560 -> 1920: 1/1)
    large = rendered(data, "w=1920&fm=png", share)
    full = pyvips.Image.new_from_buffer(data, "")
    assert (small - full.resize(320 / 2560, vscale=200 / 1600, kernel=KERNEL)).abs().max() == 0
    assert (large - full.resize(1920 / 2560, vscale=1200 / 1600, kernel=KERNEL)).abs().max() == 0


def test_a_share_too_large_or_of_one_run_leaves_each_run_its_own_decode(corpus):
    data = (corpus / "photo-colorfulcups.jpg").read_bytes()
    own = rendered(data, "w=320&fm=png")  # 1/8 scaled decode
    tiny = SharedDecode(max_bytes=1000)
    for width in (320, 1920):
        tiny.want(parse_query(f"w={width}&fm=png"))
    alone = SharedDecode(64 * 1024 * 1024)
    alone.want(parse_query("w=320&fm=png"))
    for share in (tiny, alone):
        assert (rendered(data, "w=320&fm=png", share) - own).abs().max() == 0


def test_a_late_run_that_needs_more_pixels_decodes_on_its_own(corpus):
    data = (corpus / "photo-colorfulcups.jpg").read_bytes()
    share = SharedDecode(64 * 1024 * 1024)
    share.want(parse_query("w=320&fm=png"))
    share.want(parse_query("w=400&fm=png"))
    rendered(data, "w=320&fm=png", share)  # decodes at 1/4 for the 400 one
    late = rendered(data, "w=1600&fm=png", share)  # not wanted when the decode was made
    assert (late.width, late.height) == (1600, 1000)
    assert (late - rendered(data, "w=1600&fm=png")).abs().max() == 0


def test_a_baseline_jpeg_is_not_shared_its_scaled_decodes_are_cheaper(corpus):
    data = (corpus / "photo-kite.jpg").read_bytes()
    share = SharedDecode(64 * 1024 * 1024)
    for width in (320, 1920):
        share.want(parse_query(f"w={width}&fm=png"))
    assert (rendered(data, "w=320&fm=png", share) - rendered(data, "w=320&fm=png")).abs().max() == 0


def test_a_png_burst_shares_its_decode():
    data = png(noisy(1200, 800))
    share = SharedDecode(64 * 1024 * 1024)
    for width in (100, 600):
        share.want(parse_query(f"w={width}&fm=png"))
    outputs = [rendered(data, f"w={width}&fm=png", share) for width in (100, 600)]
    assert [(out.width, out.height) for out in outputs] == [(100, 67), (600, 400)]
    assert (outputs[0] - rendered(data, "w=100&fm=png")).abs().max() == 0  # PNG decodes at full size either way


@pytest.mark.parametrize("orientation", [1, 6])
def test_a_rect_is_cut_from_a_decode_scaled_for_its_own_reduction(orientation):
    source = quadrants(1600, 800)
    data = oriented_jpeg(source, orientation)
    upright = pyvips.Image.new_from_buffer(data, "").autorot()
    # The bottom-right quadrant of the upright image, made 8x smaller: decoded at 1/8, then cut.
    region = (upright.width // 2, upright.height // 2, upright.width // 2, upright.height // 2)
    query = f"rect={','.join(map(str, region))}&w={region[2] // 8}&fm=png"
    out = rendered(data, query)
    assert (out.width, out.height) == (region[2] // 8, region[3] // 8)
    by_hand = upright.extract_area(*region).resize(1 / 8, kernel=KERNEL)
    # Within one output pixel of the exact cut: the inside matches, the edge may hold a sliver of a neighbour.
    inner = (2, 2, out.width - 4, out.height - 4)
    assert (out.extract_area(*inner) - by_hand.extract_area(*inner)).abs().max() <= 12
