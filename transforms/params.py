"""Query parameters <-> TransformOptions, through one table.

``PARAMETERS`` maps each imgix-style name to a spec: the option field it fills, a small parser, and
the text the docs and error messages show. Adding a parameter is one entry here plus one field on
``TransformOptions``. Nothing is ignored silently: an unknown name, a repeated name, an empty or
out-of-range value is an ``InvalidParameter`` that names the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote

from transforms.capabilities import lacking
from transforms.colour_names import COLOUR_NAMES
from transforms.errors import InvalidParameter
from transforms.imgix import CLIENT_PARAMETERS, PUBLISHED, canonical_name, unsupported, valid_client_token
from transforms.options import (
    PALETTE_COLOURS,
    STRATEGIES,
    TRIM_TOLERANCE,
    USM_RADIUS,
    Aspect,
    Auto,
    BlendMode,
    Border,
    Color,
    Corners,
    Crop,
    Duotone,
    Fill,
    Fit,
    Flip,
    Format,
    Mask,
    Palette,
    Rect,
    TransformOptions,
    Trim,
)
from transforms.steps import text as text_step

MAX_SIDE = 8192
MAX_PAD = 4096
MAX_FRAME = 9999
MAX_VALUE_LENGTH = 256
_E = TypeVar("_E", bound=StrEnum)
T = TypeVar("T", int, float)


class _Refused(ValueError):
    """A parser's own explanation; any other ValueError is reported as "must be <accepts>"."""


class _Unsupported(_Refused):
    """An imgix value imgate does not implement (fm=jp2): refused, or left out in lenient mode."""


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    field: str  # the TransformOptions attribute it fills
    parse: Callable[[str], Any]  # raises ValueError on a bad value; Any: the table is heterogeneous
    accepts: str  # completes "must be …"
    default: str
    description: str
    # The nearest parameter of the services users migrate from ("—": none); shown in docs/parameters.md.
    imgix: str = "—"
    imgproxy: str = "—"
    cloudflare: str = "—"


def _ranged(pattern: str, cast: Callable[[str], T], low: T, high: T) -> Callable[[str], T]:
    """A parser accepting only text that fully matches ``pattern``, cast, then checked against [low, high]."""
    spelling = re.compile(pattern)

    def parse(text: str) -> T:
        if not spelling.fullmatch(text):
            raise ValueError(text)
        value = cast(text)
        if not low <= value <= high:
            raise ValueError(text)
        return value

    return parse


def _whole(text: str) -> int:
    return int(text.split(".", 1)[0])


def _integer(low: int, high: int) -> Callable[[str], int]:
    # int() alone would take " 7", "1_000" and non-ASCII digits: two spellings, one key. A trailing ".0"
    # is what imgix's clients write for a computed width (w=400.0), and it reads as the integer.
    return _ranged(r"[0-9]{1,9}(\.0{1,9})?", _whole, low, high)


def _signed(low: int, high: int) -> Callable[[str], int]:
    return _ranged(r"-?[0-9]{1,4}(\.0{1,9})?", _whole, low, high)


def _decimal(low: float, high: float) -> Callable[[str], float]:
    # Plain decimals only: float() would also take "nan", "1e0" and "inf".
    return _ranged(r"[0-9]{1,3}(\.[0-9]{1,20})?", float, low, high)


def _side(text: str) -> int | float:
    """Pixels (an integer), or a ratio of the source written as a decimal strictly between 0 and 1."""
    if "." in text and re.fullmatch(r"0\.[0-9]{1,4}", text):
        ratio = float(text)
        if ratio == 0:
            raise ValueError(text)
        return ratio
    return _integer(1, MAX_SIDE)(text)


def _aspect(text: str) -> Aspect:
    number = r"([0-9]{1,4}(?:\.[0-9]{1,4})?)"
    match = re.fullmatch(number + ":" + number, text)
    if match is None:
        raise ValueError(text)
    aspect = Aspect(float(match[1]), float(match[2]))
    if aspect.width == 0 or aspect.height == 0 or not 0.01 <= aspect.ratio <= 100:
        raise ValueError(text)
    return aspect


_RATIO = re.compile(r"0?\.[0-9]{1,4}|1\.0{1,4}")


def _rect_part(text: str, keywords: tuple[str, ...], least: int) -> int | float | str:
    """Pixels (an integer), a 0-1 ratio (written with a point, as imgix does), or one of ``keywords``."""
    if text in keywords:
        return text
    if _RATIO.fullmatch(text):
        ratio = float(text)
        if least and ratio == 0:
            raise ValueError(text)
        return ratio
    if not re.fullmatch(r"[0-9]{1,5}", text) or int(text) < least:
        raise ValueError(text)
    return int(text)


def _rect(text: str) -> Rect:
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError(text)
    width, height = (_rect_part(part, (), 1) for part in parts[2:])
    if isinstance(width, str) or isinstance(height, str):  # no keywords were offered: cannot happen
        raise ValueError(text)
    return Rect(
        _rect_part(parts[0], ("left", "center", "right"), 0),
        _rect_part(parts[1], ("top", "middle", "bottom"), 0),
        width,
        height,
    )


def _one_of(kind: type[_E]) -> Callable[[str], _E]:
    return kind


def _list_of(kind: type[_E], check: Callable[[frozenset[_E]], None] | None = None) -> Callable[[str], frozenset[_E]]:
    def parse(text: str) -> frozenset[_E]:
        items = [kind(item) for item in text.split(",")]
        chosen = frozenset(items)
        if len(chosen) != len(items):
            raise _Refused("lists an item twice")
        if check is not None:
            check(chosen)
        return chosen

    return parse


def _check_crop(chosen: frozenset[Crop]) -> None:
    # faces takes a fallback, as imgix's crop=faces,center: the rest, used when no face is found.
    chosen = chosen - {Crop.FACES}
    if chosen & STRATEGIES and len(chosen) > 1:
        raise _Refused("entropy, attention and focalpoint cannot be combined with anything")
    if Crop.CENTER in chosen and len(chosen) > 1:
        raise _Refused("center cannot be combined with an edge")
    if {Crop.TOP, Crop.BOTTOM} <= chosen or {Crop.LEFT, Crop.RIGHT} <= chosen:
        raise _Refused("opposite edges cannot be combined")


_HEX = {3: r"[0-9a-fA-F]{3}", 4: r"[0-9a-fA-F]{4}", 6: r"[0-9a-fA-F]{6}", 8: r"[0-9a-fA-F]{8}"}


def _color(text: str) -> Color:
    # imgix's spellings: hex with or without "#" (sent as %23), or a CSS colour keyword.
    text = COLOUR_NAMES.get(text.lower(), text.removeprefix("#"))
    if not re.fullmatch("|".join(_HEX.values()), text):
        raise ValueError(text)
    if len(text) <= 4:
        text = "".join(digit * 2 for digit in text)  # "8fff" -> "88ffffff"
    if len(text) == 6:
        text = "ff" + text
    alpha, red, green, blue = (int(text[i : i + 2], 16) for i in range(0, 8, 2))
    return Color(red, green, blue, alpha)


def _opaque_color(text: str) -> Color:
    colour = _color(text)
    if not colour.opaque:
        raise ValueError(text)
    return colour


def _switch(text: str) -> bool:
    # Both spellings imgix users write; either way one value, so one cache key.
    # imgix-python writes Python's spelling (lossless=True).
    switch = {"1": True, "true": True, "0": False, "false": False}.get(text.lower())
    if switch is None:
        raise ValueError(text)
    return switch


def _opaque(text: str) -> str:
    # Printable ASCII keeps keys, logs and URLs unambiguous; a cache buster needs nothing more.
    if not re.fullmatch(r"[ -~]{1,64}", text):
        raise ValueError(text)
    return text


def _free_angle(text: str) -> float:
    if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,4})?", text) or float(text) >= 360:
        raise ValueError(text)
    return float(text)


# imgix's or: EXIF orientations and their degree aliases; the mirrored ones (2, 4, 5, 7) are flip's job here.
_ORIENTATIONS = {"0": 0, "1": 0, "3": 180, "6": 90, "8": 270, "90": 90, "180": 180, "270": 270}


def _orientation(text: str) -> int:
    if text in ("2", "4", "5", "7"):
        raise _Refused("the mirrored orientations 2, 4, 5 and 7 are not supported: combine or with flip")
    if text not in _ORIENTATIONS:
        raise ValueError(text)
    return _ORIENTATIONS[text]


def _corners(text: str) -> Corners:
    parts = text.split(",")
    if len(parts) not in (1, 4):
        raise ValueError(text)
    radii = [_integer(0, MAX_PAD)(part) for part in parts]
    return Corners(*(radii * 4 if len(radii) == 1 else radii))


def _border(text: str) -> Border:
    width, _, colour = text.partition(",")
    return Border(_integer(0, MAX_PAD)(width), _color(colour))


def _duotone(text: str) -> Duotone:
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError(text)
    return Duotone(_opaque_color(parts[0]), _opaque_color(parts[1]))


# imgix formats imgate does not write, with why (the codec ones as this build's libvips reports).
_FORMATS_NOT_WRITTEN = {
    "jp2": lacking("jp2ksave", "JPEG 2000 saver"),
    "jxl": lacking("jxlsave", "JPEG XL saver"),
    "jxr": "no JPEG XR encoder exists for libvips",
    "png32": "use fm=png: PNG keeps the alpha channel when there is one",
    "mp4": "video output is not implemented",
    "webm": "video output is not implemented",
    "spritesheet": "video output is not implemented",
}


def _format(text: str) -> Format:
    text = text.lower()  # imgix takes fm=JPG; one spelling in the cache key
    why = _FORMATS_NOT_WRITTEN.get(text)
    if why is not None:
        raise _Unsupported(f"{text} is an imgix format imgate does not support: {why}")
    return Format(text)


def _auto(text: str) -> frozenset[Auto]:
    for item in text.split(","):
        if item in ("enhance", "redeye", "true"):
            raise _Unsupported(f"{item} is an imgix value imgate does not support (auto takes format and compress)")
    return _list_of(Auto)(text)


def _crop(text: str) -> frozenset[Crop]:
    # imgix's edges (keep the busiest part) is what libvips' entropy strategy does: one spelling in the key.
    items = ["entropy" if item == "edges" else item for item in text.split(",")]
    return _list_of(Crop, _check_crop)(",".join(items))


def _chroma(text: str) -> int:
    if text == "422":
        raise _Unsupported("422 is an imgix value imgate does not support (libvips writes 444 or 420)")
    if text not in ("420", "444"):
        raise ValueError(text)
    return int(text)


def _imgix_one_of(kind: type[_E], lacking: frozenset[str]) -> Callable[[str], _E]:
    """``kind``'s values, with imgix's other values for this parameter refused as not supported (not as wrong)."""

    def parse(text: str) -> _E:
        if text in lacking:
            raise _Unsupported(f"{text} is an imgix value imgate does not support")
        return kind(text)

    return parse


def _image_refused(text: str) -> None:
    # imgix also takes an image URL or path for blend and mask; imgate composites no second image there.
    if "/" in text or "." in text:
        raise _Unsupported("an image here is an imgix feature imgate does not support")


def _colour_only(text: str) -> Color:
    try:
        return _color(text)
    except ValueError:
        _image_refused(text)
        raise


def _mask(text: str) -> Mask:
    try:
        return Mask(text)
    except ValueError:
        _image_refused(text)
        raise


def _quality(text: str) -> int:
    # imgix takes q=0 as its lowest quality; libvips' lowest is 1, so both are one key.
    return max(1, _integer(0, 100)(text))


def _pad_side(side: str) -> ParameterSpec:
    return ParameterSpec(
        field=f"pad_{side}",
        parse=_integer(0, MAX_PAD),
        accepts=f"an integer between 0 and {MAX_PAD}",
        default="pad",
        description=f"Padding on the {side} side only, overriding pad there.",
        imgix=f"pad-{side}",
        imgproxy=f"padding ({side} value)",
    )


def _adjustment(field: str, what: str, imgix: str, imgproxy: str, cloudflare: str) -> ParameterSpec:
    return ParameterSpec(
        field=field,
        parse=_signed(-100, 100),
        accepts="an integer between -100 and 100",
        default="0",
        description=what,
        imgix=imgix,
        imgproxy=imgproxy,
        cloudflare=cloudflare,
    )


_SIDE_ACCEPTS = f"an integer between 1 and {MAX_SIDE}, or a ratio between 0 and 1 such as 0.5"


def _on(text: str) -> bool | None:
    # Off is "not given", so that a switch written 0 and one left out share a cache key.
    return True if _switch(text) else None


_SWITCH_ACCEPTS = "1, 0, true or false"
_FACE_PARAMETERS = {
    "facepad": ParameterSpec(
        field="facepad",
        parse=_decimal(0.5, 10),
        accepts="a number between 0.5 and 10",
        default="1 (the face's own box)",
        description="With fit=facearea: the cut around the face, in face sizes (2: the face is half the cut).",
        imgix="facepad",
    ),
    "faceindex": ParameterSpec(
        field="faceindex",
        parse=_integer(1, 100),
        accepts="an integer between 1 and 100",
        default="every face (crop=faces), the largest (fit=facearea)",
        description="Which face crop=faces and fit=facearea use: 1 is the largest found; a missing one is no face.",
        imgix="faceindex",
    ),
    "faces": ParameterSpec(
        field="faces",
        parse=_on,
        accepts=_SWITCH_ACCEPTS,
        default="0",
        description="With fm=json: the boxes of the faces found (x, y, width, height in upright source pixels).",
        imgix="faces",
    ),
    "blur-faces": ParameterSpec(
        field="blur_faces",
        parse=_on,
        accepts=_SWITCH_ACCEPTS,
        default="0",
        description="Blur every face found in the output, with a margin (privacy).",
        imgproxy="blur_detections (pro)",
    ),
    "px-faces": ParameterSpec(
        field="px_faces",
        parse=_on,
        accepts=_SWITCH_ACCEPTS,
        default="0",
        description="Pixelate every face found in the output, about 8 blocks across (privacy).",
        imgproxy="pixelate_detections (pro)",
    ),
}
_TEXT_PARAMETERS = {
    "txt": ParameterSpec(
        field="txt",
        parse=text_step.parse_text,
        accepts=f"1 to {text_step.MAX_TEXT} printable characters",
        default="none",
        description="Text drawn over the output (shown as written: never read as markup), under the mark.",
        imgix="txt",
        imgproxy="watermark_text (pro)",
    ),
    "txt-font": ParameterSpec(
        field="txt_font",
        parse=text_step.parse_font,
        accepts="one of " + ", ".join(text_step.FONTS) + " (or imgix's sans-serif, serif, monospace, with ,bold)",
        default="sans",
        description="The text's font, from the installed DejaVu families.",
        imgix="txt-font",
    ),
    "txt-size": ParameterSpec(
        field="txt_size",
        parse=_integer(1, text_step.MAX_TEXT_SIZE),
        accepts=f"an integer between 1 and {text_step.MAX_TEXT_SIZE}",
        default=str(text_step.DEFAULT_SIZE),
        description="The text's size in output pixels (times dpr).",
        imgix="txt-size",
    ),
    "txt-color": ParameterSpec(
        field="txt_color",
        parse=_color,
        accepts="a colour: hex RGB, ARGB, RRGGBB or AARRGGBB (with or without #), or a CSS colour name",
        default="000 (black)",
        description="The text's colour; an ARGB value also fades it.",
        imgix="txt-color",
    ),
    "txt-align": ParameterSpec(
        field="txt_align",
        parse=text_step.parse_align,
        accepts="top, middle or bottom and/or left, center or right, comma-separated",
        default=text_step.DEFAULT_ALIGN,
        description="Where the text sits on the output; wrapped lines are aligned to the same side.",
        imgix="txt-align",
    ),
    "txt-pad": ParameterSpec(
        field="txt_pad",
        parse=_integer(0, MAX_PAD),
        accepts=f"an integer between 0 and {MAX_PAD}",
        default=str(text_step.DEFAULT_PAD),
        description="Distance of the text from the output's edges, in output pixels (times dpr).",
        imgix="txt-pad",
    ),
    "txt-shad": ParameterSpec(
        field="txt_shad",
        parse=_integer(0, 10),
        accepts="an integer between 0 and 10",
        default="0",
        description="A soft dark shadow under the text, this many tenths of its size wide.",
        imgix="txt-shad",
    ),
    "txt-width": ParameterSpec(
        field="txt_width",
        parse=_integer(1, MAX_SIDE),
        accepts=f"an integer between 1 and {MAX_SIDE}",
        default="the output's width less txt-pad on both sides",
        description="Wrap the text at this width in output pixels (times dpr), word by word.",
        imgix="txt-width",
    ),
}

PARAMETERS: Mapping[str, ParameterSpec] = MappingProxyType(
    {
        "w": ParameterSpec(
            field="w",
            parse=_side,
            accepts=_SIDE_ACCEPTS,
            default="the source width",
            description="Output width in pixels (times dpr), or a ratio of the source width (after rect and trim).",
            imgix="w",
            imgproxy="width",
            cloudflare="width",
        ),
        "h": ParameterSpec(
            field="h",
            parse=_side,
            accepts=_SIDE_ACCEPTS,
            default="the source height",
            description="Output height in pixels (times dpr), or a ratio of the source height (after rect and trim).",
            imgix="h",
            imgproxy="height",
            cloudflare="height",
        ),
        "dpr": ParameterSpec(
            field="dpr",
            parse=_decimal(0.1, 5),
            accepts="a number between 0.1 and 5",
            default="1",
            description="Device pixel ratio: multiplies w, h and the padding.",
            imgix="dpr",
            imgproxy="dpr",
            cloudflare="dpr",
        ),
        "ar": ParameterSpec(
            field="ar",
            parse=_aspect,
            accepts="an aspect ratio W:H between 1:100 and 100:1, such as 16:9 or 1.91:1",
            default="none",
            description=(
                "With fit=crop or min: completes the box from one of w or h (with neither: the largest box of "
                "that shape inside the source), so fit=crop gives exactly that shape. Other fits ignore it."
            ),
            imgix="ar (imgix also reads it only with fit=crop)",
        ),
        "fit": ParameterSpec(
            field="fit",
            parse=_one_of(Fit),
            accepts="one of " + ", ".join(Fit),
            default="clip",
            description=(
                "How the image fits w×h: clip (inside), crop (cover, then cut), fill (inside, then pad with "
                "bg or fill), fillmax (fill, never enlarge), clamp (fill with the edge pixels), max (clip, never "
                "enlarge), min (crop, never enlarge), scale (stretch)."
            ),
            imgix="fit",
            imgproxy="resizing_type (fit, fill, force) and enlarge",
            cloudflare="fit (contain, cover, pad, scale-down, crop)",
        ),
        "crop": ParameterSpec(
            field="crop",
            parse=_crop,
            accepts="center, a comma list of top/bottom and left/right, or entropy/edges, attention or focalpoint",
            default="center",
            description=(
                "Which part stays when fit=crop/min cuts (entropy and attention: libvips smartcrop; "
                "focalpoint: fp-x, fp-y, fp-z), or where fit=fill places the image (edges only)."
            ),
            imgix="crop",
            imgproxy="gravity (no, so, ea, we, ce, sm, fp)",
            cloudflare="gravity",
        ),
        "fp-x": ParameterSpec(
            field="fp_x",
            parse=_decimal(0, 1),
            accepts="a number between 0 and 1",
            default="0.5",
            description="With crop=focalpoint: the horizontal position to centre on, 0 left to 1 right.",
            imgix="fp-x",
            imgproxy="gravity:fp:x:y",
            cloudflare="gravity=XxY",
        ),
        "fp-y": ParameterSpec(
            field="fp_y",
            parse=_decimal(0, 1),
            accepts="a number between 0 and 1",
            default="0.5",
            description="With crop=focalpoint: the vertical position to centre on, 0 top to 1 bottom.",
            imgix="fp-y",
            imgproxy="gravity:fp:x:y",
            cloudflare="gravity=XxY",
        ),
        "fp-z": ParameterSpec(
            field="fp_z",
            parse=_decimal(1, 100),
            accepts="a number between 1 and 100",
            default="1",
            description="With crop=focalpoint: zoom into the focal point (2 shows half the width that 1 does).",
            imgix="fp-z",
            imgproxy="zoom",
        ),
        "rect": ParameterSpec(
            field="rect",
            parse=_rect,
            accepts=(
                "x,y,w,h inside the image: pixels, or 0-1 ratios written with a point; x may be left, center or "
                "right, y top, middle or bottom"
            ),
            default="the whole source",
            description=(
                "A region of the upright source, taken before anything else: rect=0.25,top,0.5,0.5 is the middle "
                "half of the width, from the top, half the height."
            ),
            imgix="rect",
            imgproxy="crop (with gravity nowe and offsets)",
            cloudflare="trim (as distances from the edges)",
        ),
        "fm": ParameterSpec(
            field="fm",
            parse=_format,
            accepts="one of " + ", ".join(Format) + " (any case)",
            default="the source's format family (HEIC, TIFF, SVG: PNG with alpha, else JPEG)",
            description="Output format; json answers the source's metadata instead of an image (see Info).",
            imgix="fm (jp2, jxr, png32 and the video formats are refused)",
            imgproxy="format (or the URL extension)",
            cloudflare="format",
        ),
        "auto": ParameterSpec(
            field="auto",
            parse=_auto,
            accepts="a comma list of " + ", ".join(Auto),
            default="none",
            description=(
                "format: AVIF or WebP when Accept lists it (sends Vary: Accept); compress: smaller files (see Quality)."
            ),
            imgix="auto (enhance and redeye are refused)",
            imgproxy="server settings (IMGPROXY_AUTO_WEBP, IMGPROXY_AUTO_AVIF)",
            cloudflare="format=auto",
        ),
        "q": ParameterSpec(
            field="q",
            parse=_quality,
            accepts="an integer between 0 and 100 (0 reads as 1)",
            default="per format, see Quality",
            description="Quality of the lossy formats; PNG, GIF and lossless output do not read it.",
            imgix="q (imgix's default is 75, imgate's 80: add q=75 to match its bytes)",
            imgproxy="quality",
            cloudflare="quality",
        ),
        "lossless": ParameterSpec(
            field="lossless",
            parse=_switch,
            accepts="1, 0, true or false",
            default="0",
            description="Lossless WebP and AVIF; PNG and GIF are lossless anyway, and JPEG cannot be.",
            imgix="lossless",
        ),
        "bg": ParameterSpec(
            field="bg",
            parse=_color,
            accepts="a colour: hex RGB, ARGB, RRGGBB or AARRGGBB, # optional, or a CSS name such as red",
            default="transparent (white where the format has no alpha)",
            description="Colour of padding and of every transparent pixel.",
            imgix="bg",
            imgproxy="background",
            cloudflare="background",
        ),
        "orient": ParameterSpec(
            field="orient",
            parse=_orientation,
            accepts="0, 90, 180 or 270, or the EXIF rotations 1, 3, 6 and 8",
            default="0",
            description=(
                "Turn the output clockwise in quarter turns (also written or), after the EXIF orientation; w, h, "
                "crop, fp-x/fp-y and pad-* describe the turned output. 6 is 90, 3 is 180, 8 is 270."
            ),
            imgix="or / orient (imgix replaces the EXIF orientation; the same for upright sources)",
            imgproxy="rotate",
            cloudflare="rotate",
        ),
        "rot": ParameterSpec(
            field="rot",
            parse=_free_angle,
            accepts="a number of degrees from 0 up to 360",
            default="0",
            description=(
                "Straighten: turn the image counter-clockwise by any angle inside its own frame, zoomed so that no "
                "corner shows; the output keeps its size (after or and flip). rot was imgate's quarter turn before "
                "it took imgix's meaning; quarter turns are or."
            ),
            imgix="rot",
        ),
        "flip": ParameterSpec(
            field="flip",
            parse=_one_of(Flip),
            accepts="one of " + ", ".join(Flip),
            default="none",
            description="Mirror the output: h left-right, v top-bottom, hv both (after rot).",
            imgix="flip",
            cloudflare="flip",
        ),
        "blur": ParameterSpec(
            field="blur",
            parse=_integer(0, 2000),
            accepts="an integer between 0 and 2000",
            default="0",
            description="Gaussian blur of the output; the sigma in output pixels is blur/20 (2000: sigma 100).",
            imgix="blur",
            imgproxy="blur (its sigma is blur/20)",
            cloudflare="blur",
        ),
        "sharp": ParameterSpec(
            field="sharp",
            parse=_decimal(0, 100),
            accepts="a number between 0 and 100",
            default="0",
            description="Sharpen the output (libvips sharpen, sigma 1; the slope of the edges is sharp/25).",
            imgix="sharp",
            imgproxy="sharpen",
            cloudflare="sharpen (0-10)",
        ),
        "bri": _adjustment(
            "bri",
            "Brightness: adds bri×2.55 to every colour channel (-100 black, 100 white).",
            "bri",
            "brightness (pro)",
            "brightness",
        ),
        "con": _adjustment(
            "con",
            "Contrast: scales the distance from mid-grey by (100+con)/100 (-100: flat grey).",
            "con",
            "contrast (pro)",
            "contrast",
        ),
        "sat": _adjustment(
            "sat",
            "Saturation: scales the distance from each pixel's luma by (100+sat)/100 (-100: greyscale).",
            "sat",
            "saturation (pro)",
            "saturation",
        ),
        "pad": ParameterSpec(
            field="pad",
            parse=_integer(0, MAX_PAD),
            accepts=f"an integer between 0 and {MAX_PAD}",
            default="0",
            description=(
                "Padding on every side, in output pixels (times dpr), coloured with bg. With w or h the "
                "padded image fits the requested size; without, the padding adds to it."
            ),
            imgix="pad",
            imgproxy="padding",
        ),
        "pad-top": _pad_side("top"),
        "pad-right": _pad_side("right"),
        "pad-bottom": _pad_side("bottom"),
        "pad-left": _pad_side("left"),
        "trim": ParameterSpec(
            field="trim",
            parse=_imgix_one_of(Trim, frozenset({"colorunlessalpha"})),
            accepts="one of " + ", ".join(Trim),
            default="none",
            description=(
                "Cut away a uniform border before resizing (after rect). auto: only when the four corners "
                "share a colour; color: a border of trim-color."
            ),
            imgix="trim",
            imgproxy="trim",
        ),
        "trim-color": ParameterSpec(
            field="trim_color",
            parse=_opaque_color,
            accepts="an opaque colour: hex RGB or RRGGBB, # optional, or a CSS name such as red",
            default="the top-left pixel's colour",
            description="With trim=color: the border colour.",
            imgix="trim-color",
            imgproxy="trim (color argument)",
        ),
        "trim-tol": ParameterSpec(
            field="trim_tol",
            parse=_integer(0, 100),
            accepts="an integer between 0 and 100",
            default=str(TRIM_TOLERANCE),
            description="With trim: how far (per channel, 0-255 scale) a pixel may be from the border colour.",
            imgix="trim-tol (auto: trim-md)",
            imgproxy="trim (threshold argument)",
        ),
        "frame": ParameterSpec(
            field="frame",
            parse=_integer(1, MAX_FRAME),
            accepts=f"an integer between 1 and {MAX_FRAME}, at most the number of frames",
            default="every frame (animated output), else the first",
            description="Take one frame of an animation (1 is the first) as a still.",
            imgix="frame",
            cloudflare="anim=false (first frame only)",
        ),
        # Effects, imgix's meaning (transforms/steps/effects.py, border.py, mask.py, blend.py, straighten.py).
        "fill": ParameterSpec(
            field="fill",
            parse=_imgix_one_of(Fill, frozenset({"gen", "generative", "gradient"})),
            accepts="one of " + ", ".join(Fill),
            default="transparent, then bg",
            description=(
                "With fit=fill or fillmax: solid paints the added space with fill-color, blur with the image "
                "itself, covering the box and blurred."
            ),
            imgix="fill (gen and gradient are refused)",
            imgproxy="extend / background",
            cloudflare="background",
        ),
        "fill-color": ParameterSpec(
            field="fill_color",
            parse=_color,
            accepts="a colour: hex RGB, ARGB, RRGGBB or AARRGGBB, # optional, or a CSS name such as red",
            default="ffffff",
            description="With fill=solid: the colour of the added space (also written fillcolor).",
            imgix="fill-color",
            imgproxy="background",
            cloudflare="background",
        ),
        "invert": ParameterSpec(
            field="invert",
            parse=_on,
            accepts="1, 0, true or false",
            default="0",
            description="Invert every colour channel (a negative); alpha is kept.",
            imgix="invert",
        ),
        "monochrome": ParameterSpec(
            field="monochrome",
            parse=_color,
            accepts="a colour: hex RGB, ARGB, RRGGBB or AARRGGBB, # optional, or a CSS name such as red",
            default="none",
            description=(
                "Tint: the luma in shades of this colour, black to the colour (at mid-grey) to white; an ARGB "
                "colour's alpha is the strength (also written mono)."
            ),
            imgix="monochrome / mono",
            imgproxy="monochrome (pro)",
        ),
        "sepia": ParameterSpec(
            field="sepia",
            parse=_integer(0, 100),
            accepts="an integer between 0 and 100",
            default="0",
            description="Sepia toning, mixed in by sepia percent.",
            imgix="sepia",
        ),
        "duotone": ParameterSpec(
            field="duotone",
            parse=_duotone,
            accepts="two opaque colours, shadows then highlights, such as 000080,ffd700 or navy,gold",
            default="none",
            description="Map the luminance onto a gradient between two colours (shadows, highlights).",
            imgix="duotone",
            imgproxy="duotone (pro)",
        ),
        "duotone-alpha": ParameterSpec(
            field="duotone_alpha",
            parse=_integer(0, 100),
            accepts="an integer between 0 and 100",
            default="100",
            description="With duotone: how much of the duotone shows over the image, in percent.",
            imgix="duotone-alpha",
        ),
        "gam": _adjustment(
            "gam",
            "Gamma: each channel c (0 to 1) becomes c^(2^(-gam/100)): brighter mid-tones above 0, darker below.",
            "gam",
            "—",
            "gamma",
        ),
        "hue": ParameterSpec(
            field="hue",
            parse=_integer(0, 359),
            accepts="an integer between 0 and 359",
            default="0",
            description="Turn every hue by this many degrees (LCh hue angle), keeping lightness and chroma.",
            imgix="hue",
        ),
        "vib": _adjustment(
            "vib",
            "Vibrance: raise (or lower) the saturation of the dull colours more than that of the vivid ones.",
            "vib",
            "—",
            "—",
        ),
        "px": ParameterSpec(
            field="px",
            parse=_integer(0, 100),
            accepts="an integer between 0 and 100",
            default="0",
            description="Pixelate into blocks of px output pixels a side.",
            imgix="px",
            imgproxy="pixelate",
        ),
        "usm": _adjustment(
            "usm",
            "Unsharp mask of radius usmrad: usm/20 of the detail is added back (negative values soften).",
            "usm",
            "sharpen",
            "sharpen",
        ),
        "usmrad": ParameterSpec(
            field="usmrad",
            parse=_decimal(0.1, 500),
            accepts="a number between 0.1 and 500",
            default=str(USM_RADIUS),
            description="With usm: the radius (Gaussian sigma, output pixels) of the unsharp mask.",
            imgix="usmrad",
        ),
        "border": ParameterSpec(
            field="border",
            parse=_border,
            accepts=f"width,colour: an integer between 0 and {MAX_PAD} and a colour, such as 10,000000 or 4,red",
            default="none",
            description="A border of that width and colour, drawn over the image's outer pixels (the size stays).",
            imgix="border",
            imgproxy="padding + background",
        ),
        "border-radius": ParameterSpec(
            field="border_radius",
            parse=_corners,
            accepts=f"one radius, or four (top-left, top-right, bottom-right, bottom-left), each 0 to {MAX_PAD}",
            default="0",
            description="With border: round the border's outer corners; outside them is transparent (then bg).",
            imgix="border-radius",
        ),
        "mask": ParameterSpec(
            field="mask",
            parse=_mask,
            accepts="ellipse or corners",
            default="none",
            description="Make the output transparent outside an ellipse, or outside rounded corners (corner-radius).",
            imgix="mask (image masks are refused)",
        ),
        "corner-radius": ParameterSpec(
            field="corner_radius",
            parse=_corners,
            accepts=f"one radius, or four (top-left, top-right, bottom-right, bottom-left), each 0 to {MAX_PAD}",
            default="0",
            description="With mask=corners: the corners' radii in output pixels.",
            imgix="corner-radius",
        ),
        "mask-bg": ParameterSpec(
            field="mask_bg",
            parse=_color,
            accepts="a colour: hex RGB, ARGB, RRGGBB or AARRGGBB, # optional, or a CSS name such as red",
            default="transparent (white where the format has no alpha)",
            description="With mask: the colour outside the mask.",
            imgix="mask-bg",
        ),
        "blend": ParameterSpec(
            field="blend",
            parse=_colour_only,
            accepts="a colour: hex RGB, ARGB, RRGGBB or AARRGGBB, # optional, or a CSS name such as red",
            default="none",
            description="Lay a colour over the whole output with blend-mode and blend-alpha (also blend-color).",
            imgix="blend / blend-color (image blends are refused)",
        ),
        "blend-color": ParameterSpec(
            field="blend",
            parse=_colour_only,
            accepts="a colour: hex RGB, ARGB, RRGGBB or AARRGGBB, # optional, or a CSS name such as red",
            default="none",
            description="The same as blend with a colour.",
            imgix="blend-color",
        ),
        "blend-mode": ParameterSpec(
            field="blend_mode",
            parse=_imgix_one_of(BlendMode, frozenset({"color", "hue", "saturation", "luminosity"})),
            accepts="one of " + ", ".join(BlendMode),
            default="overlay",
            description="With blend: how the colour combines with the image (libvips' composite modes).",
            imgix="blend-mode (color, hue, saturation and luminosity are refused)",
        ),
        "blend-alpha": ParameterSpec(
            field="blend_alpha",
            parse=_integer(0, 100),
            accepts="an integer between 0 and 100",
            default="100",
            description="With blend: the colour's opacity in percent (times the colour's own alpha).",
            imgix="blend-alpha",
        ),
        "palette": ParameterSpec(
            field="palette",
            parse=_imgix_one_of(Palette, frozenset({"css"})),
            accepts="json",
            default="none",
            description="Answer the output's dominant colours as JSON instead of the image (see Palette).",
            imgix="palette (css is refused)",
        ),
        "colors": ParameterSpec(
            field="colors",
            parse=_integer(1, 16),
            accepts="an integer between 1 and 16",
            default=str(PALETTE_COLOURS),
            description="With palette: at most this many colours.",
            imgix="colors",
        ),
        "chromasub": ParameterSpec(
            field="chromasub",
            parse=_chroma,
            accepts="444 or 420",
            default="libvips' choice: 420 below q=90, 444 from it",
            description="JPEG chroma subsampling: 444 keeps full colour resolution, 420 halves it.",
            imgix="chromasub (422 is refused)",
        ),
        **_FACE_PARAMETERS,
        **_TEXT_PARAMETERS,
        "v": ParameterSpec(
            field="v",
            parse=_opaque,
            accepts="1 to 64 printable ASCII characters",
            default="none",
            description="Cache buster: changes the cache key, never the pixels.",
        ),
    }
)


def parse(
    items: Iterable[tuple[str, str]], extra: frozenset[str] = frozenset(), ignored: list[str] | None = None
) -> TransformOptions:
    """Options from a query's (name, value) pairs, in order; names in ``extra`` belong to the caller.

    imgix's aliases read as their published names, and ``ixlib`` (what imgix's SDKs append) is checked and
    left out. An imgix parameter or value imgate does not implement is refused, unless ``ignored`` is given
    (a workspace's lenient mode): then its name is appended there and the rendering goes on without it.
    """
    values: dict[str, Any] = {}
    for written, text in items:
        if written in extra:
            continue
        name = canonical_name(written)  # width -> w, f -> fit, or -> orient, ...
        if name in CLIENT_PARAMETERS:
            _check_client(written, text)
            continue
        if name in extra:
            raise InvalidParameter(_shown(written), f"is imgix's other spelling of {name}: write {name}")
        spec = PARAMETERS.get(name)
        if spec is None:
            if name not in PUBLISHED:
                raise InvalidParameter(_shown(written), "is not a known parameter")
            if ignored is None:
                raise InvalidParameter(_shown(written), unsupported(written))
            ignored.append(written)
            continue
        if spec.field in values:
            raise InvalidParameter(written, "is given more than once")
        try:
            values[spec.field] = _value(written, spec, text)
        except _Unsupported as refused:
            if ignored is None:
                raise InvalidParameter(written, str(refused)) from None
            ignored.append(written)
    if values.get("fit") is Fit.FACEAREA and not ("w" in values and "h" in values):
        # The face is cut to the w×h shape: without both there is no shape, and clip would ignore the fit.
        raise InvalidParameter("fit", "facearea needs both w and h")
    return TransformOptions(**values)


def parse_query(query: str, extra: frozenset[str] = frozenset()) -> TransformOptions:
    """``parse`` for raw query text (``w=100&fm=webp``); blank values are kept so that they are refused."""
    return parse(parse_qsl(query, keep_blank_values=True), extra)


def to_query(options: TransformOptions) -> str:
    """The inverse of ``parse_query``: ``parse_query(to_query(o)) == o``."""
    return "&".join(f"{name}={quote(text, safe=',')}" for name, text in options.pairs())


def _value(name: str, spec: ParameterSpec, text: str) -> Any:
    if not text or len(text) > MAX_VALUE_LENGTH:
        raise InvalidParameter(name, f"must be {spec.accepts}")
    try:
        return spec.parse(text)
    except _Unsupported:
        raise
    except _Refused as refused:
        raise InvalidParameter(name, str(refused)) from None
    except ValueError:
        raise InvalidParameter(name, f"must be {spec.accepts}") from None


def _check_client(name: str, text: str) -> None:
    if not valid_client_token(text):
        raise InvalidParameter(name, "must be a library and version such as js-3.8.0 (up to 40 letters, digits, . - _)")


def _shown(name: str) -> str:
    """An unknown name as it may appear in a message: short, printable."""
    shown = re.sub(r"[^ -~]", "?", name[:40])
    return shown or "(empty name)"
