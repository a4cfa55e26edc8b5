"""Step 3: decode, scaling on load.

When the layout resizes a still image, the decode itself shrinks (``transforms.scale_on_load``: JPEG DCT
scaling by 8, 4 or 2, WebP's scaled decode, a HEIF's thumbnail, SVG rendered at the result's scale), then
libvips' ``resize`` reduces the rest, EXIF rotation turns the small image, and a cover is cut, all in one
libvips pipeline; the orient and resize steps then see their work done and return, and the colour step
converts the small image. Measured on the corpus photos (2560x1600 -> 400 px JPEG, one thread, medians):
1.2x the speed of libvips' ``thumbnail_buffer`` (callgrind: 1.15x fewer instructions over the six photos, JPEG
and WebP out), which leaves libjpeg a factor of two less to scale; the progressive photos gain least (their
entropy decoding is the same work at any scale). A scaled JPEG is decoded by libjpeg-turbo directly when it
can be, to the same pixels in less time (``transforms.turbo_jpeg``), and by libvips otherwise.

A `rect` cut before a resize is taken from a JPEG or WebP decode scaled for the cut's own reduction
(``_cut_then_scaled``). An animation that is only resized still goes through ``thumbnail_buffer`` ("n=-1"),
which resizes the whole roll and keeps the page height whole. Otherwise the image is opened lazily at full size
and the following steps do their work one by one: without a resize, and whenever a cut comes before the resize
(other rects, trim, faces) or a cover-and-cut must happen frame by frame. Sequential access (read once, top to
bottom) is kept where nothing reorders rows.

Either way the loaded image carries the run's deadline (``transforms.deadline``): every computation of the
run happens downstream of it, so libvips stops any of them once the deadline has passed (a smart crop's
window included, on the scaled path; ``thumbnail_buffer`` finds it inside the call, out of reach).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pyvips

from transforms import turbo_jpeg
from transforms.errors import TransformError
from transforms.options import TransformOptions
from transforms.scale_on_load import configured, fitted, heif_thumbnail_suffices, load_options, reduction
from transforms.sniff import SourceFormat
from transforms.steps.context import Box, Context, Done, Layout, SourceInfo
from transforms.steps.faces import face_decode_options, wants_face_layout
from transforms.steps.layout import layout_for
from transforms.steps.resize import cut_cover, resize_to
from transforms.vips import FAIL_ON

# Crops that read the whole resized image before cutting it: its source must allow a second pass.
_SMART_CROPS = frozenset({"entropy", "attention"})
# Orientations that swap width and height.
_SWAPPING = frozenset({5, 6, 7, 8})
# Formats whose decode costs the same at any scale (see _decode_cost_is_fixed).
_FIXED_COST_FORMATS = frozenset({SourceFormat.PNG, SourceFormat.GIF, SourceFormat.TIFF, SourceFormat.WEBP})


def load(ctx: Context) -> None:
    source = ctx.header()
    layout = ctx.geometry()
    pages = _pages(ctx)
    ctx.pages = source.frames if ctx.animated else 1
    if _cut_then_scaled(ctx, source, layout, pages):
        return
    if layout.resize is None or not _one_pass(ctx, layout):
        access = "sequential" if _in_order(ctx, layout) else "random"
        scaled = face_decode_options(ctx, source, layout)  # crop=faces: decoded no larger than its cover
        ctx.image = pyvips.Image.new_from_buffer(ctx.original, "", access=access, fail_on=FAIL_ON, **pages, **scaled)
        ctx.deadline.watch(ctx.image)
        return
    if not ctx.animated:
        _scaled(ctx, source, layout, layout.resize, pages)
        return
    ctx.image = pyvips.Image.thumbnail_buffer(
        ctx.original,
        layout.resize.width,
        height=layout.resize.height,
        size=layout.size,
        crop=layout.crop,
        # Loader options travel in option_string: thumbnail's own fail_on does not reach the loader
        # (measured, libvips 8.18: a truncated JPEG then decodes silently with grey rows).
        option_string=",".join([f"fail_on={FAIL_ON}", *(f"{name}={value}" for name, value in pages.items())]),
        **_colour_options(source),
    )
    ctx.deadline.watch(ctx.image)
    ctx.done |= Done.ORIENTED | Done.COLOUR | Done.RESIZED


def _scaled(ctx: Context, source: SourceInfo, layout: Layout, box: Box, pages: dict[str, int]) -> None:
    """Decode at the scale the result allows, resize the rest, turn upright, cut the cover."""
    width, height = source.upright_size
    fit = fitted(width, height, box.width, box.height, layout.size, layout.crop)
    factor = reduction(width, height, fit.width, fit.height)
    swapped = source.orientation in _SWAPPING
    access = "sequential" if source.orientation == 1 and layout.crop not in _SMART_CROPS else "random"
    image = _shared(ctx, source, factor) if not pages else None
    if image is None:
        options = {**pages, **_decode_options(ctx, source, factor, fit.height if swapped else fit.width)}
        image = _turbo(ctx, source, options)
        if image is None:
            image = pyvips.Image.new_from_buffer(ctx.original, "", access=access, fail_on=FAIL_ON, **options)
    ctx.deadline.watch(image)
    image = resize_to(image, Box(fit.height, fit.width) if swapped else Box(fit.width, fit.height))
    if source.orientation != 1:
        image = image.autorot()  # after the resize: fewer pixels to turn
    if fit.cuts:
        image = cut_cover(image, fit, layout.crop)
    ctx.image = image
    ctx.done |= Done.ORIENTED | Done.RESIZED


def _shared(ctx: Context, source: SourceInfo, factor: float) -> Any:
    """This run's handle on the burst's one decode (transforms.shared_decode), or None to decode on its own."""
    shared = ctx.shared
    # A burst of one is no burst (checked first: the common miss pays nothing more).
    if shared is None or len(shared.wanted) < 2 or not _decode_cost_is_fixed(ctx, source):
        return None

    def decode(for_factor: float) -> Any:
        options = load_options(source.format, for_factor, configured())
        image = pyvips.Image.new_from_buffer(ctx.original, "", access="sequential", fail_on=FAIL_ON, **options)
        ctx.deadline.watch(image)  # the decode runs on this run's time
        return image

    image = shared.image(factor, lambda wanted: _smallest_reduction(source, wanted, ctx), decode)
    # A handle of its own, so that this run's deadline watches this run's computations only.
    return None if image is None else image.copy()


def _turbo(ctx: Context, source: SourceInfo, options: dict[str, Any]) -> Any:
    """A JPEG decoded by libjpeg-turbo directly at the shrink chosen (transforms.turbo_jpeg), or None."""
    if source.format is not SourceFormat.JPEG or set(options) != {"shrink"}:
        return None
    image = turbo_jpeg.decode(ctx.original, source.width, source.height, options["shrink"])
    if image is None:
        return None
    # The fields of jpegload's image the later steps read: the autorot below, the colour step's profile, the
    # resolution a PNG or a kept EXIF is written with.
    xres, yres = source.resolution
    image = image.copy(xres=xres, yres=yres)
    if source.resolution_unit is not None:
        image.set_type(pyvips.GValue.gstr_type, "resolution-unit", source.resolution_unit)
    if source.orientation != 1:
        image.set_type(pyvips.GValue.gint_type, "orientation", source.orientation)
    profile = _profile(ctx) if source.foreign_profile else None
    if profile is not None:
        image.set_type(pyvips.GValue.blob_type, "icc-profile-data", profile)
    return image


def _profile(ctx: Context) -> bytes | None:
    header = pyvips.Image.new_from_buffer(ctx.original, "", access="sequential", fail_on=FAIL_ON)
    profile = header.get("icc-profile-data") if header.get_typeof("icc-profile-data") else None
    return profile if isinstance(profile, bytes) else None


def _cut_then_scaled(ctx: Context, source: SourceInfo, layout: Layout, pages: dict[str, int]) -> bool:
    """A `rect` cut before a resize, on a decode scaled for the cut's own reduction (as imgproxy does).

    The cut is taken from the scaled decode with its edges rounded outwards, so it may hold up to one decoded
    pixel more on each side: less than one output pixel, since the decode is never scaled past the reduction.
    False when nothing would be saved (no resize, a trim or faces to find first, an animation, or a format or
    reduction that does not scale on load): the full-size path then cuts and resizes as before.
    """
    region, box = layout.rect, layout.resize
    if region is None or box is None or ctx.animated or ctx.options.trim is not None:
        return False
    if wants_face_layout(ctx.options) or source.format not in (SourceFormat.JPEG, SourceFormat.WEBP):
        return False
    fit = fitted(region.width, region.height, box.width, box.height, layout.size, layout.crop)
    options = load_options(source.format, reduction(region.width, region.height, fit.width, fit.height))
    if not options:
        return False
    image = pyvips.Image.new_from_buffer(ctx.original, "", access="random", fail_on=FAIL_ON, **pages, **options)
    ctx.deadline.watch(image)
    if source.orientation != 1:
        image = image.autorot()  # the rect is in the upright source's pixels
    width, height = source.upright_size
    x_scale, y_scale = image.width / width, image.height / height
    left, top = math.floor(region.left * x_scale), math.floor(region.top * y_scale)
    right = min(image.width, math.ceil((region.left + region.width) * x_scale))
    bottom = min(image.height, math.ceil((region.top + region.height) * y_scale))
    image = image.extract_area(left, top, max(1, right - left), max(1, bottom - top))
    image = resize_to(image, Box(fit.width, fit.height))
    if fit.cuts:
        image = cut_cover(image, fit, layout.crop)
    ctx.image = image
    ctx.layout = replace(layout, rect=None)  # cut already: the cut_rect step has nothing left to do
    ctx.done |= Done.ORIENTED | Done.RESIZED
    return True


def _decode_cost_is_fixed(ctx: Context, source: SourceInfo) -> bool:
    """Does decoding this source cost about the same at any scale? Only then is sharing one decode a gain.

    Measured for a five-width burst (transforms.shared_decode): progressive JPEGs 1.9-2.4x faster shared,
    baseline JPEGs no faster (their DCT-scaled decodes of the small widths are cheaper than resizing from
    the shared one); libwebp decodes in full before it scales, PNG, GIF and TIFF cannot scale at all, and
    SVG and HEIF thumbnails cost less the smaller they are drawn.
    """
    if source.format in _FIXED_COST_FORMATS:
        return True
    if source.format is not SourceFormat.JPEG:
        return False
    header = pyvips.Image.new_from_buffer(ctx.original, "", access="sequential", fail_on=FAIL_ON)
    return bool(header.get_typeof("interlaced")) and bool(header.get("interlaced"))


def _smallest_reduction(source: SourceInfo, wanted: list[TransformOptions], ctx: Context) -> float:
    """The reduction of the largest result the burst's runs ask for (those that scale on load at all)."""
    width, height = source.upright_size
    factors = []
    for options in wanted:
        normal = options.normalised()
        if normal.rect is not None or normal.trim is not None or normal.frame is not None:
            continue
        try:
            planned = layout_for(width, height, normal, ctx.budget.max_output_side)
        except TransformError:
            continue  # that run will be refused on its own
        if planned.resize is None:
            continue
        box = planned.resize
        fit = fitted(width, height, box.width, box.height, planned.size, planned.crop)
        factors.append(reduction(width, height, fit.width, fit.height))
    return min(factors, default=float("inf"))


def _decode_options(ctx: Context, source: SourceInfo, factor: float, stored_width: int) -> dict[str, Any]:
    if source.format in (SourceFormat.HEIF, SourceFormat.AVIF):
        return {"thumbnail": True} if _thumbnail_suffices(ctx, source, stored_width) else {}
    return load_options(source.format, factor, configured())


def _thumbnail_suffices(ctx: Context, source: SourceInfo, stored_width: int) -> bool:
    # A HEIF thumbnail's size is in its own header; opening it decodes no pixel. Without one libheif
    # answers the full image, which heif_thumbnail_suffices refuses (it is not smaller).
    try:
        header = pyvips.Image.new_from_buffer(ctx.original, "", thumbnail=True, fail_on=FAIL_ON)
    except pyvips.Error:
        return False
    return heif_thumbnail_suffices(source.width, header.width, stored_width)


def _pages(ctx: Context) -> dict[str, int]:
    """Loader options choosing the frames: all of an animation, one asked for, or (default) the first."""
    if ctx.animated:
        return {"n": -1}
    frame = ctx.options.frame
    if frame is not None and frame > 1:
        return {"page": frame - 1}  # only multi-page formats get here: layout refused the others
    return {}


def _one_pass(ctx: Context, layout: Layout) -> bool:
    if layout.rect is not None or ctx.options.trim is not None or wants_face_layout(ctx.options):
        return False  # a cut before the resize (faces: where is known only once the pixels are)
    # thumbnail's cover-and-cut treats the whole roll as one image; cutting happens per frame instead.
    return not (ctx.animated and layout.crop != "none")


def _in_order(ctx: Context, layout: Layout) -> bool:
    options = ctx.options
    return (
        ctx.header().orientation == 1
        and layout.rect is None
        and options.trim is None
        and options.orient is None
        and options.flip is None
        and not ctx.animated
    )


def _colour_options(source: SourceInfo) -> dict[str, Any]:
    # Only a non-sRGB profile needs the transform (see icc.py for its cost); CMYK without a profile
    # is converted by thumbnail itself, with libvips' built-in CMYK profile.
    return {"output_profile": "srgb"} if source.foreign_profile else {}
