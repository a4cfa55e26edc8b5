"""Cache keys: ``{namespace}/{kind}/{escaped source key}/{variant hash}``.

The readable prefix is what makes ``imgate purge NS [PREFIX]`` a prefix listing in every store rather
than a scan; the hash covers everything that can change the bytes (source identity, canonical options,
negotiated format, mark preset version), so two requests share an entry only when their outputs are the same.
The namespace comes first and is part of the hash as well, so one workspace can never address another's entries.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from urllib.parse import quote


class Kind(StrEnum):
    """Where an original comes from: the second segment of every cache key, so a purge can list each kind."""

    ORIGIN = "o"  # the workspace's storage origin
    SRC = "src"  # an external URL (?src=)
    CAPTURE = "cap"  # a screenshot or PDF of a page (?capture=)


# Kept per segment; the S3 and disk stores both take these characters as they are.
_SAFE = "-._~"
_MAX_SEGMENT = 120


def _escape_segment(segment: str, partial: bool = False) -> str:
    """Percent-escape one path segment; ``partial`` is the unfinished last segment of a purge prefix.

    A leading dot is escaped so no segment is ever ``.`` or ``..`` on disk or in a bucket, and the same rule
    applies to partial segments, so a prefix escapes to a prefix of every key it covers.
    """
    escaped = quote(segment, safe=_SAFE)
    if escaped.startswith("."):
        escaped = "%2E" + escaped[1:]
    if not escaped and not partial:
        escaped = "%00"
    if len(escaped) > _MAX_SEGMENT and not partial:
        # Over-long segments are shortened but stay unique; a purge prefix that ends inside one covers less.
        digest = hashlib.sha256(segment.encode()).hexdigest()[:16]
        escaped = escaped[: _MAX_SEGMENT - 17] + "~" + digest
    return escaped


def escape_source_key(source_key: str, partial: bool = False) -> str:
    parts = source_key.split("/")
    escaped = [_escape_segment(part) for part in parts[:-1]]
    escaped.append(_escape_segment(parts[-1], partial))
    return "/".join(escaped)


def key_prefix(namespace: str, kind: str, source_key_prefix: str = "") -> str:
    """The store prefix covering every output of ``namespace`` (and of ``source_key_prefix`` within it)."""
    if not kind:
        return f"{namespace}/"
    if not source_key_prefix:
        return f"{namespace}/{kind}/"
    return f"{namespace}/{kind}/{escape_source_key(source_key_prefix, partial=True)}"


def cache_key(namespace: str, kind: str, source_key: str, source_identity: str, variant: str) -> str:
    digest = hashlib.sha256("\x00".join((namespace, kind, source_identity, variant)).encode()).hexdigest()[:40]
    return f"{namespace}/{kind}/{escape_source_key(source_key)}/{digest}"


KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}/[a-z]+/[A-Za-z0-9%._~/-]*[0-9a-f]{40}$")
