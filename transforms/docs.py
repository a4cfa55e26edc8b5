"""Renders the URL parameter reference from the parser's own table and a given pixel budget.

The page states limits (pixels, sides, frames) that belong to whoever runs the pipeline, so
``render`` takes the budget instead of assuming one: the gateway passes the budget its settings
give and writes the page (``python -m gateway.docs``). Nothing here reads or writes a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

from transforms.info import FIELDS
from transforms.options import Format
from transforms.params import PARAMETERS
from transforms.steps.context import PixelBudget
from transforms.steps.detail import BLUR_PER_SIGMA, SHARP_PER_SLOPE
from transforms.steps.encode import COMPRESSED_QUALITY, QUALITY

_INTRO = """\
# URL parameters

Parameters follow imgix's names wherever imgix has the concept, so front-end loaders written for
imgix keep working. An unknown parameter, a repeated one, an empty or out-of-range value is a
`400 VALIDATION_ERROR` whose message starts with the parameter's name. A parameter that cannot
change this request's pixels (a `crop` gravity with `fit=clip`, `q` with `fm=png`, `fp-x` without
`crop=focalpoint`) is accepted and folded out of the cache key, so two URLs that render alike share
one cached result.

The last three columns name the nearest parameter of imgix, imgproxy and Cloudflare Images
(— when there is none); the semantics are this page's, not theirs.
"""

_ORDER = """\
## Order of operations

1. EXIF orientation is applied: every coordinate below refers to the upright image.
2. `rect` cuts a region, in the upright source's pixels (out of bounds: 400 naming `rect`).
3. `trim` cuts away a uniform border.
4. `w`, `h` (pixels, or ratios of what is left after 2-3), `ar`, `dpr` and `fit` size the image;
   `crop` picks what a cutting fit keeps (edges, `entropy`/`attention` smartcrop, or the focal point).
5. `fit=fill` pads to the box; `pad` and `pad-*` add borders (inside w×h when they are given).
6. `rot` turns clockwise and `flip` mirrors. Sizes, gravity, `fp-x`/`fp-y` and `pad-*` describe the
   output as seen after turning: `w=300&rot=90` is 300 pixels wide.
7. `blur`, `sharp`, then `bri`, `con`, `sat`; then the workspace's mark, if any.
8. Transparency is painted with `bg` (flattened onto white for JPEG); the format is written with
   all metadata stripped.
"""

_ANIMATION = """\
## Animation

An animated GIF or WebP source stays animated when the output is GIF or WebP (the source's own
family by default), with its frame delays and loop count. Every frame is decoded, so the frame count
(at most {max_frames}) and the pixels of all frames together (at most {max_pixels:,}, the same budget a
still image has) are checked from the header before anything is decoded: `413 SOURCE_TOO_LARGE`
otherwise. `frame=N` takes frame N (1 is the first) as a still, decoding only that frame; a frame
the image does not have is a 400 naming `frame`. JPEG, PNG and AVIF output of an animation show its
first frame. With `auto=format`, an animated source gets WebP where a still would get AVIF, so that
it keeps moving.

The encoders that cannot be stopped half-way have caps on the output's size (above): GIF (one frame,
and every frame summed), AVIF, lossless WebP and AVIF, and any animation (every frame summed). Every
transform also has a time limit: a run past it stops, and nothing is cached.
"""

_INFO = """\
## Info (`fm=json`)

`fm=json` answers `application/json` describing the source, not an image, and is cached for a day
(`Cache-Control: public, max-age=86400`) rather than a year. As in imgix, info describes the
source as stored: the other parameters are validated, then ignored. The placeholder is a
[ThumbHash](https://evanw.github.io/thumbhash/) of the upright first frame, computed on a thumbnail at
most 100 pixels a side; the dominant colour comes from the same thumbnail.

| field | meaning |
| --- | --- |
"""


_OUTPUT_CAP = "`413 SOURCE_TOO_LARGE` naming the cap, before any pixel is encoded"
# What each budget field bounds, and what a request over it gets.
_BUDGET_ROWS = {
    "max_pixels": (
        "pixels of the source (of all frames together for an animated output)",
        "`413 SOURCE_TOO_LARGE`, read from the header before decoding",
    ),
    "max_output_side": (
        "either side of the output (`w`, `h` and `ar` times `dpr`, padding included)",
        "`400 VALIDATION_ERROR` naming the parameter",
    ),
    "max_input_side": ("either side of the source", "`413 SOURCE_TOO_LARGE`, read from the header"),
    "max_frames": ("frames of an animated output", "`413 SOURCE_TOO_LARGE`, read from the header"),
    "max_gif_pixels": ("pixels of a GIF output, frames summed", _OUTPUT_CAP),
    "max_gif_frame_pixels": ("pixels of one frame of a GIF output", _OUTPUT_CAP),
    "max_avif_pixels": (
        "pixels of an AVIF output",
        _OUTPUT_CAP + "; an AVIF chosen by `auto=format` is written as WebP instead",
    ),
    "max_lossless_pixels": ("pixels of a `lossless=1` WebP or AVIF output", _OUTPUT_CAP),
    "max_animation_pixels": ("pixels of an animated output, frames summed", _OUTPUT_CAP),
}


def render(budget: PixelBudget, settings: Mapping[str, str] | None = None) -> str:
    """The whole page for ``budget``; ``settings`` names what changes each budget field (by field name)."""
    parts = [_INTRO, "## Parameters\n", _parameter_table(), _budget_table(budget, settings or {}), _ORDER, _quality()]
    parts.append(_adjustments())
    parts.append(_ANIMATION.format(max_frames=budget.max_frames, max_pixels=budget.max_pixels))
    parts.append(_INFO + "".join(f"| `{name}` | {meaning} |\n" for name, meaning in FIELDS.items()))
    return "\n".join(parts)


def _budget_table(budget: PixelBudget, settings: Mapping[str, str]) -> str:
    rows = [
        "## Pixel budget\n",
        "What one request may decode and produce, with the values this page was generated with.\n",
        "| limit | at most | over it | setting |",
        "| --- | --- | --- | --- |",
    ]
    for item in fields(budget):
        what, over = _BUDGET_ROWS[item.name]
        setting = f"`{settings[item.name]}`" if item.name in settings else "fixed"
        rows.append(f"| {what} | {getattr(budget, item.name):,} | {over} | {setting} |")
    return "\n".join(rows) + "\n"


def _parameter_table() -> str:
    rows = [
        "| parameter | accepts | default | what it does | imgix | imgproxy | Cloudflare |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, spec in PARAMETERS.items():
        cells = (f"`{name}`", spec.accepts, spec.default, spec.description, spec.imgix, spec.imgproxy, spec.cloudflare)
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(rows) + "\n"


def _quality() -> str:
    rows = [
        "## Quality\n",
        "Default `q` per output format; `q` in the URL overrides it. `auto=compress` lowers the defaults",
        "(an explicit `q` still wins) and filters PNG rows adaptively (30-45% smaller PNG for about three times",
        "the encode time). `lossless=1` makes WebP and AVIF lossless and ignores `q`; PNG and GIF are",
        "lossless (GIF: 256 colours) and take no `q`.\n",
        "| format | default q | with auto=compress |",
        "| --- | --- | --- |",
    ]
    for fmt in Format:
        if fmt in QUALITY:
            rows.append(f"| {fmt} | {QUALITY[fmt]} | {COMPRESSED_QUALITY[fmt]} |")
    return "\n".join(rows) + "\n"


def _adjustments() -> str:
    return (
        "## Adjustments\n\n"
        f"- `blur`: Gaussian, sigma = blur/{BLUR_PER_SIGMA} output pixels.\n"
        f"- `sharp`: libvips sharpen (sigma 1), edge slope sharp/{SHARP_PER_SLOPE}; flat areas are left alone.\n"
        "- `bri`: adds bri×2.55 to each channel. `con`: scales the distance from mid-grey (128) by "
        "(100+con)/100. `sat`: scales the distance from the pixel's luma (Rec. 709) by (100+sat)/100, so "
        "`sat=-100` gives equal channels. Applied in the order sat, bri, con, on 8-bit sRGB values; "
        "alpha is untouched.\n"
        "- `trim=auto` cuts only when the four corners share a colour (within `trim-tol`); `trim=color` "
        "cuts a border of `trim-color` (default: the top-left pixel). Transparent pixels count as border.\n"
        "- `pad` with `w`/`h`: the padded image fits the requested size; without them the padding is added "
        "to the size. Padding is transparent where the format allows and `bg` is not given, else `bg` "
        "(white for JPEG).\n"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
