"""Account records. Frozen: a change is a new record with a new ``revision``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

NAMESPACE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
ORIGIN_KINDS = ("none", "local", "http", "s3")
PLANS = ("free", "pro", "business")


def validate_namespace(namespace: str) -> str:
    if not NAMESPACE_RE.fullmatch(namespace):
        raise ValueError("namespace must be 2-63 characters of a-z, 0-9 and '-', starting with a letter or digit")
    return namespace


@dataclass(frozen=True, slots=True)
class PurgeMarker:
    """Outputs of source keys starting with ``prefix`` rendered before ``at`` are stale."""

    prefix: str
    at: float


@dataclass(frozen=True, slots=True)
class Workspace:
    namespace: str
    active: bool = True
    origin_kind: str = "none"
    # Non-secret origin settings: root (local), base_url (http), bucket/prefix/region/endpoint_url/
    # addressing_style/access_key_id (s3).
    origin: Mapping[str, str] = field(default_factory=dict)
    # The origin's secret (an S3 secret access key), sealed with the gateway's Fernet key; never in clear here.
    origin_secret_sealed: str = field(default="", repr=False)
    # New workspaces start permissive so URLs work at once; owners tighten them for production.
    allowed_origins: tuple[str, ...] = ("*",)
    allowed_sources: tuple[str, ...] = ("*",)
    allowed_capture_domains: tuple[str, ...] = ()
    # Seconds a capture's output is kept in the caches; 0 = deliver and keep nothing.
    capture_retention: int = 86400
    plan: str = "free"
    purges: tuple[PurgeMarker, ...] = ()
    created_at: float = 0.0
    revision: int = 0

    def __post_init__(self) -> None:
        validate_namespace(self.namespace)
        if self.origin_kind not in ORIGIN_KINDS:
            raise ValueError(f"origin kind must be one of {', '.join(ORIGIN_KINDS)}")
        if self.plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}")
        if self.capture_retention < 0:
            raise ValueError("capture retention must be 0 or more seconds")

    def purged_after(self, source_key: str) -> float:
        """The latest purge covering ``source_key`` (0 when none): cached outputs older than that are stale."""
        latest = 0.0
        for marker in self.purges:
            if source_key.startswith(marker.prefix) and marker.at > latest:
                latest = marker.at
        return latest
