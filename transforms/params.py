"""Query parameters <-> TransformOptions, through one table.

``PARAMETERS`` maps each imgix-style name to a spec: the option field it fills, a small parser, and
the text the docs and error messages show. Adding a parameter is one entry here plus one field on
``TransformOptions``. Nothing is ignored silently: an unknown name, a repeated name, an empty or
out-of-range value is an ``InvalidParameter`` that names the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote

from transforms.errors import InvalidParameter
from transforms.options import Auto, Color, Crop, Fit, Format, TransformOptions

MAX_SIDE = 8192
MAX_VALUE_LENGTH = 256
_E = TypeVar("_E", bound=StrEnum)


class _Refused(ValueError):
    """A parser's own explanation; any other ValueError is reported as "must be <accepts>"."""


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    field: str  # the TransformOptions attribute it fills
    parse: Callable[[str], Any]  # raises ValueError on a bad value; Any: the table is heterogeneous
    accepts: str  # completes "must be …"
    default: str
    description: str


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        # int() alone would take " 7", "1_000" and non-ASCII digits: two spellings, one key.
        if not re.fullmatch(r"[0-9]{1,9}", text):
            raise ValueError(text)
        value = int(text)
        if not low <= value <= high:
            raise ValueError(text)
        return value

    return parse


def _decimal(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        # Plain decimals only: float() would also take "nan", "1e0" and "inf".
        if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,20})?", text):
            raise ValueError(text)
        value = float(text)
        if not low <= value <= high:
            raise ValueError(text)
        return value

    return parse


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
    if Crop.CENTER in chosen and len(chosen) > 1:
        raise _Refused("center cannot be combined with an edge")
    if {Crop.TOP, Crop.BOTTOM} <= chosen or {Crop.LEFT, Crop.RIGHT} <= chosen:
        raise _Refused("opposite edges cannot be combined")


def _color(text: str) -> Color:
    if not re.fullmatch(r"[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}", text):
        raise ValueError(text)
    if len(text) <= 4:
        text = "".join(digit * 2 for digit in text)  # "8fff" -> "88ffffff"
    if len(text) == 6:
        text = "ff" + text
    alpha, red, green, blue = (int(text[i : i + 2], 16) for i in range(0, 8, 2))
    return Color(red, green, blue, alpha)


def _opaque(text: str) -> str:
    # Printable ASCII keeps keys, logs and URLs unambiguous; a cache buster needs nothing more.
    if not re.fullmatch(r"[ -~]{1,64}", text):
        raise ValueError(text)
    return text


PARAMETERS: Mapping[str, ParameterSpec] = MappingProxyType(
    {
        "w": ParameterSpec(
            field="w",
            parse=_integer(1, MAX_SIDE),
            accepts=f"an integer between 1 and {MAX_SIDE}",
            default="the source width",
            description="Output width in pixels (before dpr).",
        ),
        "h": ParameterSpec(
            field="h",
            parse=_integer(1, MAX_SIDE),
            accepts=f"an integer between 1 and {MAX_SIDE}",
            default="the source height",
            description="Output height in pixels (before dpr).",
        ),
        "dpr": ParameterSpec(
            field="dpr",
            parse=_decimal(1, 5),
            accepts="a number between 1 and 5",
            default="1",
            description="Device pixel ratio: multiplies w and h.",
        ),
        "fit": ParameterSpec(
            field="fit",
            parse=_one_of(Fit),
            accepts="one of " + ", ".join(Fit),
            default="clip",
            description="How the image fits w×h: clip, crop, fill, max, min or scale.",
        ),
        "crop": ParameterSpec(
            field="crop",
            parse=_list_of(Crop, _check_crop),
            accepts="center or a comma list of top/bottom and left/right",
            default="center",
            description="Which part stays when fit=crop/min cuts, or where fit=fill places the image.",
        ),
        "fm": ParameterSpec(
            field="fm",
            parse=_one_of(Format),
            accepts="one of " + ", ".join(Format),
            default="the source's format family (HEIC, TIFF, SVG: PNG with alpha, else JPEG)",
            description="Output format.",
        ),
        "auto": ParameterSpec(
            field="auto",
            parse=_list_of(Auto),
            accepts="a comma list of " + ", ".join(Auto),
            default="none",
            description="format: AVIF or WebP when Accept lists it (send Vary: Accept); compress: reserved.",
        ),
        "q": ParameterSpec(
            field="q",
            parse=_integer(1, 100),
            accepts="an integer between 1 and 100",
            default="jpg/pjpg/webp 80, avif 60",
            description="Quality of the lossy formats; PNG and GIF do not read it.",
        ),
        "bg": ParameterSpec(
            field="bg",
            parse=_color,
            accepts="a hex colour: RGB, ARGB, RRGGBB or AARRGGBB",
            default="transparent (white where the format has no alpha)",
            description="Colour of fit=fill padding and of every transparent pixel.",
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
    return replace(TransformOptions(), **values)


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
