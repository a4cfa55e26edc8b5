"""Which output format: first from the URL and Accept (before any byte of the source), then from the source.

The first half runs on the request path, so the cache key can include the answer without fetching
the original; ``None`` there means "the source's own format family", settled by the pipeline once
it has read the source's header.
"""

from __future__ import annotations

from transforms.options import Auto, Format, TransformOptions

# Most capable first: AVIF is smaller than WebP at the same quality.
_NEGOTIATED = (("image/avif", Format.AVIF), ("image/webp", Format.WEBP))

# Source formats browsers display natively stay in their family.
_SAME_FAMILY = {
    "jpeg": Format.JPG,
    "png": Format.PNG,
    "webp": Format.WEBP,
    "gif": Format.GIF,
    "avif": Format.AVIF,
}


def choose_format(options: TransformOptions, accept: str | None) -> tuple[Format | None, bool]:
    """(format or None for "same family as the source", whether the answer depended on Accept)."""
    if options.fm is not None:
        return options.fm, False
    if Auto.FORMAT not in options.auto:
        return None, False
    accepted = accepted_types(accept or "")
    for media_type, fmt in _NEGOTIATED:
        if media_type in accepted:
            return fmt, True
    return None, True


def output_for_source(chosen: Format | None, source_format: str, has_alpha: bool) -> Format:
    """Settle ``None`` from ``choose_format`` once the source format is known.

    HEIC, TIFF and SVG are not safe to send to every browser (and SVG would need sanitising), so
    they become PNG when they have transparency and JPEG otherwise.
    """
    if chosen is not None:
        return chosen
    same = _SAME_FAMILY.get(source_format)
    if same is not None:
        return same
    return Format.PNG if has_alpha else Format.JPG


def keep_animation(output: Format, options: TransformOptions, animated_source: bool) -> Format:
    """An animation stays animated under auto=format: AVIF, negotiated before the source was read, becomes WebP.

    libvips writes AVIF as a still, and every browser that takes AVIF takes WebP. The result still
    depends only on (options, chosen format, source), so the cache key stays right.
    """
    negotiated = options.fm is None and Auto.FORMAT in options.auto
    if animated_source and negotiated and output is Format.AVIF and options.frame is None:
        return Format.WEBP
    return output


def accepted_types(accept: str) -> frozenset[str]:
    """Media types an Accept header lists explicitly with a non-zero q.

    Wildcards are not counted: browsers send ``*/*`` whether or not they decode AVIF.
    """
    types: set[str] = set()
    for entry in accept.split(","):
        media_type, *params = entry.split(";")
        if _quality(params) > 0:
            types.add(media_type.strip().lower())
    return frozenset(types)


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 0.0  # unreadable: not acceptable, the source family is always safe
            return quality if 0 < quality <= 1 else 0.0
    return 1.0
