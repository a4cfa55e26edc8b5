"""What a URL asks of an image: a frozen value with a canonical text form for cache keys.

Field names are the imgix parameter names (``w``, ``fm``, ``pad-top``…; a dash becomes ``_``), so the
parameter table, the query text and this class never need a translation map. Every field defaults to
"not given": ``TransformOptions()`` means "no transform". ``w`` and ``h`` hold an ``int`` for pixels
and a ``float`` (strictly between 0 and 1) for a ratio of the source.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any
from urllib.parse import quote


class Fit(StrEnum):
    CLIP = "clip"  # fit inside w×h, keep the aspect ratio (the default)
    CROP = "crop"  # cover w×h, then cut the overflow away at the `crop` gravity
    FILL = "fill"  # fit inside, then pad to exactly w×h with `bg`
    MAX = "max"  # like clip, never enlarge
    MIN = "min"  # like crop, never enlarge: a smaller source is cut to the aspect ratio instead
    SCALE = "scale"  # exactly w×h, aspect ratio ignored


class Format(StrEnum):
    JPG = "jpg"
    PJPG = "pjpg"  # progressive JPEG
    PNG = "png"
    WEBP = "webp"
    AVIF = "avif"
    GIF = "gif"
    JSON = "json"  # not an image: the source's metadata (transforms.info)

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self]

    @property
    def has_alpha(self) -> bool:
        """Whether the format can carry transparency (else alpha is flattened onto `bg`)."""
        return self not in (Format.JPG, Format.PJPG)

    @property
    def animates(self) -> bool:
        return self in (Format.GIF, Format.WEBP)


_CONTENT_TYPES = {
    Format.JPG: "image/jpeg",
    Format.PJPG: "image/jpeg",
    Format.PNG: "image/png",
    Format.WEBP: "image/webp",
    Format.AVIF: "image/avif",
    Format.GIF: "image/gif",
    Format.JSON: "application/json",
}


class Auto(StrEnum):
    FORMAT = "format"  # pick AVIF/WebP from the Accept header
    COMPRESS = "compress"  # lower default quality, harder PNG compression (transforms.steps.encode)


class Crop(StrEnum):
    """Where the fits that cut (crop, min) cut, and where fit=fill places the image."""

    TOP = "top"
    BOTTOM = "bottom"
    LEFT = "left"
    RIGHT = "right"
    CENTER = "center"
    ENTROPY = "entropy"  # keep the busiest part (libvips smartcrop)
    ATTENTION = "attention"  # keep what draws the eye: skin, saturation, edges (libvips smartcrop)
    FOCALPOINT = "focalpoint"  # centre on fp-x, fp-y, zoomed by fp-z


EDGES = frozenset({Crop.TOP, Crop.BOTTOM, Crop.LEFT, Crop.RIGHT})
# Each stands alone: a strategy decides the whole cut, so an edge beside it would mean nothing.
STRATEGIES = frozenset({Crop.ENTROPY, Crop.ATTENTION, Crop.FOCALPOINT})


class Flip(StrEnum):
    H = "h"  # mirror left-right
    V = "v"  # mirror top-bottom
    HV = "hv"  # both: the same pixels as rot=180


class Trim(StrEnum):
    AUTO = "auto"  # cut a border whose colour all four corners share
    COLOR = "color"  # cut a border of trim-color (default: the top-left pixel's colour)


@dataclass(frozen=True, slots=True)
class Color:
    red: int
    green: int
    blue: int
    alpha: int = 255

    @property
    def opaque(self) -> bool:
        return self.alpha == 255

    def hex(self) -> str:
        """imgix spelling: ``rrggbb`` when opaque, else ``aarrggbb`` (alpha first)."""
        rgb = f"{self.red:02x}{self.green:02x}{self.blue:02x}"
        return rgb if self.opaque else f"{self.alpha:02x}{rgb}"

    def over(self, under: Color) -> Color:
        """This colour composited over an opaque one: what a translucent `bg` becomes in a JPEG."""
        a = self.alpha / 255

        def mix(top: int, bottom: int) -> int:
            return round(top * a + bottom * (1 - a))

        return Color(mix(self.red, under.red), mix(self.green, under.green), mix(self.blue, under.blue))


WHITE = Color(255, 255, 255)


@dataclass(frozen=True, slots=True)
class Rect:
    """A region of the upright source, in its pixels: `rect=x,y,w,h`."""

    x: int
    y: int
    width: int
    height: int

    def text(self) -> str:
        return f"{self.x},{self.y},{self.width},{self.height}"


@dataclass(frozen=True, slots=True)
class Aspect:
    """An aspect ratio as written, `ar=16:9` (decimals allowed: `1.91:1`)."""

    width: float
    height: float

    @property
    def ratio(self) -> float:
        return self.width / self.height

    def text(self) -> str:
        return f"{number_text(self.width)}:{number_text(self.height)}"


@dataclass(frozen=True, slots=True)
class Sides:
    """Padding per side, in output pixels."""

    top: int = 0
    right: int = 0
    bottom: int = 0
    left: int = 0

    def __bool__(self) -> bool:
        return any((self.top, self.right, self.bottom, self.left))


# Fits that cut the image at the `crop` gravity or strategy.
CUT_FITS = frozenset({Fit.CROP, Fit.MIN})
FP_CENTRE = 0.5
TRIM_TOLERANCE = 10  # trim-tol when not given: libvips' own find_trim threshold


@dataclass(frozen=True, slots=True)
class TransformOptions:
    w: int | float | None = None
    h: int | float | None = None
    dpr: float | None = None
    ar: Aspect | None = None
    fit: Fit | None = None
    crop: frozenset[Crop] = frozenset()
    fp_x: float | None = None
    fp_y: float | None = None
    fp_z: float | None = None
    rect: Rect | None = None
    fm: Format | None = None
    auto: frozenset[Auto] = frozenset()
    q: int | None = None
    lossless: bool = False
    bg: Color | None = None
    rot: int | None = None
    flip: Flip | None = None
    blur: int | None = None
    sharp: int | None = None
    bri: int | None = None
    con: int | None = None
    sat: int | None = None
    pad: int | None = None
    pad_top: int | None = None
    pad_right: int | None = None
    pad_bottom: int | None = None
    pad_left: int | None = None
    trim: Trim | None = None
    trim_color: Color | None = None
    trim_tol: int | None = None
    frame: int | None = None
    v: str | None = None

    def pairs(self) -> list[tuple[str, str]]:
        """(parameter, text) for every field that is set, in field order; parsing them gives ``self`` back."""
        out: list[tuple[str, str]] = []
        for name, parameter in _PARAMETER_NAMES:
            value = getattr(self, name)
            if value is None or value is False or value == frozenset():
                continue
            out.append((parameter, value_text(value)))
        return out

    def sides(self) -> Sides:
        """The padding asked for: `pad` on every side, each `pad-*` overriding its own."""
        every = self.pad or 0

        def side(value: int | None) -> int:
            return every if value is None else value

        return Sides(side(self.pad_top), side(self.pad_right), side(self.pad_bottom), side(self.pad_left))

    def normalised(self) -> TransformOptions:
        """The same rendering with redundant spellings removed.

        Every rule here must match how the pipeline reads the options: two option sets that normalise
        equal must render identically. Only cheap, source-independent rules belong here.
        """
        if self.fm is Format.JSON:
            return TransformOptions(fm=Format.JSON, v=self.v)  # info describes the source, nothing else
        # Every request computes its canonical form for the cache key, cache hits included, and most
        # set none of the adjustments: they skip those rules, and options already normal are returned
        # as they are (dataclasses.replace is the costliest part of all this).
        plain = not self.lossless and all(getattr(self, name) is None for name in _EXTENDED)
        sized = self.w is not None or self.h is not None
        ar = None if self.w is not None and self.h is not None else self.ar  # parse refuses all three
        boxed = (self.w is not None and self.h is not None) or ar is not None
        fit = self.fit or Fit.CLIP
        if not boxed:
            # Without a box there is nothing to cover, pad or stretch: every fit keeps the aspect.
            fit = Fit.MAX if sized and fit in (Fit.MAX, Fit.MIN) else Fit.CLIP
        crop = _used_crop(self.crop, fit)
        sides = _NO_SIDES if plain else self.sides()
        lossless = self.lossless and self.fm not in (Format.JPG, Format.PJPG, Format.PNG, Format.GIF)
        wanted: dict[str, Any] = {
            "dpr": self.dpr if (sized or sides) and self.dpr != 1 else None,  # dpr scales w, h and padding
            "fit": None if fit is Fit.CLIP else fit,
            "crop": crop,
            "auto": self.auto - {Auto.FORMAT} if self.fm is not None else self.auto,  # an explicit fm wins
            # PNG and GIF take no quality; lossless WebP and AVIF neither.
            "q": None if self.fm in (Format.PNG, Format.GIF) or (lossless and self.fm is not None) else self.q,
        }
        if not plain:
            wanted.update(self._adjustments(ar, crop, sides, lossless))
        changes = {name: value for name, value in wanted.items() if getattr(self, name) != value}
        return replace(self, **changes) if changes else self

    def _adjustments(self, ar: Aspect | None, crop: frozenset[Crop], sides: Sides, lossless: bool) -> dict[str, Any]:
        """The normal form of the fields beyond size, fit and format."""
        focal = crop == {Crop.FOCALPOINT}
        pad, pad_top, pad_right, pad_bottom, pad_left = _pad_fields(sides)
        return {
            "ar": ar,
            "fp_x": self.fp_x if focal and self.fp_x != FP_CENTRE else None,
            "fp_y": self.fp_y if focal and self.fp_y != FP_CENTRE else None,
            "fp_z": self.fp_z if focal and self.fp_z != 1 else None,
            "lossless": lossless,
            "rot": self.rot or None,
            "blur": self.blur or None,
            "sharp": self.sharp or None,
            "bri": self.bri or None,
            "con": self.con or None,
            "sat": self.sat or None,
            "pad": pad,
            "pad_top": pad_top,
            "pad_right": pad_right,
            "pad_bottom": pad_bottom,
            "pad_left": pad_left,
            "trim_color": self.trim_color if self.trim is Trim.COLOR else None,
            "trim_tol": self.trim_tol if self.trim is not None and self.trim_tol != TRIM_TOLERANCE else None,
        }

    def canonical(self) -> str:
        """Deterministic text for cache keys: normalised, sorted by name, values percent-encoded.

        It is itself a valid query: parsing it gives ``self.normalised()`` back, so two different
        renderings can never share a canonical form.
        """
        items = sorted(self.normalised().pairs())
        return "&".join(f"{name}={quote(text, safe=',')}" for name, text in items)


_PARAMETER_NAMES = tuple((field.name, field.name.replace("_", "-")) for field in fields(TransformOptions))
# Fields that default to None and do not take part in sizing or format choice (lossless, a bool, aside).
_EXTENDED = tuple(
    name
    for name, _ in _PARAMETER_NAMES
    if name not in ("w", "h", "dpr", "fit", "crop", "fm", "auto", "q", "lossless", "bg", "v")
)
_NO_SIDES = Sides()


def _used_crop(crop: frozenset[Crop], fit: Fit) -> frozenset[Crop]:
    """The part of `crop` the fit reads: cutting fits read all of it, fill only the edges."""
    if fit in CUT_FITS:
        return crop if crop != {Crop.CENTER} else frozenset()
    if fit is Fit.FILL:
        return crop & EDGES  # fill places the image; a strategy has nothing to cut there
    return frozenset()


def _pad_fields(sides: Sides) -> tuple[int | None, int | None, int | None, int | None, int | None]:
    """(pad, pad-top, pad-right, pad-bottom, pad-left): `pad` alone when every side is equal, else the sides."""
    top, right, bottom, left = sides.top, sides.right, sides.bottom, sides.left
    if top == right == bottom == left:
        return top or None, None, None, None, None
    return None, top or None, right or None, bottom or None, left or None


def value_text(value: object) -> str:
    """The query spelling of one option value."""
    if isinstance(value, str):  # plain text and every StrEnum
        return str(value)
    if isinstance(value, frozenset):
        return ",".join(sorted(value_text(item) for item in value))
    if isinstance(value, Color):
        return value.hex()
    if isinstance(value, Rect | Aspect):
        return value.text()
    if isinstance(value, bool):  # before int: bool is an int
        return "1" if value else "0"
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"no query spelling for {type(value).__name__}")


def number_text(value: float) -> str:
    """Shortest text that reads back as the same float: ``2.0`` -> ``2``, ``1.5`` -> ``1.5``."""
    text = repr(value)
    return text.removesuffix(".0")
