"""What a URL asks of an image: a frozen value with a canonical text form for cache keys.

Field names are the imgix parameter names (``w``, ``fm``, ``pad-top``…; a dash becomes ``_``), so the
parameter table, the query text and this class never need a translation map. Every field defaults to
"not given": ``TransformOptions()`` means "no transform". ``w`` and ``h`` hold an ``int`` for pixels
and a ``float`` (strictly between 0 and 1) for a ratio of the source.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import StrEnum
from operator import attrgetter
from typing import Any
from urllib.parse import quote


class Fit(StrEnum):
    CLIP = "clip"  # fit inside w×h, keep the aspect ratio (the default)
    CROP = "crop"  # cover w×h, then cut the overflow away at the `crop` gravity
    FILL = "fill"  # fit inside, then pad to exactly w×h with `bg`
    MAX = "max"  # like clip, never enlarge
    MIN = "min"  # like crop, never enlarge: a smaller source is cut to the aspect ratio instead
    SCALE = "scale"  # exactly w×h, aspect ratio ignored
    FILLMAX = "fillmax"  # like fill, never enlarge: a smaller source is padded to w×h at its own size
    CLAMP = "clamp"  # like fill, the space painted with the image's own edge pixels, stretched outwards
    FACEAREA = "facearea"  # cut to a detected face with facepad around it, then cover w×h (transforms.faces)


class Format(StrEnum):
    JPG = "jpg"
    PJPG = "pjpg"  # progressive JPEG
    PNG = "png"
    WEBP = "webp"
    AVIF = "avif"
    GIF = "gif"
    JSON = "json"  # not an image: the source's metadata (transforms.info)
    PNG8 = "png8"  # palette PNG, at most 256 colours
    BLURHASH = "blurhash"  # not an image: the output's BlurHash, as text (transforms.blurhash)

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self]

    @property
    def has_alpha(self) -> bool:
        """Whether the format can carry transparency (else alpha is flattened onto `bg`)."""
        return self not in (Format.JPG, Format.PJPG, Format.BLURHASH)

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
    Format.PNG8: "image/png",
    Format.BLURHASH: "text/plain; charset=utf-8",
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
    FACES = "faces"  # centre on the detected faces (transforms.faces); another item is the fallback without


EDGES = frozenset({Crop.TOP, Crop.BOTTOM, Crop.LEFT, Crop.RIGHT})
# Each stands alone: a strategy decides the whole cut, so an edge beside it would mean nothing.
STRATEGIES = frozenset({Crop.ENTROPY, Crop.ATTENTION, Crop.FOCALPOINT})


class Flip(StrEnum):
    H = "h"  # mirror left-right
    V = "v"  # mirror top-bottom
    HV = "hv"  # both: the same pixels as or=180


class Trim(StrEnum):
    AUTO = "auto"  # cut a border whose colour all four corners share
    COLOR = "color"  # cut a border of trim-color (default: the top-left pixel's colour)
    ALPHA = "alpha"  # cut the transparent border (alpha at most trim-alpha)


class Fill(StrEnum):
    """What paints the space fit=fill and fit=fillmax add (default: transparent, then bg)."""

    SOLID = "solid"  # fill-color
    BLUR = "blur"  # the image itself, covering the box and blurred


class Mask(StrEnum):
    ELLIPSE = "ellipse"  # the ellipse inside the output's frame
    CORNERS = "corners"  # rounded corners of corner-radius


class BlendMode(StrEnum):
    """How a `blend` colour is laid over the image; each is one of libvips' composite modes."""

    NORMAL = "normal"
    MULTIPLY = "multiply"
    SCREEN = "screen"
    OVERLAY = "overlay"
    DARKEN = "darken"
    LIGHTEN = "lighten"
    DODGE = "dodge"
    BURN = "burn"
    HARDLIGHT = "hardlight"
    SOFTLIGHT = "softlight"
    DIFFERENCE = "difference"
    EXCLUSION = "exclusion"


class Palette(StrEnum):
    JSON = "json"  # the output's dominant colours as JSON instead of the image (transforms.palette)


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
class Corners:
    """A radius per corner, in output pixels: top-left, top-right, bottom-right, bottom-left (imgix's order)."""

    top_left: int
    top_right: int
    bottom_right: int
    bottom_left: int

    def text(self) -> str:
        radii = (self.top_left, self.top_right, self.bottom_right, self.bottom_left)
        return str(radii[0]) if len(set(radii)) == 1 else ",".join(str(radius) for radius in radii)

    def __bool__(self) -> bool:
        return any((self.top_left, self.top_right, self.bottom_right, self.bottom_left))


@dataclass(frozen=True, slots=True)
class Border:
    """`border=width,colour`: a frame of that many output pixels around the image."""

    width: int
    colour: Color

    def text(self) -> str:
        return f"{self.width},{self.colour.hex()}"


@dataclass(frozen=True, slots=True)
class Duotone:
    """`duotone=shadows,highlights`: the dark end becomes the first colour, the light end the second."""

    shadows: Color
    highlights: Color

    def text(self) -> str:
        return f"{self.shadows.hex()},{self.highlights.hex()}"


@dataclass(frozen=True, slots=True)
class Rect:
    """A region of the upright source: `rect=x,y,w,h`, each in its pixels (an int) or, as imgix allows, a 0-1
    ratio of the source's side (a float); x may also be left, center or right, y top, middle or bottom."""

    x: int | float | str
    y: int | float | str
    width: int | float
    height: int | float

    def text(self) -> str:
        # A ratio keeps its point (1.0, not 1), so the text reads back as the same kind of value.
        return ",".join(repr(part) if isinstance(part, float) else str(part) for part in self.parts())

    def parts(self) -> tuple[int | float | str, int | float | str, int | float, int | float]:
        return self.x, self.y, self.width, self.height

    def resolve(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(x, y, w, h) in pixels of a ``width`` x ``height`` source (ratios rounded half up)."""
        w, h = _part(self.width, width), _part(self.height, height)
        x = _position(self.x, width, w, ("left", "center", "right"))
        y = _position(self.y, height, h, ("top", "middle", "bottom"))
        return x, y, w, h


def _part(value: int | float | str, side: int) -> int:
    if isinstance(value, float):
        return max(1, int(value * side + 0.5))
    return int(value)


def _position(value: int | float | str, side: int, length: int, keywords: tuple[str, str, str]) -> int:
    if isinstance(value, str):
        return {keywords[0]: 0, keywords[1]: (side - length) // 2, keywords[2]: side - length}[value]
    if isinstance(value, float):
        return int(value * side + 0.5)
    return value


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
# Fits that place the image in a w×h canvas and paint the rest (transparent then bg, fill, or edge pixels).
PADDING_FITS = frozenset({Fit.FILL, Fit.FILLMAX, Fit.CLAMP})
USM_RADIUS = 2.5  # usmrad when not given, imgix's default
PALETTE_COLOURS = 6  # colors when not given, imgix's default
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
    orient: int | None = None  # clockwise quarter turns: imgix's or=90/180/270 (imgate's rot before)
    rot: float | None = None  # imgix's rot: any angle, counter-clockwise, zoomed to cover the frame
    flip: Flip | None = None
    blur: int | None = None
    sharp: float | None = None
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
    fill: Fill | None = None
    fill_color: Color | None = None
    invert: bool | None = None
    monochrome: Color | None = None
    sepia: int | None = None
    duotone: Duotone | None = None
    duotone_alpha: int | None = None
    gam: int | None = None
    hue: int | None = None
    vib: int | None = None
    px: int | None = None
    usm: int | None = None
    usmrad: float | None = None
    border: Border | None = None
    border_radius: Corners | None = None
    mask: Mask | None = None
    corner_radius: Corners | None = None
    mask_bg: Color | None = None
    blend: Color | None = None
    blend_mode: BlendMode | None = None
    blend_alpha: int | None = None
    palette: Palette | None = None
    colors: int | None = None
    chromasub: int | None = None
    # Faces (transforms.faces, transforms.steps.faces): None, not False, when off, so a plain resize stays plain.
    facepad: float | None = None
    faceindex: int | None = None
    faces: bool | None = None  # with fm=json: the face boxes
    blur_faces: bool | None = None
    px_faces: bool | None = None
    # A text overlay (transforms.steps.text).
    txt: str | None = None
    txt_font: str | None = None
    txt_size: int | None = None
    txt_color: Color | None = None
    txt_align: str | None = None
    txt_pad: int | None = None
    txt_shad: int | None = None
    txt_width: int | None = None
    v: str | None = None
    # Set by the gateway from the workspace, never by a URL (no parameter reads it): the output keeps the source's
    # copyright and artist (transforms.copyright). In the canonical text, so it is part of the cache key.
    keep_copyright: bool | None = None

    def pairs(self) -> list[tuple[str, str]]:
        """(parameter, text) for every field that is set, in field order; parsing them gives ``self`` back."""
        out: list[tuple[str, str]] = []
        # One C-level read of every field: with seventy fields, getattr one by one was most of a miss's parse.
        for parameter, value in zip(_PARAMETERS_ONLY, _ALL_VALUES(self), strict=True):
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
            # info describes the source, nothing else (and its faces, when asked)
            return TransformOptions(fm=Format.JSON, v=self.v, faces=self.faces)
        # Every request computes its canonical form for the cache key, cache hits included, and most
        # set none of the adjustments: they skip those rules, and options already normal are returned
        # as they are (dataclasses.replace is the costliest part of all this).
        plain = not self.lossless and _EXTENDED_VALUES(self).count(None) == len(_EXTENDED)
        sized = self.w is not None or self.h is not None
        fit = self.fit or Fit.CLIP
        # As in imgix, ar shapes the box only for the fits that cut, and w with h give the box themselves.
        ar = None if (self.w is not None and self.h is not None) or fit not in CUT_FITS else self.ar
        boxed = (self.w is not None and self.h is not None) or ar is not None
        if not boxed:
            # Without a box there is nothing to cover, pad or stretch: every fit keeps the aspect.
            fit = Fit.MAX if sized and fit in (Fit.MAX, Fit.MIN, Fit.FILLMAX) else Fit.CLIP
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
            wanted.update(self._effects(fit))
            wanted.update(_faces_and_text(self, fit, crop))
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
            "orient": self.orient or None,
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

    def _effects(self, fit: Fit) -> dict[str, Any]:
        """The normal form of the effects: each at its neutral value, or a setting of an effect not asked for, drops."""
        fill = self.fill if fit in PADDING_FITS else None
        masked = self.mask is not None
        return {
            "fill": fill,
            "fill_color": self.fill_color if fill is Fill.SOLID and self.fill_color != WHITE else None,
            "invert": self.invert or None,
            "sepia": self.sepia or None,
            "duotone_alpha": self.duotone_alpha if self.duotone and self.duotone_alpha != 100 else None,
            "gam": self.gam or None,
            "hue": self.hue or None,
            "vib": self.vib or None,
            "px": self.px or None,
            "usm": self.usm or None,
            "usmrad": self.usmrad if self.usm and self.usmrad != USM_RADIUS else None,
            "border": self.border if self.border and self.border.width else None,
            "border_radius": self.border_radius if self.border and self.border.width and self.border_radius else None,
            "corner_radius": self.corner_radius if self.mask is Mask.CORNERS and self.corner_radius else None,
            "mask_bg": self.mask_bg if masked else None,
            "blend_mode": self.blend_mode if self.blend and self.blend_mode is not BlendMode.OVERLAY else None,
            "blend_alpha": self.blend_alpha if self.blend and self.blend_alpha != 100 else None,
            "colors": self.colors if self.palette and self.colors != PALETTE_COLOURS else None,
            "chromasub": self.chromasub if self.fm in (None, Format.JPG, Format.PJPG) else None,
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
_PARAMETERS_ONLY = tuple(parameter for _, parameter in _PARAMETER_NAMES)
_ALL_VALUES = attrgetter(*(name for name, _ in _PARAMETER_NAMES))
_EXTENDED_VALUES = attrgetter(*_EXTENDED)


def _faces_and_text(options: TransformOptions, fit: Fit, crop: frozenset[Crop]) -> dict[str, Any]:
    """facepad and faceindex only where a face mode reads them, txt-* only with txt, defaults as not given."""
    facearea = fit is Fit.FACEAREA
    text = options.txt is not None

    def read(value: object, default: object, used: bool = text) -> object:
        return value if used and value != default else None

    return {
        "facepad": read(options.facepad, 1.0, facearea),
        "faceindex": read(options.faceindex, None, facearea or Crop.FACES in crop),
        "faces": None,  # only fm=json reads it (normalised apart, above)
        "txt_font": read(options.txt_font, "sans"),
        "txt_size": read(options.txt_size, 12),
        "txt_color": read(options.txt_color, Color(0, 0, 0, 255)),
        "txt_align": read(options.txt_align, "bottom,right"),
        "txt_pad": read(options.txt_pad, 10),
        "txt_shad": read(options.txt_shad, 0),
        "txt_width": read(options.txt_width, None),
    }


def _used_crop(crop: frozenset[Crop], fit: Fit) -> frozenset[Crop]:
    """The part of `crop` the fit reads: cutting fits read all of it, fill only the edges."""
    if fit in CUT_FITS:
        return crop if crop != {Crop.CENTER} else frozenset()
    if fit in PADDING_FITS:
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
    if isinstance(value, Rect | Aspect | Corners | Border | Duotone):
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
