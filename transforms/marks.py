"""Marks (watermarks): one resolved preset, its parsers, and the pixels it stamps onto one output frame.

A ``MarkSpec`` is what the gateway hands the pipeline once the preset, the auto-apply rules and the URL
overrides are settled; nothing here knows about workspaces or rules. ``apply_mark`` runs on the output
pixels, after resizing, once per frame.

Decisions, in the imgix vocabulary the URL API follows:

- Size. A mark keeps its natural size (an image's pixels, a text's rendering at ``font_size``) unless
  ``w``/``h`` or ``scale`` ask otherwise. ``w`` and ``h`` win over ``scale``; with both, the mark fits
  inside w×h keeping its aspect (imgix's default ``mark-fit=clip``): a stretched logo looks broken.
  ``scale`` is the fraction of the output width the mark takes. Whatever was asked, a mark never
  overflows the output: it shrinks, keeping its aspect, to fit inside the output less ``pad``.
- Text. ``font_size`` is absolute pixels, like imgix's ``txt-size``; ``scale``/``w``/``h`` apply to a
  text mark as to an image mark, and the text is rendered again at the size that gives (never
  resampled up). ``background`` paints a box behind the text, a quarter of the font size wider on
  every side. An unknown font family falls back to the system's default sans.
- Place. ``align`` is (vertical, horizontal); ``pad`` is the distance from the edges the mark is
  aligned to (a centred axis ignores it). On an output too small for it, ``pad`` shrinks to a quarter
  of that side so that the mark stays on the image. ``tile`` repeats the mark in a grid over the
  whole output, starting ``pad`` from the top-left corner with ``pad`` between tiles; ``align`` does
  not apply to a tiled mark.
- Bands. The frame keeps its band layout (grey, grey+alpha, RGB, RGBA), except that a grey frame
  under a mark with colour comes back as sRGB: turning the mark grey would lose what the owner chose.
  On a frame with alpha the mark composites "over": it shows on transparent areas, and the frame's
  own transparency elsewhere is untouched.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

import pyvips
from cachetools import LRUCache

from transforms.errors import InvalidParameter, UnsupportedImage
from transforms.sniff import SourceFormat, sniff
from transforms.vips import FAIL_ON

__all__ = [
    "MARK_OVERRIDES",
    "MARK_PARAMETERS",
    "MarkSpec",
    "apply_mark",
    "parse_align",
    "parse_alpha",
    "parse_color",
    "parse_font",
    "parse_font_size",
    "parse_pad",
    "parse_scale",
    "parse_size",
    "parse_text",
    "prepare_mark",
]

# The URL overrides of a preset asked for with ?mark=, and every URL parameter that belongs to marks:
# the gateway drops them all when a rule stamps the source.
MARK_OVERRIDES = frozenset({"mark-align", "mark-alpha", "mark-scale", "mark-pad", "mark-w", "mark-h"})
MARK_PARAMETERS = MARK_OVERRIDES | {"mark"}

VERTICAL = ("top", "middle", "bottom")
HORIZONTAL = ("left", "center", "right")
MAX_PAD = 4096
MAX_SIDE = 8192  # the output's own cap: a mark larger than that could never be shown whole
MAX_TEXT = 200
MAX_FONT_SIZE = 400
# Marks are small pictures held decoded in memory across requests; a bigger one is an owner's mistake.
MAX_MARK_BYTES = 10 * 1024 * 1024
MAX_MARK_SIDE = 4096
MAX_MARK_PIXELS = 8_000_000
_MARK_LIMIT = f"{MAX_MARK_SIDE} pixels a side and {MAX_MARK_PIXELS:,} in all"
_MARK_FORMATS = frozenset({SourceFormat.PNG, SourceFormat.JPEG, SourceFormat.WEBP, SourceFormat.SVG})
# Bumped when the rendering changes, so that every preset version (and so every cache key) changes too.
_RENDERING = "imgate-mark/1"


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkSpec:
    """The resolved placement of one mark for one request: an image mark or a text mark.

    Fields are validated (and colours and ``align`` normalised) on construction; a bad value raises
    ``InvalidParameter`` naming the field, a mark image of another format ``UnsupportedImage``.
    """

    image: bytes | None = field(default=None, repr=False)  # PNG, JPEG, WebP or SVG
    text: str | None = None
    font: str = "sans"  # a font family, optionally with style words: "serif bold"
    font_size: int = 24  # pixels
    color: str = "ffffff"  # hex RGB or ARGB, stored as rrggbb or aarrggbb
    background: str | None = None
    align: tuple[str, str] = ("bottom", "right")
    alpha: int = 100  # percent
    scale: float | None = None  # fraction of the output width, 0 < scale <= 1
    pad: int = 10
    w: int | None = None
    h: int | None = None
    tile: bool = False
    # Derived once: apply_mark runs per frame, and hashing the image bytes each time would add up.
    _content: str = field(init=False, repr=False, compare=False)
    _fingerprint: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (self.image is None) == (self.text is None):
            raise InvalidParameter("mark", "needs exactly one of an image or a text")
        if self.image is not None:
            _check_mark_image(self.image)
        else:
            parse_text(str(self.text), "text")
            parse_font(self.font, "font")
            _in_range("font_size", self.font_size, 1, MAX_FONT_SIZE)
        object.__setattr__(self, "color", parse_color(self.color, "color"))
        if self.background is not None:
            object.__setattr__(self, "background", parse_color(self.background, "background"))
        object.__setattr__(self, "align", _valid_align(tuple(self.align)))
        _in_range("alpha", self.alpha, 0, 100)
        _in_range("pad", self.pad, 0, MAX_PAD)
        for name in ("w", "h"):
            size = getattr(self, name)
            if size is not None:
                _in_range(name, size, 1, MAX_SIDE)
        if self.scale is not None and not (isinstance(self.scale, float | int) and 0 < self.scale <= 1):
            raise InvalidParameter("scale", "must be a fraction greater than 0 and at most 1")
        object.__setattr__(self, "_content", _digest(self._content_fields()))
        placement = self._placement_fields() | {"content": self._content}
        object.__setattr__(self, "_fingerprint", _digest(placement))

    def fingerprint(self) -> str:
        """SHA-256 (hex) of every field, the image's bytes included: usable as the preset's version."""
        return self._fingerprint

    def _content_fields(self) -> dict[str, Any]:
        """What the mark's own pixels depend on, before any placement."""
        if self.image is not None:
            return {"image": hashlib.sha256(self.image).hexdigest()}
        return {
            "text": self.text,
            "font": self.font,
            "font_size": self.font_size,
            "color": self.color,
            "background": self.background,
        }

    def _placement_fields(self) -> dict[str, Any]:
        return {
            "rendering": _RENDERING,
            "align": list(self.align),
            "alpha": self.alpha,
            "scale": self.scale,
            "pad": self.pad,
            "w": self.w,
            "h": self.h,
            "tile": self.tile,
        }


def _digest(values: dict[str, Any]) -> str:
    text = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --- parsers: URL overrides and stored presets -----------------------------------------------------------


def parse_align(value: str, param: str = "mark-align") -> tuple[str, str]:
    """imgix spellings: "top,left", "left,top", "bottom", "center"… -> (vertical, horizontal).

    An axis left out is centred, as in CSS's ``background-position: left``; so are "center" and
    "middle" alone.
    """
    accepts = "top, middle or bottom and/or left, center or right, comma-separated"
    items = value.split(",")
    if len(items) > 2 or len(set(items)) != len(items):
        raise InvalidParameter(param, f"must be {accepts}")
    if items in (["center"], ["middle"]):
        return ("middle", "center")
    vertical = [item for item in items if item in VERTICAL]
    horizontal = [item for item in items if item in HORIZONTAL]
    if len(vertical) > 1 or len(horizontal) > 1 or len(vertical) + len(horizontal) != len(items):
        raise InvalidParameter(param, f"must be {accepts}")
    return (vertical[0] if vertical else "middle", horizontal[0] if horizontal else "center")


def parse_alpha(value: str, param: str = "mark-alpha") -> int:
    """Opacity in percent, 0-100."""
    return _integer(value, param, 0, 100)


def parse_scale(value: str, param: str = "mark-scale") -> float:
    """imgix ``mark-scale``: percent (0-100, decimals allowed) of the output width; returns the fraction."""
    if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,6})?", value) or not 0 < float(value) <= 100:
        raise InvalidParameter(param, "must be a percentage greater than 0 and at most 100")
    return float(value) / 100


def parse_pad(value: str, param: str = "mark-pad") -> int:
    """Distance in pixels from the edges the mark is aligned to."""
    return _integer(value, param, 0, MAX_PAD)


def parse_size(value: str, param: str) -> int:
    """``mark-w`` / ``mark-h``: a fixed size in pixels."""
    return _integer(value, param, 1, MAX_SIDE)


def parse_color(value: str, param: str) -> str:
    """Hex RGB, ARGB, RRGGBB or AARRGGBB (alpha first, as imgix) -> "rrggbb", or "aarrggbb" if translucent."""
    if not re.fullmatch(r"[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}", value):
        raise InvalidParameter(param, "must be a hex colour: RGB, ARGB, RRGGBB or AARRGGBB")
    text = value.lower()
    if len(text) <= 4:
        text = "".join(digit * 2 for digit in text)
    return text.removeprefix("ff") if len(text) == 8 else text


def parse_font(value: str, param: str) -> str:
    """A font family with optional style words ("sans", "DejaVu Serif bold").

    Letters, digits, spaces and dashes only, ending in a letter: Pango would read a trailing number as
    a size and a comma as a second family, and no font file path can get through.
    """
    if not re.fullmatch(r"[A-Za-z]([A-Za-z0-9 -]{0,62}[A-Za-z])?", value):
        raise InvalidParameter(param, "must be a font family name: letters, digits, spaces and dashes")
    return value


def parse_font_size(value: str, param: str) -> int:
    return _integer(value, param, 1, MAX_FONT_SIZE)


def parse_text(value: str, param: str) -> str:
    """One line of printable text; it is shown as written (never read as Pango markup)."""
    if not value or len(value) > MAX_TEXT or not value.isprintable():
        raise InvalidParameter(param, f"must be 1 to {MAX_TEXT} printable characters on one line")
    return value


def _integer(value: str, param: str, low: int, high: int) -> int:
    # int() alone would take " 7", "1_000" and non-ASCII digits: two spellings, one key.
    if not re.fullmatch(r"[0-9]{1,6}", value) or not low <= int(value) <= high:
        raise InvalidParameter(param, f"must be an integer between {low} and {high}")
    return int(value)


def _in_range(param: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidParameter(param, f"must be an integer between {low} and {high}")


def _valid_align(align: tuple[str, ...]) -> tuple[str, str]:
    if len(align) != 2 or align[0] not in VERTICAL or align[1] not in HORIZONTAL:
        raise InvalidParameter("align", "must be (top|middle|bottom, left|center|right)")
    return (align[0], align[1])


def _check_mark_image(data: bytes) -> None:
    if len(data) > MAX_MARK_BYTES:
        raise UnsupportedImage(f"the mark image is larger than {MAX_MARK_BYTES // (1024 * 1024)} MB")
    if sniff(data) not in _MARK_FORMATS:
        raise UnsupportedImage("a mark image must be PNG, JPEG, WebP or SVG")


# --- stamping -------------------------------------------------------------------------------------------


def apply_mark(image: Any, mark: MarkSpec) -> Any:
    """``image`` (one frame of output pixels: 8-bit grey, grey+alpha, sRGB or sRGBA) with ``mark`` stamped.

    Raises ``UnsupportedImage`` when the mark image cannot be decoded or the text cannot be rendered.
    """
    if mark.alpha == 0:
        return image
    image = _eight_bit(image)
    width, height = image.width, image.height
    # On an output too small for the pad, the pad gives way: the mark must stay on the image.
    pad_x, pad_y = min(mark.pad, width // 4), min(mark.pad, height // 4)
    source, overlay = _overlay(mark, width, (width - 2 * pad_x, height - 2 * pad_y))
    if image.bands < 3:
        if source.grey:
            overlay = overlay.extract_band(0).bandjoin(overlay.extract_band(3)).copy(interpretation="b-w")
        else:
            image = image.colourspace("srgb")
    if mark.tile:
        x, y = 0, 0
        overlay = _grid(overlay, pad_x, pad_y, mark.pad, width, height)
    else:
        x = _offset(mark.align[1], HORIZONTAL, width, overlay.width, pad_x)
        y = _offset(mark.align[0], VERTICAL, height, overlay.height, pad_y)
    stamped = image.composite2(overlay, "over", x=x, y=y)
    if not image.hasalpha():
        # composite always adds an alpha band; over an opaque frame it is 255 everywhere.
        stamped = stamped.extract_band(0, n=image.bands)
    return stamped


def prepare_mark(mark: MarkSpec) -> tuple[int, int]:
    """Decode or render ``mark`` now, and keep it; returns its natural (width, height).

    Raises what ``apply_mark`` would for the mark itself, so that a preset can be checked when it is
    saved rather than on the first request that stamps it.
    """
    with _vips_errors():
        source = _SOURCES.get(mark._content, lambda: _decode(mark))
    return source.width, source.height


def _overlay(mark: MarkSpec, output_width: int, room: tuple[int, int]) -> tuple[_Source, Any]:
    """The mark decoded, sized for this output and faded to its alpha; both steps memoised."""
    with _vips_errors():
        source = _SOURCES.get(mark._content, lambda: _decode(mark))
        size = _mark_size(mark, (source.width, source.height), output_width, room)
        key = (mark._content, *size, mark.alpha)
        return source, _SIZED.get(key, lambda: _fade(_resized(source, size), mark.alpha))


@contextmanager
def _vips_errors() -> Iterator[None]:
    try:
        yield
    except pyvips.Error as exc:
        # libvips' own text can name internals; the owner gets a fixed message, logs get the cause.
        raise UnsupportedImage("the mark could not be decoded or rendered") from exc


def _eight_bit(image: Any) -> Any:
    """The frame as 8-bit grey or sRGB, which is what the pipeline hands over; anything else is converted."""
    target = "b-w" if image.bands < 3 else "srgb"
    if image.format == "uchar" and image.interpretation == target:
        return image
    if image.format == "uchar" and image.interpretation == "multiband":
        # A plain cast or bandjoin upstream loses the label; composite must know what the bands are.
        return image.copy(interpretation=target)
    return image.colourspace(target)


def _mark_size(
    mark: MarkSpec,
    natural: tuple[int, int],
    output_width: int,
    room: tuple[int, int],
) -> tuple[int, int]:
    """Width and height of the mark on this output; ``room`` is the output less the pad on every side."""
    aspect = natural[0] / natural[1]
    width: float
    height: float
    if mark.w is not None and mark.h is not None:
        width, height = _fit_inside(aspect, mark.w, mark.h)
    elif mark.w is not None:
        width, height = mark.w, mark.w / aspect
    elif mark.h is not None:
        width, height = mark.h * aspect, mark.h
    elif mark.scale is not None:
        width, height = mark.scale * output_width, mark.scale * output_width / aspect
    else:
        width, height = natural
    room_w, room_h = max(room[0], 1), max(room[1], 1)
    if width > room_w or height > room_h:
        width, height = _fit_inside(aspect, room_w, room_h)
    return max(1, round(width)), max(1, round(height))


def _fit_inside(aspect: float, box_w: float, box_h: float) -> tuple[float, float]:
    return (box_w, box_w / aspect) if box_w / aspect <= box_h else (box_h * aspect, box_h)


def _offset(where: str, names: tuple[str, str, str], side: int, length: int, pad: int) -> int:
    start, _, end = names
    if where == start:
        return pad
    if where == end:
        return max(0, side - length - pad)
    return max(0, (side - length) // 2)


def _grid(tile: Any, pad_x: int, pad_y: int, gap: int, width: int, height: int) -> Any:
    """The mark repeated over a transparent width×height overlay, ``gap`` apart, from (pad_x, pad_y)."""
    cell = tile.embed(0, 0, tile.width + gap, tile.height + gap)  # extends with zeros: transparent
    across = math.ceil((width - pad_x) / cell.width)
    down = math.ceil((height - pad_y) / cell.height)
    return cell.replicate(across, down).embed(pad_x, pad_y, width, height)


# --- the mark's own pixels, decoded or rendered once and kept -------------------------------------------

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class _Memo(Generic[_K, _V]):
    """A least-recently-used map bounded in bytes, shared by the transform threads.

    Values are made outside the lock: two threads may each make a missing value once, which costs less
    than making every other request wait behind one decode.
    """

    def __init__(self, max_bytes: int, size_of: Callable[[_V], float]) -> None:
        self._entries: LRUCache[_K, _V] = LRUCache(maxsize=max_bytes, getsizeof=size_of)
        self._lock = threading.Lock()

    def get(self, key: _K, make: Callable[[], _V]) -> _V:
        with self._lock:
            found = self._entries.get(key)
        if found is not None:
            return found
        value = make()
        with self._lock:
            try:
                self._entries[key] = value
            except ValueError:
                pass  # larger than the whole memo: used this once, not kept
        return value


@dataclass(frozen=True, slots=True)
class _Source:
    """A mark at its natural size: 8-bit sRGB + alpha (not premultiplied), in memory, safe to share."""

    pixels: Any
    grey: bool  # no visible colour: it can go onto a grey frame without turning the frame to sRGB
    # Text and SVG are drawn again at the size asked rather than resampled, so that they stay sharp.
    redraw: Callable[[float], Any] | None

    @property
    def width(self) -> int:
        return int(self.pixels.width)

    @property
    def height(self) -> int:
        return int(self.pixels.height)


def _bytes_of(pixels: Any) -> float:
    return float(pixels.width * pixels.height * pixels.bands)


# Keyed by content (image bytes or text settings), so presets that differ only in placement share a decode.
_SOURCES: _Memo[str, _Source] = _Memo(64 * 1024 * 1024, lambda source: _bytes_of(source.pixels))
# The mark at one output size and opacity: outputs come in a few widths, and every frame of an
# animation, and every request for the same width, reuses it.
_SIZED: _Memo[tuple[str, int, int, int], Any] = _Memo(64 * 1024 * 1024, _bytes_of)


def _decode(mark: MarkSpec) -> _Source:
    if mark.image is None:
        pixels = _render_text(mark, 1.0)
        if _too_large(pixels):
            raise InvalidParameter("text", f"renders larger than {_MARK_LIMIT}: use a smaller font_size")
        return _Source(pixels, _is_grey(pixels), partial(_render_text, mark))
    data = mark.image
    pixels = _load_image(data, 1.0)
    redraw = partial(_load_image, data) if sniff(data) is SourceFormat.SVG else None
    return _Source(pixels, _is_grey(pixels), redraw)


def _load_image(data: bytes, scale: float) -> Any:
    """Decode a mark image with the loaders and limits originals get, as 8-bit sRGB + alpha."""
    header = pyvips.Image.new_from_buffer(data, "", fail_on=FAIL_ON)
    if _too_large(header):  # checked from the header, before any pixel is decoded
        raise UnsupportedImage(f"a mark image may be at most {_MARK_LIMIT}")
    # Only SVG ever gets a scale other than 1 (see _Source.redraw); the result is at most the output size.
    image = header if scale == 1 else pyvips.Image.new_from_buffer(data, "", fail_on=FAIL_ON, scale=scale)
    image = image.autorot()
    if image.get_typeof("icc-profile-data"):
        image = image.icc_transform("srgb", embedded=True)
    if image.interpretation != "srgb" or image.format != "uchar":
        image = image.colourspace("srgb")  # grey, 16-bit, CMYK without a profile
    if not image.hasalpha():
        image = image.addalpha()
    return image.extract_band(0, n=4).copy_memory()


def _too_large(image: Any) -> bool:
    width, height = image.width, image.height
    return bool(max(width, height) > MAX_MARK_SIDE or width * height > MAX_MARK_PIXELS)


def _render_text(mark: MarkSpec, factor: float) -> Any:
    size = mark.font_size * factor
    # Pango reads the text as markup: escaped, "<b>" is shown as typed and "&" cannot break the render.
    # At 72 dpi a point is a pixel, so the size is font_size pixels.
    ink = pyvips.Image.text(html.escape(str(mark.text), quote=False), font=f"{mark.font} {size:.2f}", dpi=72)
    *colour, opacity = _rgba(mark.color)
    coverage = ink if opacity == 255 else ink.linear(opacity / 255, 0.5).cast("uchar")
    pixels = ink.new_from_image(colour).bandjoin(coverage).copy(interpretation="srgb")
    if mark.background is not None:
        margin = max(1, round(size / 4))
        box = pyvips.Image.black(pixels.width + 2 * margin, pixels.height + 2 * margin, bands=4)
        box = box.new_from_image(_rgba(mark.background)).copy(interpretation="srgb")
        pixels = box.composite2(pixels, "over", x=margin, y=margin)
    return pixels.copy_memory()


def _rgba(color: str) -> list[int]:
    """Stored "rrggbb" or "aarrggbb" -> [red, green, blue, alpha]."""
    values = [int(color[i : i + 2], 16) for i in range(0, len(color), 2)]
    return values + [255] if len(values) == 3 else values[1:] + values[:1]


def _is_grey(pixels: Any) -> bool:
    red, green, blue, alpha = (pixels.extract_band(band) for band in range(4))
    spread = (red - green).abs() + (green - blue).abs()
    # Two levels of chroma cannot be seen; JPEG and resampling leave that much on a black-and-white logo.
    return bool((alpha > 0).ifthenelse(spread, 0).max() <= 2)


def _resized(source: _Source, size: tuple[int, int]) -> Any:
    pixels = source.pixels
    width, height = size
    if (pixels.width, pixels.height) == size:
        return pixels
    if source.redraw is not None:
        pixels = source.redraw(width / pixels.width)
        if (pixels.width, pixels.height) == size:
            return pixels
    # Premultiplied, so that transparent pixels' colour does not bleed into the edges.
    resized = pixels.premultiply().resize(width / pixels.width, vscale=height / pixels.height)
    # Rounded, not truncated: 254.99 must come back as the 255 it was.
    restored = resized.unpremultiply().linear(1, 0.5).cast("uchar")
    return restored.copy(interpretation="srgb").gravity("centre", width, height)


def _fade(pixels: Any, alpha: int) -> Any:
    if alpha != 100:
        faded = pixels.linear([1, 1, 1, alpha / 100], [0, 0, 0, 0.5]).cast("uchar")
        pixels = faded.copy(interpretation="srgb")
    return pixels.copy_memory()
