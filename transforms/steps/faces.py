"""Faces (``transforms.faces``): where crop=faces and fit=facearea cut, and blur-faces / px-faces for privacy.

``face_layout`` runs before the resize, on the upright source (after rect and trim), and lays the geometry
out again the way the trim step does:

- ``crop=faces`` (with fit=crop or min) becomes a focal-point crop centred on the faces: the box holding every
  face, or the one ``faceindex`` names (1 = the largest). With no face found the crop's other item is used
  (``crop=faces,top`` cuts at the top), else the centre: the same answer the URL would give without faces.
- ``fit=facearea`` cuts the face (``faceindex``, default the largest) with ``facepad`` times its size around
  it (default 1: the face's own box), widened to the w×h aspect ratio, then covers w×h. Without a face the
  whole image covers w×h (fit=crop).

``face_privacy`` runs on the output pixels after resizing (every frame of an animation) and blurs
(``blur-faces``) or pixelates (``px-faces``) each face found there, with a margin of a fifth of its size, by
blocks an eighth of the face wide. Looking in the output rather than the source keeps the boxes exact through
every cut and turn; a small output is scaled up for the search. The cascade finds frontal faces: a face in
profile or partly hidden can be missed, so this is a best effort, not a guarantee of anonymity.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from transforms.faces import FaceBox, detect_faces, union
from transforms.options import Crop, Fit, TransformOptions
from transforms.scale_on_load import configured, fitted, load_options, reduction
from transforms.steps.context import Context, Layout, Region, SourceInfo
from transforms.steps.frames import each_frame
from transforms.steps.layout import layout_for

_FACE_MARGIN = 0.2
_PIXEL_BLOCKS = 8  # a face becomes about this many blocks across


def wants_face_layout(options: TransformOptions) -> bool:
    return options.fit is Fit.FACEAREA or Crop.FACES in options.crop


def face_decode_options(ctx: Context, source: SourceInfo, layout: Layout) -> dict[str, Any]:
    """Loader options decoding a ``crop=faces`` source no larger than the cover its cut comes out of (JPEG's
    and WebP's scale-on-load): the cut is known only after the faces are found, but not its size. Empty for
    everything whose layout depends on the source's own size: ratios, no w and h, rect, trim, animations, and
    fit=facearea (a small face must keep its pixels)."""
    options = ctx.options
    if Crop.FACES not in options.crop or options.fit is Fit.FACEAREA or layout.resize is None:
        return {}
    if layout.rect is not None or options.trim is not None or ctx.animated:
        return {}
    if (options.w is None and options.h is None) or isinstance(options.w, float) or isinstance(options.h, float):
        return {}
    width, height = source.upright_size
    box = layout.resize
    fit = fitted(width, height, box.width, box.height, layout.size, layout.crop)
    return load_options(source.format, reduction(width, height, fit.width, fit.height), configured())


def face_layout(ctx: Context) -> None:
    options = ctx.options
    if not wants_face_layout(options):
        return
    # Read twice (the detector's copy, then the resize): in memory, whatever access the loader was opened with.
    image = ctx.image = ctx.pixels().copy_memory()
    height = image.height // ctx.pages
    first = image.crop(0, 0, image.width, height) if ctx.pages > 1 else image
    ctx.deadline.check()
    faces = detect_faces(first)
    chosen = _chosen(faces, options.faceindex, whole=options.fit is not Fit.FACEAREA)
    current = ctx.geometry()
    if options.fit is Fit.FACEAREA:
        changed = replace(options, fit=Fit.CROP, crop=frozenset(), facepad=None, faceindex=None)
        width = image.width
        if chosen is not None:
            area = _face_area(chosen, options, image.width, height)
            ctx.image = each_frame(image, ctx.pages, lambda frame: _cut(frame, area))
            width, height = area.width, area.height
    else:
        width = image.width
        if chosen is not None:
            at_x, at_y = chosen.centre
            changed = replace(
                options, crop=frozenset({Crop.FOCALPOINT}), fp_x=at_x / width, fp_y=at_y / height, faceindex=None
            )
        else:
            changed = replace(options, crop=options.crop - {Crop.FACES}, faceindex=None)
    ctx.options = changed
    ctx.layout = replace(layout_for(width, height, changed, ctx.budget.max_output_side), rect=current.rect)


def _cut(frame: Any, area: Region) -> Any:
    return frame.extract_area(area.left, area.top, area.width, area.height)


def _chosen(faces: list[FaceBox], index: int | None, whole: bool) -> FaceBox | None:
    if not faces:
        return None
    if index is not None:
        return faces[index - 1] if index <= len(faces) else None
    return union(faces) if whole else faces[0]


def _face_area(face: FaceBox, options: TransformOptions, width: int, height: int) -> Region:
    """The face with ``facepad`` around it, widened to the requested aspect ratio, inside the image."""
    pad = options.facepad or 1.0
    box_w, box_h = face.width * pad, face.height * pad
    if options.w is not None and options.h is not None and isinstance(options.w, int) and isinstance(options.h, int):
        aspect = options.w / options.h
    elif options.ar is not None:
        aspect = options.ar.ratio
    else:
        aspect = box_w / box_h
    if box_w / box_h < aspect:
        box_w = box_h * aspect
    else:
        box_h = box_w / aspect
    # Larger than the image: the largest box of that shape inside it.
    scale = min(1.0, width / box_w, height / box_h)
    cut_w, cut_h = max(1, round(box_w * scale)), max(1, round(box_h * scale))
    centre_x, centre_y = face.centre
    left = min(max(0, round(centre_x - cut_w / 2)), width - cut_w)
    top = min(max(0, round(centre_y - cut_h / 2)), height - cut_h)
    return Region(left, top, cut_w, cut_h)


def face_privacy(ctx: Context) -> None:
    options = ctx.options
    if not (options.blur_faces or options.px_faces):
        return
    pixelate = bool(options.px_faces)

    def hide(frame: Any) -> Any:
        ctx.deadline.check()
        frame = frame.copy_memory()  # read by the detector, then again by every cover
        for face in detect_faces(frame):
            frame = _hidden(frame, _margin(face, frame.width, frame.height), pixelate)
        return frame

    ctx.image = each_frame(ctx.pixels(), ctx.pages, hide)


def _margin(face: FaceBox, width: int, height: int) -> Region:
    extra_w, extra_h = round(face.width * _FACE_MARGIN), round(face.height * _FACE_MARGIN)
    left, top = max(0, face.x - extra_w), max(0, face.y - extra_h)
    right, bottom = min(width, face.x + face.width + extra_w), min(height, face.y + face.height + extra_h)
    return Region(left, top, right - left, bottom - top)


def _hidden(frame: Any, area: Region, pixelate: bool) -> Any:
    patch = _cut(frame, area)
    block = max(2, math.ceil(max(area.width, area.height) / _PIXEL_BLOCKS))
    if pixelate:
        small = patch.resize(1 / block, kernel="linear")
        grown = small.resize(block, kernel="nearest")
        covered = grown.crop(0, 0, min(area.width, grown.width), min(area.height, grown.height))
        covered = covered.gravity("north-west", area.width, area.height, extend="copy")
    else:
        # A blur as strong as the blocks: no feature smaller than the face's eighth survives.
        covered = patch.gaussblur(block, precision="integer")
    if covered.format != frame.format:
        covered = covered.cast(frame.format)
    return frame.insert(covered, area.left, area.top)
