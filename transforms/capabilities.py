"""What this process's libvips can read and write, asked of libvips itself when first needed.

The ``pyvips-binary`` wheel decides which codecs exist (as measured with libvips 8.18: AVIF read and write
through libheif with AOM, no HEVC encoder, and no JPEG 2000, JPEG XL or PDF support at all). The refusals of
imgix's formats that depend on them say what this build lacks, rather than a fixed claim about every build.
"""

from __future__ import annotations

from functools import cache

import pyvips


@cache
def has_operation(name: str) -> bool:
    """Whether libvips was built with the operation ``name`` (``jxlsave``, ``pdfload``...)."""
    return bool(pyvips.type_find("VipsOperation", name))


def lacking(operation: str, what: str) -> str:
    """Why an imgix feature that needs ``operation`` is refused here."""
    if has_operation(operation):
        return f"this build's libvips has a {what}, which imgate does not use yet"
    return f"this build's libvips has no {what}"
