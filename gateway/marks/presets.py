"""``mark_spec``: a stored mark preset plus a request's ``mark-*`` overrides -> the ``MarkSpec`` to stamp.

The one place a preset becomes pixels-side settings. The request path calls it with the overrides of the URL;
the admin layer calls it with none when a preset is saved, so a preset that would fail on a request is refused
when it is stored. Every field goes through it: placement (align, alpha, scale, pad, w, h, tile) and content
(image bytes, or text, font, size, colours), each validated by ``MarkSpec`` or the URL vocabulary's parsers.

Errors are ``transforms.errors.InvalidParameter`` naming the field: the override's URL name (``mark-alpha``)
for a value from the URL, the preset's field name (``alpha``, ``align``) for a stored one. A mark image that is
not PNG, JPEG, WebP or SVG is ``UnsupportedImage``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from gateway.accounts.models import MarkPreset
from transforms.errors import InvalidParameter
from transforms.marks import (
    MARK_OVERRIDES,
    MarkSpec,
    parse_align,
    parse_alpha,
    parse_pad,
    parse_scale,
    parse_size,
)

_T = TypeVar("_T")
_NO_OVERRIDES: Mapping[str, str] = {}


def mark_spec(preset: MarkPreset, image: bytes | None, overrides: Mapping[str, str] = _NO_OVERRIDES) -> MarkSpec:
    """The spec for ``preset`` (its image's bytes in ``image`` for an image mark) with URL ``overrides``.

    ``overrides`` maps ``mark-align``, ``mark-alpha``, ``mark-scale``, ``mark-pad``, ``mark-w`` and ``mark-h``
    to their raw URL values; any other name is refused.
    """
    unknown = sorted(set(overrides) - MARK_OVERRIDES)
    if unknown:
        raise InvalidParameter(unknown[0], "not a mark override")

    def pick(name: str, parse: Callable[[str, str], _T], stored: _T) -> _T:
        param = f"mark-{name}"
        return parse(overrides[param], param) if param in overrides else stored

    align = (
        parse_align(overrides["mark-align"], "mark-align")
        if "mark-align" in overrides
        else parse_align(preset.align, "align")
    )
    alpha = pick("alpha", parse_alpha, preset.alpha)
    scale = pick("scale", parse_scale, preset.scale)
    pad = pick("pad", parse_pad, preset.pad)
    w = pick("w", parse_size, preset.w)
    h = pick("h", parse_size, preset.h)
    if preset.kind == "text":
        return MarkSpec(
            text=preset.text,
            font=preset.font,
            font_size=preset.font_size,
            color=preset.color,
            background=preset.background or None,
            align=align,
            alpha=alpha,
            scale=scale,
            pad=pad,
            w=w,
            h=h,
            tile=preset.tile,
        )
    return MarkSpec(image=image, align=align, alpha=alpha, scale=scale, pad=pad, w=w, h=h, tile=preset.tile)
