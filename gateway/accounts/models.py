"""Workspace records: the workspace, its marks and its rules.

Frozen: a change is a new record with a new ``revision``. People (users, memberships), API keys, audit rows,
plans and billing state have modules of their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.accounts.billing import Billing
from gateway.accounts.networks import check_allowlist
from gateway.accounts.plans import PLAN_TIERS, PlanLimits, PlanOverrides, effective_limits
from gateway.accounts.presets import TransformPreset, check_url_shaping
from gateway.accounts.signing import SigningKey, check_signing

NAMESPACE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
ORIGIN_KINDS = ("none", "local", "http", "s3")
IMGIX_COMPAT_MODES = ("strict", "lenient")
PLANS = PLAN_TIERS


# A fallback image is a key in the workspace's origin: plain printable text, no leading slash, no "..".
_FALLBACK_IMAGE_MAX = 1024
_FALLBACK_IMAGE_RE = re.compile(r"[^\x00-\x1f\x7f]+")


def check_fallback_image(key: str) -> None:
    if not key:
        return
    if len(key) > _FALLBACK_IMAGE_MAX or not _FALLBACK_IMAGE_RE.fullmatch(key):
        raise ValueError(f"fallback image must be a key of at most {_FALLBACK_IMAGE_MAX} printable characters")
    if key.startswith("/") or ".." in key.split("/"):
        raise ValueError("fallback image must be a key inside the origin (no leading / and no ..)")


def validate_namespace(namespace: str) -> str:
    if not NAMESPACE_RE.fullmatch(namespace):
        raise ValueError("namespace must be 2-63 characters of a-z, 0-9 and '-', starting with a letter or digit")
    return namespace


def retention_allowed(capture_retention: int, limits: PlanLimits) -> int:
    """A workspace's ``capture_retention`` capped by the longest retention its ``limits`` offer: a choice made
    on a bigger plan is not honoured past a downgrade (it stays stored, and applies again after an upgrade).
    For a caller that has worked out the workspace's ``limits()`` already (``gateway.tenancy.Tenant``)."""
    return min(capture_retention, max(limits.capture_retention_options))


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
    # Capture domains switched off (each one of ``allowed_capture_domains``, as spelled there): no new capture
    # of their pages is taken, and captures already rendered are still served until they expire.
    disabled_capture_domains: tuple[str, ...] = ()
    # Networks (CIDR, normal form) the management API accepts this workspace's clients from; empty = any.
    ip_allowlist: tuple[str, ...] = ()
    # Seconds a capture's output is kept in the caches; 0 = deliver and keep nothing.
    capture_retention: int = 86400
    # Whether its custom domains answer with Strict-Transport-Security (over HTTPS): the customer's choice, since
    # HSTS binds their hostname to HTTPS for two years; off by default.
    custom_domain_hsts: bool = False
    plan: str = "free"
    # An operator's exceptions to the plan's limits; ``plans.effective_limits`` combines the two.
    limit_overrides: PlanOverrides = field(default_factory=PlanOverrides)
    billing: Billing = field(default_factory=Billing)
    # Signed image URLs (``gateway.policy.signing``): "off" or "required", and the active secrets, sealed.
    signing: str = "off"
    signing_keys: tuple[SigningKey, ...] = field(default=(), repr=False)
    # URL shaping (``gateway.policy.presets``): named presets, parameters every URL gets, allowed widths.
    presets: tuple[TransformPreset, ...] = ()
    default_params: str = ""
    allowed_widths: tuple[int, ...] = ()
    width_rounding: str = "up"
    # imgix migration mode: "strict" refuses imgix parameters imgate does not implement; "lenient" renders
    # without them, leaves them out of the cache key and names them in X-Imgate-Ignored.
    imgix_compat: str = "strict"
    # Outputs keep the source's copyright and artist (EXIF, IPTC, XMP) while every other piece of metadata is
    # stripped (transforms.copyright); off by default, since even a name can be personal data.
    keep_copyright: bool = False
    # A key on the workspace's own origin answered, with the error's status, instead of a JSON error on image
    # routes (gateway.delivery.fallback); "" = off.
    fallback_image: str = ""
    # Capture jobs may take http:// pages and webhooks (gateway.admin.captures), within the gateway's own
    # ``capture_jobs_allow_http`` (the operator's ceiling); off: https only.
    capture_jobs_allow_http: bool = False
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
        object.__setattr__(self, "ip_allowlist", check_allowlist(self.ip_allowlist))
        check_signing(self.signing, self.signing_keys)
        check_url_shaping(self.presets, self.allowed_widths, self.width_rounding)
        if self.imgix_compat not in IMGIX_COMPAT_MODES:
            raise ValueError("imgix compatibility must be strict or lenient")
        check_fallback_image(self.fallback_image)

    def limits(self) -> PlanLimits:
        """What this workspace may do: its plan with the operator's overrides."""
        return effective_limits(self.plan, self.limit_overrides)

    def retention_in_force(self) -> int:
        """``capture_retention`` as the plan allows it now (``retention_allowed``)."""
        return retention_allowed(self.capture_retention, self.limits())

    def purged_after(self, source_key: str) -> float:
        """The latest purge covering ``source_key``, at least the workspace's creation: older outputs are stale.

        Creation counts as a purge of everything because a namespace can be deleted and created again: the
        memory tiers of other processes may still hold outputs of the deleted workspace, which must never
        be served to the new one.
        """
        latest = self.created_at
        for marker in self.purges:
            if source_key.startswith(marker.prefix) and marker.at > latest:
                latest = marker.at
        return latest


MARK_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
MARK_KINDS = ("image", "text")


@dataclass(frozen=True, slots=True)
class MarkPreset:
    """A named watermark of a workspace: an image (a key in the workspace's origin, or uploaded bytes) or text.

    Placement fields use the URL overrides' vocabulary (``mark-align`` …) and are validated by the same parsers.
    """

    namespace: str
    name: str
    kind: str = "image"
    image_key: str = ""
    image_data: bytes = field(default=b"", repr=False)
    text: str = ""
    font: str = "sans"
    font_size: int = 32
    color: str = "ffffff"
    background: str = ""
    align: str = "bottom,right"
    alpha: int = 100
    scale: float | None = None
    pad: int = 10
    w: int | None = None
    h: int | None = None
    tile: bool = False
    updated_at: float = 0.0

    def __post_init__(self) -> None:
        if not MARK_NAME_RE.fullmatch(self.name) or self.name == "none":
            raise ValueError("mark name must be 1-63 characters of a-z, 0-9, '-' and '_' (and not 'none')")
        if self.kind not in MARK_KINDS:
            raise ValueError("mark kind must be image or text")
        if self.kind == "image" and not (self.image_key or self.image_data):
            raise ValueError("an image mark needs an image key in the origin or an uploaded image")
        if self.kind == "text" and not self.text:
            raise ValueError("a text mark needs text")


@dataclass(frozen=True, slots=True)
class MarkRule:
    """Stamp ``preset`` on every output whose source matches; the first matching rule (lowest position) wins."""

    namespace: str
    rule_id: int
    position: int
    preset: str
    key_patterns: tuple[str, ...] = ()
    src_host_patterns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (self.key_patterns or self.src_host_patterns):
            raise ValueError("a rule needs at least one key pattern or external source host pattern")
