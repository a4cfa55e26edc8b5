"""Cache keys: ``{namespace}/{kind}/{escaped source key}/{variant hash}``.

The readable prefix is what makes ``imgate purge NS [PREFIX]`` a prefix listing in every store rather
than a scan; the hash covers everything that can change the bytes (source identity, canonical options,
negotiated format, mark preset version), so two requests share an entry only when their outputs are the same.
The namespace comes first and is part of the hash as well, so one workspace can never address another's entries.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

# Kept per segment; the S3 and disk stores both take these characters as they are.
_SAFE = "-._~"
_MAX_SEGMENT = 120


def _escape_segment(segment: str) -> str:
    escaped = quote(segment, safe=_SAFE)
    if escaped in ("", ".", ".."):
        escaped = "%2E" * len(segment) if segment else "%00"
    if len(escaped) > _MAX_SEGMENT:
        # Over-long segments are shortened but stay unique; a purge prefix ending inside one still matches
        # every shorter prefix of the path before it.
        digest = hashlib.sha256(segment.encode()).hexdigest()[:16]
        escaped = escaped[: _MAX_SEGMENT - 17] + "~" + digest
    return escaped


def escape_source_key(source_key: str) -> str:
    return "/".join(_escape_segment(part) for part in source_key.split("/"))


def key_prefix(namespace: str, kind: str, source_key_prefix: str = "") -> str:
    """The store prefix covering every output of ``namespace`` (and of ``source_key_prefix`` within it)."""
    if not source_key_prefix:
        return f"{namespace}/" if not kind else f"{namespace}/{kind}/"
    escaped = escape_source_key(source_key_prefix)
    return f"{namespace}/{kind}/{escaped}"


def cache_key(namespace: str, kind: str, source_key: str, source_identity: str, variant: str) -> str:
    digest = hashlib.sha256("\x00".join((namespace, kind, source_identity, variant)).encode()).hexdigest()[:40]
    return f"{namespace}/{kind}/{escape_source_key(source_key)}/{digest}"


KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}/[a-z]+/[A-Za-z0-9%._~/-]*[0-9a-f]{40}$")
