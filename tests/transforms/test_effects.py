"""imgix's effects, fills, masks, borders, blends, straighten and the descriptive outputs, on real pixels.

Each test reads the output's pixels and checks what the parameter's documented arithmetic gives, on images
whose colours are known (flat colours, quadrants), so a broken effect shows as a wrong number.
"""

from __future__ import annotations

import json

import blurhash
import pytest
import pyvips

from tests.transforms.images import (
    BLUE,
    GREEN,
    RED,
    WHITE,
    YELLOW,
    animation,
    close,
    gif,
    mean_rgb,
    png,
    quadrants,
    solid,
)
from tests.transforms.render import decoded, render
from transforms.options import Format
from transforms.steps.straighten import cover_zoom

GREY = (128, 128, 128)


def pixel(image: pyvips.Image, x: int, y: int) -> tuple[float, ...]:
    return tuple(image(x, y))


def test_invert_takes_each_channel_to_its_complement() -> None:
    out = decoded(render(png(solid(20, 20, RED)), "invert=true&fm=png"))
    assert pixel(out, 10, 10) == (255 - RED[0], 255 - RED[1], 255 - RED[2])


def test_monochrome_maps_mid_grey_to_the_colour_and_keeps_black_and_white() -> None:
    source = pyvips.Image.black(30, 10, bands=3).draw_rect(list(GREY), 10, 0, 10, 10, fill=True)
    source = source.draw_rect([255, 255, 255], 20, 0, 10, 10, fill=True).cast("uchar").copy(interpretation="srgb")
    out = decoded(render(png(source), "mono=3366cc&fm=png"))
    assert pixel(out, 5, 5) == (0, 0, 0)
    assert close(pixel(out, 15, 5), (0x33, 0x66, 0xCC), 2)
    assert pixel(out, 25, 5) == (255, 255, 255)
    half = decoded(render(png(source), "mono=80ff0000&fm=png"))  # ARGB: alpha 0x80 is the strength
    assert close(pixel(half, 15, 5), (192, 64, 64), 2)


def test_sepia_mixes_in_the_sepia_matrix() -> None:
    out = decoded(render(png(solid(10, 10, WHITE)), "sepia=100&fm=png"))
    assert pixel(out, 5, 5) == (255, 255, 239)  # 0.272 + 0.534 + 0.131 = 0.937 of 255 in blue, the rest clip
    assert decoded(render(png(solid(10, 10, GREY)), "sepia=0&fm=png"))(5, 5) == list(GREY)


def test_duotone_maps_the_luma_from_shadows_to_highlights() -> None:
    source = pyvips.Image.black(20, 10, bands=3).draw_rect([255, 255, 255], 10, 0, 10, 10, fill=True)
    source = source.cast("uchar").copy(interpretation="srgb")
    out = decoded(render(png(source), "duotone=navy,gold&fm=png"))
    assert pixel(out, 5, 5) == (0, 0, 128)
    assert pixel(out, 15, 5) == (255, 215, 0)
    faded = decoded(render(png(source), "duotone=navy,gold&duotone-alpha=50&fm=png"))
    assert close(pixel(faded, 15, 5), (255, 235, 128), 1)


def test_gamma_brightens_mid_tones_and_keeps_the_ends() -> None:
    source = pyvips.Image.black(20, 10, bands=3).draw_rect(list(GREY), 10, 0, 10, 10, fill=True)
    out = decoded(render(png(source.cast("uchar").copy(interpretation="srgb")), "gam=100&fm=png"))
    assert pixel(out, 5, 5) == (0, 0, 0)
    assert close(pixel(out, 15, 5), (181, 181, 181), 1)  # sqrt(128/255) × 255
    darker = decoded(render(png(solid(10, 10, GREY)), "gam=-100&fm=png"))
    assert close(pixel(darker, 5, 5), (64, 64, 64), 1)  # (128/255)² × 255


def test_hue_turns_the_colour_and_keeps_grey() -> None:
    red = decoded(render(png(solid(10, 10, RED)), "hue=180&fm=png"))
    r, g, b = pixel(red, 5, 5)
    assert b > r and g > r  # red's opposite is a cyan
    assert close(pixel(decoded(render(png(solid(10, 10, GREY)), "hue=90&fm=png")), 5, 5), GREY, 2)


def test_vibrance_lifts_dull_colours_more_than_vivid_ones() -> None:
    dull, vivid = (140, 120, 110), (250, 10, 10)

    def spread(colour: tuple[int, int, int]) -> float:
        out = pixel(decoded(render(png(solid(8, 8, colour)), "vib=100&fm=png")), 4, 4)
        return (max(out) - min(out)) / (max(colour) - min(colour))

    assert spread(dull) > 1.5
    assert spread(vivid) < 1.1


def test_pixelate_averages_blocks() -> None:
    out = decoded(render(png(quadrants(40, 20)), "px=20&fm=png"))
    assert pixel(out, 0, 0) == pixel(out, 19, 19)  # one block: one colour
    # The top-left block holds the red quadrant over the blue one: their average.
    assert close(pixel(out, 5, 5), tuple((a + b) / 2 for a, b in zip(RED, BLUE, strict=True)), 2)


def test_unsharp_mask_raises_an_edge_and_leaves_flat_areas() -> None:
    source = png(quadrants(60, 60))
    plain, sharpened = decoded(render(source, "fm=png")), decoded(render(source, "usm=100&usmrad=2&fm=png"))
    assert pixel(sharpened, 5, 5) == pixel(plain, 5, 5)
    edge = 29  # the last column of the left half: the red overshoots away from the green beside it
    assert abs(pixel(sharpened, edge, 5)[0] - GREEN[0]) > abs(pixel(plain, edge, 5)[0] - GREEN[0])


def test_border_draws_inside_the_frame_and_rounds_its_corners() -> None:
    out = decoded(render(png(solid(100, 60, WHITE)), "border=5,red&fm=png"))
    assert (out.width, out.height) == (100, 60)
    assert pixel(out, 2, 30)[:3] == (255, 0, 0) and pixel(out, 50, 57)[:3] == (255, 0, 0)
    assert pixel(out, 50, 30)[:3] == WHITE
    rounded = decoded(render(png(solid(100, 60, WHITE)), "border=5,red&border-radius=20&fm=png"))
    assert rounded.hasalpha() and pixel(rounded, 0, 0)[3] == 0 and pixel(rounded, 50, 2)[3] == 255


def test_masks_make_the_outside_transparent_or_mask_bg() -> None:
    out = decoded(render(png(solid(100, 50, RED)), "mask=ellipse&fm=png"))
    assert pixel(out, 2, 2)[3] == 0 and pixel(out, 50, 25)[3] == 255 and pixel(out, 50, 25)[:3] == RED
    corners = decoded(render(png(solid(100, 50, RED)), "mask=corners&corner-radius=20,0,0,0&mask-bg=blue&fm=png"))
    assert pixel(corners, 1, 1)[:3] == (0, 0, 255)  # the rounded top-left corner
    assert pixel(corners, 98, 1)[:3] == RED  # the square top-right corner
    jpeg = decoded(render(png(solid(100, 50, RED)), "mask=ellipse&fm=jpg"))
    assert close(pixel(jpeg, 1, 1), WHITE, 3)  # outside the mask: flattened onto white


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("normal", (0, 0, 255)), ("multiply", (0, 0, 128)), ("screen", (255, 255, 255)), ("darken", (0, 0, 128))],
)
def test_blend_lays_a_colour_over_the_image_with_its_mode(mode: str, expected: tuple[int, int, int]) -> None:
    out = decoded(render(png(solid(10, 10, (255, 255, 128))), f"blend=0000ff&blend-mode={mode}&fm=png"))
    assert close(pixel(out, 5, 5), expected, 2)
    assert out.bands == 3  # an opaque image stays without alpha


def test_blend_alpha_mixes_the_colour_in() -> None:
    out = decoded(render(png(solid(10, 10, WHITE)), "blend=000000&bm=normal&blend-alpha=25&fm=png"))
    assert close(pixel(out, 5, 5), (191, 191, 191), 2)


def test_rot_straightens_inside_the_frame_without_showing_a_corner() -> None:
    out = decoded(render(png(quadrants(200, 100)), "rot=30&fm=png"))
    assert (out.width, out.height) == (200, 100)
    for x, y in ((0, 0), (199, 0), (0, 99), (199, 99)):  # zoomed to cover: no black or clear corner
        assert max(pixel(out, x, y)[:3]) > 30
    assert cover_zoom(200, 100, 90) == pytest.approx(2.0)  # a quarter turn of 2:1 must zoom by 2
    turned = decoded(render(png(quadrants(200, 100)), "or=90&fm=png"))
    assert (turned.width, turned.height) == (100, 200)


def test_fill_modes_paint_the_added_space() -> None:
    source = png(solid(100, 50, RED))
    solid_fill = decoded(render(source, "w=100&h=100&fit=fill&fill=solid&fill-color=blue&fm=png"))
    assert pixel(solid_fill, 50, 5)[:3] == (0, 0, 255) and pixel(solid_fill, 50, 50)[:3] == RED
    blurred = decoded(render(png(quadrants(200, 100)), "w=100&h=100&fit=fill&fill=blur&fm=png"))
    assert blurred.bands == 3 or pixel(blurred, 50, 3)[3] == 255  # the space holds the image, not transparency
    assert max(pixel(blurred, 50, 3)[:3]) > 40
    clamp = decoded(render(source, "w=100&h=100&fit=clamp&fm=png"))
    assert pixel(clamp, 50, 2)[:3] == RED  # the edge pixels stretched outwards
    fillmax = decoded(render(source, "w=300&h=300&fit=fillmax&fm=png"))
    assert (fillmax.width, fillmax.height) == (300, 300)
    assert pixel(fillmax, 150, 150)[:3] == RED and pixel(fillmax, 150, 10)[3] == 0  # not enlarged, padded


def test_trim_alpha_cuts_the_transparent_border() -> None:
    canvas = pyvips.Image.black(80, 60, bands=4).draw_rect([255, 0, 0, 255], 20, 10, 30, 25, fill=True)
    out = decoded(render(png(canvas.cast("uchar").copy(interpretation="srgb")), "trim=alpha&fm=png"))
    assert (out.width, out.height) == (30, 25)


def test_png8_is_a_palette_png() -> None:
    output = render(png(quadrants(64, 32)), "fm=png8")
    assert output.content_type == "image/png" and output.format is Format.PNG8
    assert pyvips.Image.new_from_buffer(output.data, "").get("palette-bit-depth") <= 8


def test_fm_is_read_in_any_case_with_one_key() -> None:
    from transforms.params import parse_query

    assert parse_query("fm=JPG").canonical() == parse_query("fm=jpg").canonical() == "fm=jpg"


def test_blurhash_answers_the_outputs_placeholder() -> None:
    output = render(png(quadrants(200, 100)), "w=100&fm=blurhash")
    assert output.content_type == "text/plain; charset=utf-8"
    text = output.data.decode("ascii")
    pixels = blurhash.decode(text, 4, 2)  # the top-left of the decoded placeholder leans red, the top-right green
    assert pixels[0][0][0] > pixels[0][0][1] and pixels[0][3][1] > pixels[0][3][0]


def test_info_carries_a_blurhash_beside_the_thumbhash() -> None:
    info = json.loads(render(png(solid(40, 20, BLUE)), "fm=json").data)
    decoded_pixel = blurhash.decode(info["blurhash"], 2, 1)[0][0]
    # BlurHash quantises its average colour (and its decoder adds what the AC terms round to): near, not exact.
    assert close(tuple(decoded_pixel), BLUE, 25) and info["thumbhash"]


def test_palette_answers_the_dominant_colours_as_imgix_does() -> None:
    output = render(png(quadrants(200, 100)), "palette=json&colors=4")
    assert output.content_type == "application/json"
    answer = json.loads(output.data)
    found = [tuple(round(entry[band] * 255) for band in ("red", "green", "blue")) for entry in answer["colors"]]
    assert len(found) == 4
    assert all(any(close(colour, quadrant, 3) for colour in found) for quadrant in (RED, GREEN, BLUE, YELLOW))
    assert all(
        entry["hex"] == "#{:02x}{:02x}{:02x}".format(*colour)
        for entry, colour in zip(answer["colors"], found, strict=True)
    )
    assert all(0 <= answer["colors"][0][band] <= 1 for band in ("red", "green", "blue"))
    assert 0 < answer["average_luminance"] < 1 and set(answer["dominant_colors"]) == {"vibrant", "muted"}
    one = json.loads(render(png(quadrants(200, 100)), "palette=json&colors=1").data)
    assert len(one["colors"]) == 1


def test_effects_apply_to_every_frame_of_an_animation() -> None:
    output = render(gif(animation(4, 40, 30)), "invert=1&px=4&border=2,000")
    assert output.content_type == "image/gif"
    frames = pyvips.Image.new_from_buffer(output.data, "", n=-1)
    assert frames.get("n-pages") == 4


def test_effects_keep_alpha() -> None:
    clear = solid(10, 10, RED).bandjoin(64).copy(interpretation="srgb")
    out = decoded(render(png(clear), "sepia=50&hue=30&invert=1&fm=png"))
    assert pixel(out, 5, 5)[3] == 64


def test_no_effect_costs_nothing_on_the_plain_path() -> None:
    from transforms.params import parse_query

    options = parse_query("w=100&sepia=0&px=0&gam=0&duotone-alpha=50&usmrad=3&corner-radius=4")
    assert options.canonical() == "w=100"  # neutral values and settings of effects not asked for fold away
    assert mean_rgb(decoded(render(png(solid(20, 20, RED)), "w=10&fm=png")), 0, 0, 10, 10) == RED


def test_rect_takes_imgix_ratios_and_keywords() -> None:
    out = decoded(render(png(quadrants(200, 100)), "rect=0.25,top,0.5,0.5&fm=png"))
    assert (out.width, out.height) == (100, 50)
    assert close(pixel(out, 10, 25), RED, 2) and close(pixel(out, 90, 25), GREEN, 2)
    corner = decoded(render(png(quadrants(200, 100)), "rect=right,bottom,20,10&fm=png"))
    assert (corner.width, corner.height) == (20, 10) and close(pixel(corner, 10, 5), YELLOW, 2)
    centre = decoded(render(png(quadrants(200, 100)), "rect=center,middle,1.0,0.5&fm=png"))
    assert (centre.width, centre.height) == (200, 50)


def test_imgix_values_imgate_lacks_are_refused_as_unsupported() -> None:
    from transforms.errors import InvalidParameter
    from transforms.params import parse_query

    for query in (
        "trim=colorunlessalpha",
        "fill=gen",
        "mask=https://a.example/m.png",
        "blend=/logo.png",
        "blend-mode=hue",
        "palette=css",
        "chromasub=422",
        "fm=jxl",
    ):
        with pytest.raises(InvalidParameter, match="imgate does not support"):
            parse_query(query)


def test_capabilities_are_asked_of_libvips() -> None:
    from transforms.capabilities import has_operation, lacking

    assert has_operation("jpegsave") and has_operation("heifsave")
    assert not has_operation("no_such_operation")
    assert lacking("no_such_operation", "thing saver") == "this build's libvips has no thing saver"
    assert "does not use yet" in lacking("jpegsave", "JPEG saver")
