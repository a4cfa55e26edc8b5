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

from transforms.errors import InvalidParameter
from transforms.options import (
    STRATEGIES,
    TRIM_TOLERANCE,
    Aspect,
    Auto,
    Color,
    Crop,
    Fit,
    Flip,
    Format,
    Rect,
    TransformOptions,
    Trim,
)

MAX_SIDE = 8192
MAX_PAD = 4096
MAX_FRAME = 9999
MAX_VALUE_LENGTH = 256
_E = TypeVar("_E", bound=StrEnum)
T = TypeVar("T", int, float)


class _Refused(ValueError):
    """A parser's own explanation; any other ValueError is reported as "must be <accepts>"."""


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


def _integer(low: int, high: int) -> Callable[[str], int]:
    # int() alone would take " 7", "1_000" and non-ASCII digits: two spellings, one key.
    return _ranged(r"[0-9]{1,9}", int, low, high)


def _signed(low: int, high: int) -> Callable[[str], int]:
    return _ranged(r"-?[0-9]{1,4}", int, low, high)


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


def _rect(text: str) -> Rect:
    match = re.fullmatch(r"([0-9]{1,5}),([0-9]{1,5}),([0-9]{1,5}),([0-9]{1,5})", text)
    if match is None:
        raise ValueError(text)
    rect = Rect(*(int(group) for group in match.groups()))
    if rect.width < 1 or rect.height < 1:
        raise ValueError(text)
    return rect


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
    if chosen & STRATEGIES and len(chosen) > 1:
        raise _Refused("entropy, attention and focalpoint cannot be combined with anything")
    if Crop.CENTER in chosen and len(chosen) > 1:
        raise _Refused("center cannot be combined with an edge")
    if {Crop.TOP, Crop.BOTTOM} <= chosen or {Crop.LEFT, Crop.RIGHT} <= chosen:
        raise _Refused("opposite edges cannot be combined")


_HEX = {3: r"[0-9a-fA-F]{3}", 4: r"[0-9a-fA-F]{4}", 6: r"[0-9a-fA-F]{6}", 8: r"[0-9a-fA-F]{8}"}


def _color(text: str) -> Color:
    if not re.fullmatch("|".join(_HEX.values()), text):
        raise ValueError(text)
    if len(text) <= 4:
        text = "".join(digit * 2 for digit in text)  # "8fff" -> "88ffffff"
    if len(text) == 6:
        text = "ff" + text
    alpha, red, green, blue = (int(text[i : i + 2], 16) for i in range(0, 8, 2))
    return Color(red, green, blue, alpha)


def _opaque_color(text: str) -> Color:
    if not re.fullmatch(f"{_HEX[3]}|{_HEX[6]}", text):
        raise ValueError(text)
    return _color(text)


def _switch(text: str) -> bool:
    # Both spellings imgix users write; either way one value, so one cache key.
    switch = {"1": True, "true": True, "0": False, "false": False}.get(text)
    if switch is None:
        raise ValueError(text)
    return switch


def _right_angle(text: str) -> int:
    if text not in ("0", "90", "180", "270"):
        raise ValueError(text)
    return int(text)


def _opaque(text: str) -> str:
    # Printable ASCII keeps keys, logs and URLs unambiguous; a cache buster needs nothing more.
    if not re.fullmatch(r"[ -~]{1,64}", text):
        raise ValueError(text)
    return text


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
            parse=_decimal(1, 5),
            accepts="a number between 1 and 5",
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
                "Completes the box from one of w or h (with neither: the largest box of that shape inside "
                "the source); the fit then applies to that box, so fit=crop gives exactly that shape."
            ),
            imgix="ar",
        ),
        "fit": ParameterSpec(
            field="fit",
            parse=_one_of(Fit),
            accepts="one of " + ", ".join(Fit),
            default="clip",
            description=(
                "How the image fits w×h: clip (inside), crop (cover, then cut), fill (inside, then pad with "
                "bg), max (clip, never enlarge), min (crop, never enlarge), scale (stretch)."
            ),
            imgix="fit",
            imgproxy="resizing_type (fit, fill, force) and enlarge",
            cloudflare="fit (contain, cover, pad, scale-down, crop)",
        ),
        "crop": ParameterSpec(
            field="crop",
            parse=_list_of(Crop, _check_crop),
            accepts="center, a comma list of top/bottom and left/right, or entropy, attention or focalpoint",
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
            accepts="x,y,w,h: four integers, w and h at least 1, inside the image",
            default="the whole source",
            description="A region of the upright source, in its pixels, taken before anything else.",
            imgix="rect",
            imgproxy="crop (with gravity nowe and offsets)",
            cloudflare="trim (as distances from the edges)",
        ),
        "fm": ParameterSpec(
            field="fm",
            parse=_one_of(Format),
            accepts="one of " + ", ".join(Format),
            default="the source's format family (HEIC, TIFF, SVG: PNG with alpha, else JPEG)",
            description="Output format; json answers the source's metadata instead of an image (see Info).",
            imgix="fm",
            imgproxy="format (or the URL extension)",
            cloudflare="format",
        ),
        "auto": ParameterSpec(
            field="auto",
            parse=_list_of(Auto),
            accepts="a comma list of " + ", ".join(Auto),
            default="none",
            description=(
                "format: AVIF or WebP when Accept lists it (sends Vary: Accept); compress: smaller files (see Quality)."
            ),
            imgix="auto",
            imgproxy="server settings (IMGPROXY_AUTO_WEBP, IMGPROXY_AUTO_AVIF)",
            cloudflare="format=auto",
        ),
        "q": ParameterSpec(
            field="q",
            parse=_integer(1, 100),
            accepts="an integer between 1 and 100",
            default="per format, see Quality",
            description="Quality of the lossy formats; PNG, GIF and lossless output do not read it.",
            imgix="q",
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
            accepts="a hex colour: RGB, ARGB, RRGGBB or AARRGGBB",
            default="transparent (white where the format has no alpha)",
            description="Colour of padding and of every transparent pixel.",
            imgix="bg",
            imgproxy="background",
            cloudflare="background",
        ),
        "rot": ParameterSpec(
            field="rot",
            parse=_right_angle,
            accepts="0, 90, 180 or 270",
            default="0",
            description=(
                "Turn the output clockwise, after the EXIF orientation; w, h, crop, fp-x/fp-y and pad-* "
                "describe the turned output."
            ),
            imgix="or (imgix's rot straightens by any angle inside the frame)",
            imgproxy="rotate",
            cloudflare="rotate",
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
            parse=_integer(0, 100),
            accepts="an integer between 0 and 100",
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
            parse=_one_of(Trim),
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
            accepts="a hex colour: RGB or RRGGBB",
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
        "v": ParameterSpec(
            field="v",
            parse=_opaque,
            accepts="1 to 64 printable ASCII characters",
            default="none",
            description="Cache buster: changes the cache key, never the pixels.",
        ),
    }
)


def parse(items: Iterable[tuple[str, str]], extra: frozenset[str] = frozenset()) -> TransformOptions:
    """Options from a query's (name, value) pairs, in order; names in ``extra`` belong to the caller."""
    values: dict[str, Any] = {}
    for name, text in items:
        if name in extra:
            continue
        spec = PARAMETERS.get(name)
        if spec is None:
            raise InvalidParameter(_shown(name), "is not a known parameter")
        if spec.field in values:
            raise InvalidParameter(name, "is given more than once")
        values[spec.field] = _value(name, spec, text)
    if "ar" in values and "w" in values and "h" in values:
        # With both sides the box is given; an aspect on top would contradict it or repeat it.
        raise InvalidParameter("ar", "cannot be combined with both w and h")
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
    except _Refused as refused:
        raise InvalidParameter(name, str(refused)) from None
    except ValueError:
        raise InvalidParameter(name, f"must be {spec.accepts}") from None


def _shown(name: str) -> str:
    """An unknown name as it may appear in a message: short, printable."""
    shown = re.sub(r"[^ -~]", "?", name[:40])
    return shown or "(empty name)"
