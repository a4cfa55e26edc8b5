"""What a URL asks of an image: a frozen value with a canonical text form for cache keys.

Field names are the imgix parameter names (``w``, ``fm``, ``bg``…; a dash becomes ``_``), so the
parameter table, the query text and this class never need a translation map. Every field defaults to
"not given": ``TransformOptions()`` means "no transform".
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import StrEnum
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

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self]

    @property
    def has_alpha(self) -> bool:
        """Whether the format can carry transparency (else alpha is flattened onto `bg`)."""
        return self not in (Format.JPG, Format.PJPG)


_CONTENT_TYPES = {
    Format.JPG: "image/jpeg",
    Format.PJPG: "image/jpeg",
    Format.PNG: "image/png",
    Format.WEBP: "image/webp",
    Format.AVIF: "image/avif",
    Format.GIF: "image/gif",
}


class Auto(StrEnum):
    FORMAT = "format"  # pick AVIF/WebP from the Accept header
    COMPRESS = "compress"  # reserved: accepted and keyed, no effect on pixels yet


class Crop(StrEnum):
    """Gravity for the fits that cut or pad (crop, min, fill)."""

    TOP = "top"
    BOTTOM = "bottom"
    LEFT = "left"
    RIGHT = "right"
    CENTER = "center"


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

# Fits that use the `crop` gravity; for every other fit the gravity cannot change a pixel.
GRAVITY_FITS = frozenset({Fit.CROP, Fit.FILL, Fit.MIN})


@dataclass(frozen=True, slots=True)
class TransformOptions:
    w: int | None = None
    h: int | None = None
    dpr: float | None = None
    fit: Fit | None = None
    crop: frozenset[Crop] = frozenset()
    fm: Format | None = None
    auto: frozenset[Auto] = frozenset()
    q: int | None = None
    bg: Color | None = None
    v: str | None = None

    def pairs(self) -> list[tuple[str, str]]:
        """(parameter, text) for every field that is set, in field order; parsing them gives ``self`` back."""
        out: list[tuple[str, str]] = []
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None or value == frozenset():
                continue
            out.append((field.name.replace("_", "-"), value_text(value)))
        return out

    def normalised(self) -> TransformOptions:
        """The same rendering with redundant spellings removed.

        Every rule here must match how the pipeline reads the options: two option sets that normalise
        equal must render identically. Only cheap, source-independent rules belong here.
        """
        fit = self.fit or Fit.CLIP
        sized = self.w is not None or self.h is not None
        if not sized:
            fit = Fit.CLIP  # without w or h nothing is resized, so fit, gravity and dpr do nothing
        elif self.w is None or self.h is None:
            # With one side given there is no box to cover, pad or stretch: every fit keeps the aspect.
            fit = Fit.MAX if fit in (Fit.MAX, Fit.MIN) else Fit.CLIP
        crop = self.crop if fit in GRAVITY_FITS and self.crop != {Crop.CENTER} else frozenset()
        return replace(
            self,
            dpr=self.dpr if sized and self.dpr != 1 else None,
            fit=None if fit is Fit.CLIP else fit,
            crop=crop,
            auto=self.auto - {Auto.FORMAT} if self.fm is not None else self.auto,  # an explicit fm wins
            q=None if self.fm in (Format.PNG, Format.GIF) else self.q,  # their encoders take no quality
        )

    def canonical(self) -> str:
        """Deterministic text for cache keys: normalised, sorted by name, values percent-encoded.

        It is itself a valid query: parsing it gives ``self.normalised()`` back, so two different
        renderings can never share a canonical form.
        """
        items = sorted(self.normalised().pairs())
        return "&".join(f"{name}={quote(text, safe=',')}" for name, text in items)


def value_text(value: object) -> str:
    """The query spelling of one option value."""
    if isinstance(value, str):  # plain text and every StrEnum
        return str(value)
    if isinstance(value, frozenset):
        return ",".join(sorted(value_text(item) for item in value))
    if isinstance(value, Color):
        return value.hex()
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"no query spelling for {type(value).__name__}")


def number_text(value: float) -> str:
    """Shortest text that reads back as the same float: ``2.0`` -> ``2``, ``1.5`` -> ``1.5``."""
    text = repr(value)
    return text.removesuffix(".0")
